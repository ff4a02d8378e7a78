import { randomBytes } from 'node:crypto';
import {
  type CallbackCipher,
  decodeEncodingAesKey,
  encrypt,
  signature,
} from '../../lib/crypto/wxBizMsgCrypt';
import type { CallbackPusher } from '../callbacks';
import { HOUR, MP_OK, randomId, type SimClock, signingTimestamp, WxError } from '../core';
import type { MediaStore } from '../media';
import { type Body, objectBody } from '../params';

const TOKEN_TTL_MS = 7200_000;
const OVERLAP_MS = 300_000;
const WINDOW_MS = 48 * HOUR;
/** A follow, QR scan or click / scan-code menu event opens 3 replies for 1 minute; other menu types none (reference, Corrections). */
const EVENT_GRANTS = new Set(['subscribe', 'SCAN', 'CLICK', 'scancode_push', 'scancode_waitmsg']);
const EVENT_WINDOW_MS = 60_000;
const EVENT_REPLIES = 3;

export type MpPushMode = 'plaintext' | 'compatible' | 'safe';

export interface MpUser {
  /** 0 when the follower has only triggered events. */
  lastMessageAt: number;
  repliesLeft: number;
  lastEventAt?: number;
  eventRepliesLeft?: number;
  typingUntil?: number;
}

export interface MpApp {
  readonly appId: string;
  readonly secret: string;
  readonly token: string;
  readonly encodingAesKey?: string;
  /** The account's original id, the ToUserName of every push. */
  readonly originalId: string;
  callbackUrl?: string;
  /** The 消息加解密方式: safe pushes only ciphertext, compatible plaintext and ciphertext in one body. */
  mode: MpPushMode;
  /** The new customer service is switched on; without it every customer-service API answers 65400. */
  customServiceEnabled: boolean;
  readonly kfAccounts: Map<string, MpKfAccount>;
  readonly sessions: Map<string, { kfAccount: string; createdAt: number }>;
  readonly users: Map<string, MpUser>;
  readonly records: {
    id: number;
    openid: string;
    opercode: 2002 | 2003;
    text: string;
    time: number;
    worker: string;
  }[];
  stableForceRefreshes: number[];
}

export interface MpKfAccount {
  readonly kfAccount: string;
  readonly kfId: string;
  nickname: string;
  headImgUrl: string;
  kfWx?: string;
  invite?: { wx: string; expiresAt: number; status: 'waiting' | 'rejected' | 'expired' };
  online: boolean;
}

interface MpToken {
  readonly token: string;
  readonly appId: string;
  readonly stable: boolean;
  expiresAt: number;
}

export interface MpSent {
  readonly appId: string;
  readonly touser: string;
  readonly msgtype: string;
  readonly body: Body;
  readonly kfAccount?: string;
  readonly at: number;
}

/** Official Account customer-service behaviour (reference §12). */
export class MpWorld {
  readonly apps = new Map<string, MpApp>();
  readonly tokens = new Map<string, MpToken>();
  readonly sent: MpSent[] = [];
  readonly typings: { appId: string; touser: string; command: string; at: number }[] = [];

  constructor(
    readonly clock: SimClock,
    readonly media: MediaStore,
  ) {}

  addApp(options: {
    appId: string;
    secret: string;
    token: string;
    encodingAesKey?: string;
    callbackUrl?: string;
    mode?: MpPushMode;
    customServiceEnabled?: boolean;
  }): MpApp {
    const app: MpApp = {
      ...options,
      customServiceEnabled: options.customServiceEnabled ?? true,
      originalId: `gh_${options.appId.slice(-12)}`,
      mode: options.mode ?? (options.encodingAesKey ? 'safe' : 'plaintext'),
      kfAccounts: new Map(),
      sessions: new Map(),
      users: new Map(),
      records: [],
      stableForceRefreshes: [],
    };
    this.apps.set(app.appId, app);
    return app;
  }

  private credentials(appId: unknown, secret: unknown): MpApp {
    const app = typeof appId === 'string' ? this.apps.get(appId) : undefined;
    if (!app) throw new WxError(40013, 'invalid appid');
    if (secret !== app.secret) throw new WxError(40001, 'invalid credential');
    return app;
  }

  private issue(appId: string, stable: boolean): MpToken {
    const token: MpToken = {
      token: randomId('', 136),
      appId,
      stable,
      expiresAt: this.clock.now() + TOKEN_TTL_MS,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  private current(appId: string, stable: boolean): MpToken[] {
    const now = this.clock.now();
    return [...this.tokens.values()].filter(
      (t) => t.appId === appId && t.stable === stable && t.expiresAt > now,
    );
  }

  /** `/cgi-bin/token`: every call issues a new token; the previous one keeps working for 5 minutes. */
  getToken(grantType: string | null, appId: string | null, secret: string | null) {
    if (grantType !== 'client_credential') throw new WxError(40002, 'invalid grant_type');
    const app = this.credentials(appId, secret);
    const now = this.clock.now();
    for (const old of this.current(app.appId, false))
      old.expiresAt = Math.min(old.expiresAt, now + OVERLAP_MS);
    return { access_token: this.issue(app.appId, false).token, expires_in: TOKEN_TTL_MS / 1000 };
  }

  /**
   * `/cgi-bin/stable_token`: the same token while valid, renewed by the platform in its last 5 minutes (both
   * valid meanwhile); `force_refresh` replaces it at once, at most 20 times a day and 30 s apart.
   */
  getStableToken(body: Body) {
    if (body.grant_type !== 'client_credential') throw new WxError(40002, 'invalid grant_type');
    const app = this.credentials(body.appid, body.secret);
    const now = this.clock.now();
    const live = this.current(app.appId, true).sort((a, b) => b.expiresAt - a.expiresAt);
    if (body.force_refresh === true) {
      const today = app.stableForceRefreshes.filter((at) => at > now - 24 * HOUR);
      if (today.length >= 20 || (today.at(-1) ?? 0) > now - 30_000)
        throw new WxError(45009, 'reach max api daily quota limit');
      today.push(now);
      app.stableForceRefreshes = today;
      for (const old of live) old.expiresAt = now;
      return { access_token: this.issue(app.appId, true).token, expires_in: TOKEN_TTL_MS / 1000 };
    }
    const newest = live[0];
    const token = newest && newest.expiresAt - now > OVERLAP_MS ? newest : this.issue(app.appId, true);
    return { access_token: token.token, expires_in: Math.floor((token.expiresAt - now) / 1000) };
  }

  authenticate(accessToken: string | null): MpApp {
    if (!accessToken) throw new WxError(41001, 'access_token missing');
    const token = this.tokens.get(accessToken);
    if (!token) throw new WxError(40001, 'invalid credential, access_token is invalid or not latest');
    if (token.expiresAt <= this.clock.now()) throw new WxError(42001, 'access_token expired');
    const app = this.apps.get(token.appId);
    if (!app) throw new WxError(40001, 'invalid credential');
    return app;
  }

  invalidateTokens(how: 'expire' | 'revoke', appId?: string): number {
    let count = 0;
    for (const token of this.tokens.values()) {
      if (appId && token.appId !== appId) continue;
      if (how === 'expire') token.expiresAt = Math.min(token.expiresAt, this.clock.now());
      else this.tokens.delete(token.token);
      count++;
    }
    return count;
  }

  /** A follower writes to the account: MP pushes it to the server URL, plaintext or safe mode, retried on failure. */
  userWrites(
    pusher: CallbackPusher,
    appId: string,
    openid: string,
    message: Record<string, string | number>,
  ): string {
    const app = this.apps.get(appId);
    if (!app) throw new WxError(40013, 'invalid appid');
    const now = this.clock.now();
    const isEvent = message.MsgType === 'event';
    const msgId = isEvent
      ? undefined
      : String(BigInt(now) * 1000n + BigInt(randomBytes(2).readUInt16BE() % 1000));
    const user = app.users.get(openid) ?? { lastMessageAt: 0, repliesLeft: 0 };
    app.users.set(openid, user);
    if (isEvent && EVENT_GRANTS.has(String(message.Event))) {
      user.lastEventAt = now;
      user.eventRepliesLeft = EVENT_REPLIES;
    }
    if (!isEvent) {
      user.lastMessageAt = now;
      user.repliesLeft = 5;
      const session = app.sessions.get(openid);
      if (session)
        this.record(app, openid, 2003, String(message.Content ?? `[${message.MsgType}]`), session.kfAccount);
    }
    if (!app.callbackUrl) return msgId ?? '';
    const fields = Object.entries({
      ToUserName: app.originalId,
      FromUserName: openid,
      CreateTime: Math.floor(now / 1000),
      ...message,
      ...(msgId && { MsgId: msgId }),
    });
    const elements = fields
      .map(([name, value]) =>
        typeof value === 'number' ? `<${name}>${value}</${name}>` : `<${name}><![CDATA[${value}]]></${name}>`,
      )
      .join('');
    const xml = `<xml>${elements}</xml>`;
    pusher.push(app.appId, app.callbackUrl, () => {
      const timestamp = signingTimestamp();
      const nonce = String(randomBytes(4).readUInt32BE());
      const query: Record<string, string> = {
        signature: signature(app.token, timestamp, nonce),
        timestamp,
        nonce,
        openid,
      };
      if (app.mode === 'plaintext' || !app.encodingAesKey)
        return { query: new URLSearchParams(query).toString(), body: xml };
      const cipher: CallbackCipher = {
        token: app.token,
        receiveId: app.appId,
        aesKey: decodeEncodingAesKey(app.encodingAesKey),
      };
      const encrypted = encrypt(cipher, xml);
      query.encrypt_type = 'aes';
      query.msg_signature = signature(app.token, timestamp, nonce, encrypted);
      // Compatible mode sends the plaintext message and its ciphertext in one body; safe mode the ciphertext only.
      const plaintext =
        app.mode === 'compatible' ? elements : `<ToUserName><![CDATA[${app.originalId}]]></ToUserName>`;
      return {
        query: new URLSearchParams(query).toString(),
        body: `<xml>${plaintext}<Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
      };
    });
    return msgId ?? '';
  }

  record(app: MpApp, openid: string, opercode: 2002 | 2003, text: string, worker: string): void {
    app.records.push({
      id: app.records.length + 1,
      openid,
      opercode,
      text,
      time: this.clock.nowSeconds(),
      worker,
    });
  }

  /** `message/custom/send`: 48 h after the follower's last message (45015), 5 messages per message (45047). */
  send(app: MpApp, input: Body) {
    const body = objectBody(input);
    const touser = body.touser;
    const msgtype = body.msgtype;
    if (typeof touser !== 'string' || !touser) throw new WxError(40003, 'invalid openid');
    const part = objectBody(body[String(msgtype)] ?? null);
    const text = (value: unknown, field: string) => {
      if (typeof value !== 'string' || value === '') throw new WxError(44004, `empty ${field}`);
      return value;
    };
    const media = (value: unknown) => {
      if (typeof value !== 'string' || !this.media.valid(app.appId, value))
        throw new WxError(40007, 'invalid media_id');
    };
    switch (msgtype) {
      case 'text':
        text(part.content, 'content');
        break;
      case 'image':
      case 'voice':
        media(part.media_id);
        break;
      case 'video':
        media(part.media_id);
        if (part.thumb_media_id !== undefined) media(part.thumb_media_id);
        break;
      case 'music':
        text(part.musicurl, 'musicurl');
        media(part.thumb_media_id);
        break;
      case 'news': {
        const articles = part.articles;
        if (!Array.isArray(articles) || articles.length === 0) throw new WxError(44003, 'empty news data');
        if (articles.length > 1) throw new WxError(45008, 'article size out of limit');
        break;
      }
      case 'mpnews':
        text(part.media_id, 'media_id');
        break;
      case 'mpnewsarticle':
        text(part.article_id, 'article_id');
        break;
      case 'msgmenu':
        if (!Array.isArray(part.list) || part.list.length === 0)
          throw new WxError(40058, 'invalid msgmenu list');
        break;
      case 'wxcard':
        text(part.card_id, 'card_id');
        break;
      case 'miniprogrampage':
        text(part.appid, 'appid');
        text(part.pagepath, 'pagepath');
        media(part.thumb_media_id);
        break;
      default:
        throw new WxError(40008, 'invalid message type');
    }
    const user = app.users.get(touser);
    const now = this.clock.now();
    // The event's short allowance is spent first (UNVERIFIED order; the platform documents both quotas only).
    const eventOpen = (user?.lastEventAt ?? 0) > now - EVENT_WINDOW_MS && (user?.eventRepliesLeft ?? 0) > 0;
    const messageOpen = user !== undefined && user.lastMessageAt > now - WINDOW_MS;
    if (!user || (!eventOpen && !messageOpen))
      throw new WxError(45015, 'response out of time limit or subscription is canceled');
    if (eventOpen) user.eventRepliesLeft = (user.eventRepliesLeft ?? 0) - 1;
    else if (user.repliesLeft <= 0) throw new WxError(45047, 'out of response count limit');
    else user.repliesLeft--;
    user.typingUntil = undefined;
    const kfAccount = (body.customservice as { kf_account?: string } | undefined)?.kf_account;
    if (kfAccount)
      this.record(
        app,
        touser,
        2002,
        typeof part.content === 'string' ? part.content : `[${String(msgtype)}]`,
        kfAccount,
      );
    this.sent.push({
      appId: app.appId,
      touser,
      msgtype: String(msgtype),
      body: part,
      ...(kfAccount && { kfAccount }),
      at: now,
    });
    return MP_OK;
  }

  /** `message/custom/typing`: needs a message in the last 30 s; lasts 15 s and cannot be repeated meanwhile. */
  typing(app: MpApp, body: Body) {
    const user = typeof body.touser === 'string' ? app.users.get(body.touser) : undefined;
    const now = this.clock.now();
    if (body.command !== 'Typing' && body.command !== 'CancelTyping')
      throw new WxError(45072, 'command invalid');
    if (!user || Math.max(user.lastMessageAt, user.lastEventAt ?? 0) <= now - 30_000)
      throw new WxError(45080, 'no message from user in 30 seconds');
    if (body.command === 'CancelTyping') {
      user.typingUntil = undefined;
      this.typings.push({ appId: app.appId, touser: body.touser as string, command: body.command, at: now });
      return MP_OK;
    }
    if ((user.typingUntil ?? 0) > now) throw new WxError(45081, 'typing is in progress');
    user.typingUntil = now + 15_000;
    this.typings.push({ appId: app.appId, touser: body.touser as string, command: body.command, at: now });
    return MP_OK;
  }

  reset(): void {
    this.apps.clear();
    this.tokens.clear();
    this.sent.length = 0;
    this.typings.length = 0;
  }
}
