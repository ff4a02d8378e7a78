import { randomBytes } from 'node:crypto';
import {
  type CallbackCipher,
  decodeEncodingAesKey,
  encrypt,
  signature,
} from '../../lib/crypto/wxBizMsgCrypt';
import { ERRCODES } from '../../lib/platform/errcodes';
import type { CallbackPusher } from '../callbacks';
import { randomId, signingTimestamp, WxError } from '../core';
import type { FaultKind } from '../faults';
import {
  type Body,
  invalid,
  objectBody,
  optionalInt,
  optionalString,
  requiredString,
  truncateBytes,
} from '../params';
import type { KfAccount } from './model';
import {
  CALLBACK_TOKEN_TTL_MS,
  REPLIES_PER_MESSAGE,
  REPLY_WINDOW_MS,
  RETENTION_MS,
  type WecomWorld,
} from './world';

const MSGID = /^[0-9a-zA-Z_-]{1,32}$/;

/** Pushes `kf_msg_or_event` to the corp's callback URL with a fresh Token, valid 10 minutes. */
export function notify(world: WecomWorld, pusher: CallbackPusher, account: KfAccount): void {
  const corp = world.corp(account.corpId);
  if (!corp.callback) return;
  const { url, token: callbackToken, encodingAesKey } = corp.callback;
  const cipher: CallbackCipher = {
    token: callbackToken,
    receiveId: corp.corpId,
    aesKey: decodeEncodingAesKey(encodingAesKey),
  };
  const token = `ENC${randomId('', 44)}`;
  world.callbackTokens.set(token, {
    corpId: corp.corpId,
    openKfId: account.openKfId,
    expiresAt: world.clock.now() + CALLBACK_TOKEN_TTL_MS,
  });
  pusher.push(corp.corpId, url, () => {
    const timestamp = signingTimestamp();
    const nonce = String(randomBytes(4).readUInt32BE());
    const xml = `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><CreateTime>${world.clock.nowSeconds()}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[${token}]]></Token><OpenKfId><![CDATA[${account.openKfId}]]></OpenKfId></xml>`;
    const encrypted = encrypt(cipher, xml);
    const query = new URLSearchParams({
      msg_signature: signature(cipher.token, timestamp, nonce, encrypted),
      timestamp,
      nonce,
    });
    return {
      query: query.toString(),
      body: `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>`,
    };
  });
}

/** A customer (origin 3) writes: the session (re)opens, the reply quota resets, the app is called back. */
export function customerWrites(
  world: WecomWorld,
  pusher: CallbackPusher,
  openKfId: string,
  externalUserId: string,
  message: Body,
): string {
  const account = requireAccount(world, openKfId);
  const now = world.clock.now();
  const session = world.session(account, externalUserId);
  if (session.state === 4) {
    session.state = 0;
    session.startedAt = now;
    session.servicerUserId = undefined;
  }
  session.lastCustomerMessageAt = now;
  session.repliesLeft = REPLIES_PER_MESSAGE;
  world.customer(externalUserId).lastActiveAt.set(openKfId, now);
  world.record({
    kind: 'customer_message',
    at: now,
    openKfId,
    externalUserId,
    ...(session.state === 3 && { servicerUserId: session.servicerUserId }),
  });
  const msgid = randomId('', 32);
  world.append(account, {
    msgid,
    open_kfid: openKfId,
    external_userid: externalUserId,
    send_time: world.clock.nowSeconds(),
    origin: 3,
    ...message,
  });
  notify(world, pusher, account);
  return msgid;
}

/** A servicer writes from the WeCom client (origin 5); writing into an ended session takes it back (change_type 4). */
export function servicerWrites(
  world: WecomWorld,
  pusher: CallbackPusher,
  openKfId: string,
  externalUserId: string,
  servicerUserId: string,
  message: Body,
): string {
  const account = requireAccount(world, openKfId);
  const session = world.session(account, externalUserId);
  const now = world.clock.now();
  if (session.state === 4) {
    session.state = 3;
    session.servicerUserId = servicerUserId;
    session.startedAt = now;
    appendEvent(world, account, {
      event_type: 'session_status_change',
      open_kfid: openKfId,
      external_userid: externalUserId,
      change_type: 4,
      new_servicer_userid: servicerUserId,
    });
  }
  const delay =
    session.lastCustomerMessageAt === undefined
      ? undefined
      : Math.round((now - session.lastCustomerMessageAt) / 1000);
  world.record({
    kind: 'servicer_reply',
    at: now,
    openKfId,
    externalUserId,
    servicerUserId,
    ...(delay !== undefined && { replyDelaySec: delay }),
  });
  const msgid = randomId('', 32);
  world.append(account, {
    msgid,
    open_kfid: openKfId,
    external_userid: externalUserId,
    servicer_userid: servicerUserId,
    send_time: world.clock.nowSeconds(),
    origin: 5,
    ...message,
  });
  notify(world, pusher, account);
  return msgid;
}

/** Appends a system event (origin 4); open_kfid and external_userid live inside `event`, as WeCom sends them. */
export function appendEvent(world: WecomWorld, account: KfAccount, event: Body): void {
  world.append(account, {
    msgid: randomId('', 32),
    send_time: world.clock.nowSeconds(),
    origin: 4,
    msgtype: 'event',
    event,
  });
}

export function pushEvent(world: WecomWorld, pusher: CallbackPusher, openKfId: string, event: Body): void {
  const account = requireAccount(world, openKfId);
  appendEvent(world, account, { open_kfid: openKfId, ...event });
  notify(world, pusher, account);
}

/** A customer opens a contact link: enter_session, with a welcome_code when no welcome came in 48 h and they have not written. */
export function enterSession(
  world: WecomWorld,
  pusher: CallbackPusher,
  openKfId: string,
  externalUserId: string,
  scene = '',
  sceneParam = '',
): string | undefined {
  const account = requireAccount(world, openKfId);
  const now = world.clock.now();
  const session = world.session(account, externalUserId);
  const customer = world.customer(externalUserId);
  customer.lastActiveAt.set(openKfId, now);
  customer.enterSessionContext = { scene, scene_param: sceneParam };
  const recentlyWelcomed =
    session.lastWelcomeAt !== undefined && session.lastWelcomeAt > now - REPLY_WINDOW_MS;
  const hasWritten =
    session.lastCustomerMessageAt !== undefined && session.lastCustomerMessageAt > now - REPLY_WINDOW_MS;
  const welcomeCode =
    recentlyWelcomed || hasWritten
      ? undefined
      : world.issueCode(account, externalUserId, 'welcome', session.state);
  appendEvent(world, account, {
    event_type: 'enter_session',
    open_kfid: openKfId,
    external_userid: externalUserId,
    scene,
    scene_param: sceneParam,
    ...(welcomeCode && { welcome_code: welcomeCode }),
  });
  notify(world, pusher, account);
  return welcomeCode;
}

/** A servicer moves a session in the WeCom client: take from the pool (1), transfer (2) or end (3). */
export function servicerChangesSession(
  world: WecomWorld,
  pusher: CallbackPusher,
  openKfId: string,
  externalUserId: string,
  change: 'take' | 'transfer' | 'end',
  servicerUserId?: string,
): string | undefined {
  const account = requireAccount(world, openKfId);
  const session = world.session(account, externalUserId);
  const now = world.clock.now();
  const old = session.servicerUserId;
  let msgCode: string | undefined;
  if (change === 'end') {
    session.state = 4;
    session.servicerUserId = undefined;
    msgCode = world.issueCode(account, externalUserId, 'end', 4);
    if (old)
      world.record({ kind: 'satisfaction_survey', at: now, openKfId, externalUserId, servicerUserId: old });
  } else {
    if (!servicerUserId) throw new WxError(ERRCODES.WECOM_PARAMETER_INVALID.code, 'servicer_userid required');
    session.state = 3;
    session.servicerUserId = servicerUserId;
    world.record({
      kind: 'session_assigned',
      at: now,
      openKfId,
      externalUserId,
      to: 'servicer',
      servicerUserId,
    });
    if (change === 'take') msgCode = world.issueCode(account, externalUserId, 'assign', 3);
  }
  const changeType = { take: 1, transfer: 2, end: 3 }[change];
  appendEvent(world, account, {
    event_type: 'session_status_change',
    open_kfid: openKfId,
    external_userid: externalUserId,
    change_type: changeType,
    ...(old && change !== 'take' && { old_servicer_userid: old }),
    ...(servicerUserId && change !== 'end' && { new_servicer_userid: servicerUserId }),
    ...(msgCode && { msg_code: msgCode }),
  });
  notify(world, pusher, account);
  return msgCode;
}

function requireAccount(world: WecomWorld, openKfId: string): KfAccount {
  const account = world.accounts.get(openKfId);
  if (!account) throw new WxError(ERRCODES.KF_ACCOUNT_NOT_FOUND.code, 'open_kfid not exist');
  return account;
}

// Cursors are opaque to clients and at most 64 bytes.
const encodeCursor = (account: KfAccount, seq: number) =>
  Buffer.from(`${account.openKfId.slice(-8)}:${seq}`).toString('base64url');

function decodeCursor(account: KfAccount, cursor: string): number {
  const [tag, seq] = Buffer.from(cursor, 'base64url').toString().split(':');
  if (tag !== account.openKfId.slice(-8) || !seq || !/^\d+$/.test(seq))
    throw invalid('cursor', 'not a cursor of this kf account');
  return Number(seq);
}

/** Token-less sync_msg calls: at most 10 a minute per corp, then blocked for a minute with 45009. */
export class TokenlessThrottle {
  private readonly calls = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();
  check(corpId: string, now: number): void {
    if ((this.blockedUntil.get(corpId) ?? 0) > now)
      throw new WxError(ERRCODES.RATE_LIMITED.code, 'api freq out of limit');
    const recent = (this.calls.get(corpId) ?? []).filter((at) => at > now - 60_000);
    if (recent.length >= 10) {
      this.blockedUntil.set(corpId, now + 60_000);
      throw new WxError(ERRCODES.RATE_LIMITED.code, 'api freq out of limit');
    }
    recent.push(now);
    this.calls.set(corpId, recent);
  }
  reset(): void {
    this.calls.clear();
    this.blockedUntil.clear();
  }
}

export function syncMsg(
  world: WecomWorld,
  throttle: TokenlessThrottle,
  corpId: string,
  body: Body,
  faults: FaultKind[],
) {
  const account = world.account(corpId, body.open_kfid);
  const cursor = optionalString(body, 'cursor', { maxBytes: 64 });
  const token = optionalString(body, 'token', { maxBytes: 128 });
  const limit = optionalInt(body, 'limit', 1, 1000) ?? 1000;
  optionalInt(body, 'voice_format', 0, 1);
  const now = world.clock.now();
  const callbackToken = token ? world.callbackTokens.get(token) : undefined;
  if (!callbackToken || callbackToken.corpId !== corpId || callbackToken.expiresAt <= now)
    throttle.check(corpId, now);
  const after = cursor ? decodeCursor(account, cursor) : 0;
  if (faults.some((fault) => fault.kind === 'empty_page')) {
    return { next_cursor: encodeCursor(account, after), has_more: 1, msg_list: [] };
  }
  const retained = account.stream.filter((item) => item.seq > after && item.at >= now - RETENTION_MS);
  const page = retained.slice(0, limit);
  const last = page.at(-1)?.seq ?? after;
  return {
    next_cursor: encodeCursor(account, last),
    has_more: retained.length > page.length ? 1 : 0,
    msg_list: page.map((item) => item.message),
  };
}

function mediaIdOf(world: WecomWorld, corpId: string, value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(field, 'required');
  return world.media.get(corpId, value).mediaId;
}

function validateMsgMenu(menu: Body): Body {
  const list = menu.list;
  if (!Array.isArray(list)) throw invalid('msgmenu.list', 'required');
  if (list.length > 10)
    throw new WxError(ERRCODES.KF_MENU_TOO_MANY_ITEMS.code, 'msgmenu list count exceed limit');
  for (const item of list as Body[]) {
    const type = item?.type;
    if (type === 'click') {
      const click = objectBody(item.click);
      requiredString(click, 'content', { maxBytes: 128 });
      // The reference disagrees on 64 or 128 bytes for click.id; the simulator accepts the larger.
      optionalString(click, 'id', { maxBytes: 128 });
    } else if (type === 'view') {
      const view = objectBody(item.view);
      requiredString(view, 'url', { maxBytes: 2048 });
      requiredString(view, 'content', { maxBytes: 1024 });
    } else if (type === 'miniprogram') {
      const mini = objectBody(item.miniprogram);
      requiredString(mini, 'appid');
      requiredString(mini, 'pagepath', { maxBytes: 1024 });
      requiredString(mini, 'content', { maxBytes: 1024 });
    } else if (type === 'text') {
      requiredString(objectBody(item.text), 'content', { maxBytes: 256 });
    } else {
      throw new WxError(ERRCODES.KF_MENU_ITEM_TYPE_INVALID.code, 'invalid msgmenu item type');
    }
  }
  optionalString(menu, 'head_content', { maxBytes: 1024 });
  optionalString(menu, 'tail_content', { maxBytes: 1024 });
  return menu;
}

/** Checks a send body of one msgtype with WeCom's limits; returns it as WeCom would deliver it. */
export function validateSendBody(world: WecomWorld, corpId: string, msgtype: unknown, body: Body): Body {
  const part = objectBody(body[String(msgtype)] ?? null);
  switch (msgtype) {
    case 'text':
      requiredString(part, 'content', { maxBytes: 2048 });
      return part;
    case 'image':
    case 'voice':
    case 'video':
    case 'file':
      return { media_id: mediaIdOf(world, corpId, part.media_id, `${msgtype}.media_id`) };
    case 'link': {
      const url = requiredString(part, 'url', { maxBytes: 2048, pattern: /^https?:\/\// });
      return {
        title: truncateBytes(requiredString(part, 'title'), 128),
        ...(typeof part.desc === 'string' && { desc: truncateBytes(part.desc, 512) }),
        url,
        thumb_media_id: mediaIdOf(world, corpId, part.thumb_media_id, 'link.thumb_media_id'),
      };
    }
    case 'miniprogram':
      return {
        appid: requiredString(part, 'appid'),
        ...(typeof part.title === 'string' && { title: truncateBytes(part.title, 64) }),
        thumb_media_id: mediaIdOf(world, corpId, part.thumb_media_id, 'miniprogram.thumb_media_id'),
        pagepath: requiredString(part, 'pagepath'),
      };
    case 'msgmenu':
      return validateMsgMenu(part);
    case 'location': {
      const { latitude, longitude } = part;
      if (typeof latitude !== 'number' || latitude < -90 || latitude > 90)
        throw invalid('location.latitude', 'must be -90..90');
      if (typeof longitude !== 'number' || longitude < -180 || longitude > 180)
        throw invalid('location.longitude', 'must be -180..180');
      optionalString(part, 'name');
      optionalString(part, 'address');
      return part;
    }
    case 'ca_link':
      requiredString(part, 'link_url', { pattern: /^https:\/\// });
      return part;
    default:
      throw invalid('msgtype', `unsupported msgtype ${String(msgtype)}`);
  }
}

function claimMsgId(account: KfAccount, body: Body): string {
  const msgid = optionalString(body, 'msgid');
  if (msgid === undefined || msgid === '') return randomId('', 32);
  if (!MSGID.test(msgid)) throw invalid('msgid', 'at most 32 bytes of [0-9a-zA-Z_-]');
  if (account.usedMsgIds.has(msgid)) throw new WxError(ERRCODES.KF_MSGID_REPEATED.code, 'msgid duplicated');
  return msgid;
}

/**
 * send_msg with the platform's rules: state 0 or 1 (95018), within 48 h of the customer's last message (95002),
 * at most 5 replies per customer message (95001). A successful send moves state 0 to 1 (智能助手).
 */
export function sendMsg(
  world: WecomWorld,
  pusher: CallbackPusher,
  corpId: string,
  body: Body,
  faults: FaultKind[],
) {
  const account = world.account(corpId, body.open_kfid);
  const touser = requiredString(body, 'touser');
  const msgtype = requiredString(body, 'msgtype');
  const delivered = validateSendBody(world, corpId, msgtype, body);
  const msgid = claimMsgId(account, body);
  const session = world.session(account, touser);
  const now = world.clock.now();
  if (session.lastCustomerMessageAt === undefined || session.lastCustomerMessageAt <= now - REPLY_WINDOW_MS) {
    throw new WxError(ERRCODES.KF_REPLY_WINDOW.code, 'send msg time limit');
  }
  if (session.state !== 0 && session.state !== 1)
    throw new WxError(ERRCODES.KF_SESSION_REFUSES_REPLIES.code, 'send msg session status invalid');
  if (session.repliesLeft <= 0) throw new WxError(ERRCODES.KF_REPLY_LIMIT.code, 'send msg count limit');
  account.usedMsgIds.add(msgid);
  session.repliesLeft--;
  if (session.state === 0) {
    session.state = 1;
    world.record({
      kind: 'session_assigned',
      at: now,
      openKfId: account.openKfId,
      externalUserId: touser,
      to: 'ai',
    });
  }
  world.sent.push({
    corpId,
    openKfId: account.openKfId,
    touser,
    msgid,
    msgtype,
    body: delivered,
    via: 'send_msg',
    at: now,
  });
  const failure = faults.find((fault) => fault.kind === 'send_fail');
  if (failure && failure.kind === 'send_fail') {
    // Accepted is not delivered: the failure arrives later as an event in the stream.
    pushEvent(world, pusher, account.openKfId, {
      event_type: 'msg_send_fail',
      external_userid: touser,
      fail_msgid: msgid,
      fail_type: failure.failType,
    });
  }
  return { msgid };
}

export function sendMsgOnEvent(world: WecomWorld, corpId: string, body: Body) {
  const codeValue = requiredString(body, 'code');
  const code = world.codes.get(codeValue);
  const now = world.clock.now();
  const account = code ? world.accounts.get(code.openKfId) : undefined;
  if (!code || !account || account.corpId !== corpId || code.used || code.expiresAt <= now) {
    throw new WxError(ERRCODES.KF_MSGTOKEN_INVALID.code, 'invalid msgtoken: unknown, used or expired code');
  }
  const msgtype = requiredString(body, 'msgtype');
  const allowed = code.kind === 'welcome' || code.kind === 'end' ? ['text', 'msgmenu'] : ['text'];
  if (!allowed.includes(msgtype)) throw invalid('msgtype', `this code allows ${allowed.join(' or ')}`);
  const delivered = validateSendBody(world, corpId, msgtype, body);
  const session = world.session(account, code.externalUserId);
  if (code.kind !== 'welcome' && session.state !== code.state)
    throw new WxError(ERRCODES.KF_SESSION_REFUSES_REPLIES.code, 'send msg session status invalid');
  const msgid = claimMsgId(account, body);
  code.used = true;
  account.usedMsgIds.add(msgid);
  if (code.kind === 'welcome') session.lastWelcomeAt = now;
  world.sent.push({
    corpId,
    openKfId: account.openKfId,
    touser: code.externalUserId,
    msgid,
    msgtype,
    body: delivered,
    via: 'send_msg_on_event',
    at: now,
  });
  return { msgid };
}

/** The customer answers the satisfaction survey of their last session a servicer ended. */
export function customerRates(
  world: WecomWorld,
  openKfId: string,
  externalUserId: string,
  rating: 'satisfied' | 'middling' | 'dissatisfied',
): void {
  const survey = world.activity.findLast(
    (a) => a.kind === 'satisfaction_survey' && a.openKfId === openKfId && a.externalUserId === externalUserId,
  );
  if (survey?.kind !== 'satisfaction_survey')
    throw new WxError(ERRCODES.WECOM_PARAMETER_INVALID.code, 'no satisfaction survey to answer');
  world.record({
    kind: 'satisfaction_rating',
    at: world.clock.now(),
    openKfId,
    externalUserId,
    servicerUserId: survey.servicerUserId,
    rating,
  });
}
