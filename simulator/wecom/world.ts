import { ERRCODES } from '../../lib/platform/errcodes';
import { DAY, HOUR, randomId, type SimClock, WxError } from '../core';
import type { MediaStore } from '../media';
import type { StatisticsHistory } from './history';
import type {
  AccessToken,
  Activity,
  CodeKind,
  Corp,
  Customer,
  EventCode,
  KfAccount,
  SentMessage,
  ServiceState,
  Session,
} from './model';

export const TOKEN_TTL_MS = 7200_000;
export const CALLBACK_TOKEN_TTL_MS = 600_000;
export const RETENTION_MS = 3 * DAY;
export const REPLY_WINDOW_MS = 48 * HOUR;
export const SESSION_LIFETIME_MS = 48 * HOUR;
export const REPLIES_PER_MESSAGE = 5;
export const MAX_KF_ACCOUNTS = 5000;

/** Everything WeCom knows, plus the rules that change it. API handlers live beside it, one file per area. */
export class WecomWorld {
  readonly corps = new Map<string, Corp>();
  readonly tokens = new Map<string, AccessToken>();
  readonly accounts = new Map<string, KfAccount>();
  readonly customers = new Map<string, Customer>();
  readonly codes = new Map<string, EventCode>();
  readonly callbackTokens = new Map<string, { corpId: string; openKfId: string; expiresAt: number }>();
  readonly sent: SentMessage[] = [];
  readonly activity: Activity[] = [];
  readonly contactWays = new Map<string, { openKfId: string; scene: string }>();

  constructor(
    readonly clock: SimClock,
    readonly media: MediaStore,
    /** The made-up past the statistics add to what happened since the simulator started. */
    readonly history: StatisticsHistory,
  ) {}

  corp(corpId: string): Corp {
    const corp = this.corps.get(corpId);
    if (!corp) throw new WxError(ERRCODES.WECOM_CORPID_INVALID.code, 'invalid corpid');
    return corp;
  }

  addCorp(corpId: string, secrets: string[]): Corp {
    const corp: Corp = this.corps.get(corpId) ?? {
      corpId,
      secrets: new Set(),
      users: new Set(),
      departments: new Set(),
    };
    for (const secret of secrets) corp.secrets.add(secret);
    this.corps.set(corpId, corp);
    return corp;
  }

  /**
   * `gettoken`: "有效期内重复获取返回相同结果" — within its validity the same result, so the same token with
   * expires_in 7200 again, which renews it (our reading; UNVERIFIED). A new token after expiry or revocation.
   */
  getToken(corpId: string | null, secret: string | null): { access_token: string; expires_in: number } {
    if (!corpId || !this.corps.has(corpId))
      throw new WxError(ERRCODES.WECOM_CORPID_INVALID.code, 'invalid corpid');
    const corp = this.corp(corpId);
    if (!secret || !corp.secrets.has(secret))
      throw new WxError(
        ERRCODES.WECOM_SECRET_INVALID.code,
        'invalid credential, access_token is invalid or not latest',
      );
    const now = this.clock.now();
    for (const token of this.tokens.values()) {
      if (token.corpId === corpId && token.secret === secret && !token.revoked && token.expiresAt > now) {
        token.expiresAt = now + TOKEN_TTL_MS;
        return { access_token: token.token, expires_in: TOKEN_TTL_MS / 1000 };
      }
    }
    const token: AccessToken = {
      token: randomId('', 214),
      corpId,
      secret,
      expiresAt: now + TOKEN_TTL_MS,
      revoked: false,
    };
    this.tokens.set(token.token, token);
    return { access_token: token.token, expires_in: TOKEN_TTL_MS / 1000 };
  }

  /** The corp an access_token belongs to, or the errcode WeCom gives for it. */
  authenticate(accessToken: string | null): string {
    if (!accessToken) throw new WxError(ERRCODES.ACCESS_TOKEN_MISSING.code, 'access_token missing');
    const token = this.tokens.get(accessToken);
    if (!token || token.revoked)
      throw new WxError(ERRCODES.ACCESS_TOKEN_INVALID.code, 'invalid access_token');
    if (token.expiresAt <= this.clock.now())
      throw new WxError(ERRCODES.ACCESS_TOKEN_EXPIRED.code, 'access_token expired');
    return token.corpId;
  }

  /** Test control: expire (42001) or revoke (40014) the current tokens of a corp, or of every corp. */
  invalidateTokens(how: 'expire' | 'revoke', corpId?: string): number {
    let count = 0;
    for (const token of this.tokens.values()) {
      if (corpId && token.corpId !== corpId) continue;
      if (how === 'expire') token.expiresAt = Math.min(token.expiresAt, this.clock.now());
      else token.revoked = true;
      count++;
    }
    return count;
  }

  account(corpId: string, openKfId: unknown): KfAccount {
    if (typeof openKfId !== 'string' || !openKfId)
      throw new WxError(ERRCODES.KF_OPEN_KFID_INVALID.code, 'invalid open_kfid');
    const account = this.accounts.get(openKfId);
    if (!account || account.corpId !== corpId)
      throw new WxError(ERRCODES.KF_ACCOUNT_NOT_FOUND.code, 'open_kfid not exist');
    return account;
  }

  /** An account the calling app may administer: not one the console keeps to itself (not authorised to the app). */
  managedAccount(corpId: string, openKfId: unknown): KfAccount {
    const account = this.account(corpId, openKfId);
    if (!account.managedByApi)
      throw new WxError(ERRCODES.KF_ACCOUNT_NOT_AUTHORISED.code, 'api forbidden: kf account not authorized');
    return account;
  }

  createAccount(corpId: string, name: string, mediaId: string, managedByApi = true): KfAccount {
    if ([...this.accounts.values()].filter((a) => a.corpId === corpId).length >= MAX_KF_ACCOUNTS) {
      throw new WxError(ERRCODES.KF_ACCOUNT_LIMIT.code, 'kf account count exceed limit');
    }
    const account: KfAccount = {
      openKfId: randomId('wk', 30),
      corpId,
      name,
      mediaId,
      managedByApi,
      servicers: new Map(),
      departments: new Set(),
      stream: [],
      nextSeq: 1,
      usedMsgIds: new Set(),
      sessions: new Map(),
    };
    this.accounts.set(account.openKfId, account);
    return account;
  }

  customer(externalUserId: string): Customer {
    let customer = this.customers.get(externalUserId);
    if (!customer) {
      customer = {
        externalUserId,
        nickname: `客户${externalUserId.slice(-4)}`,
        avatar: `https://wx.qlogo.cn/mmhead/${externalUserId}/0`,
        gender: 0,
        unionid: `oUnion${externalUserId.slice(-12)}`,
        lastActiveAt: new Map(),
      };
      this.customers.set(externalUserId, customer);
    }
    return customer;
  }

  /**
   * A customer's session with a kf account. "在48h内，或主动结束会话前，都算是一次会话": a session is over 48 h after the
   * customer began it, whoever holds it, and is then as one that ended (state 4) until the customer writes again.
   */
  session(account: KfAccount, externalUserId: string): Session {
    let session = account.sessions.get(externalUserId);
    if (!session) {
      session = { externalUserId, state: 4, repliesLeft: 0 };
      account.sessions.set(externalUserId, session);
    }
    const startedAt = session.startedAt;
    if (
      session.state !== 4 &&
      startedAt !== undefined &&
      startedAt <= this.clock.now() - SESSION_LIFETIME_MS
    ) {
      session.state = 4;
      session.servicerUserId = undefined;
    }
    return session;
  }

  /** Issues a single-use code for send_msg_on_event: 20 s for welcome and end messages, 48 h otherwise. */
  issueCode(account: KfAccount, externalUserId: string, kind: CodeKind, state: ServiceState): string {
    const short = kind === 'welcome' || kind === 'end';
    const code: EventCode = {
      code: randomId('MSGCODE', 40),
      openKfId: account.openKfId,
      externalUserId,
      kind,
      state,
      expiresAt: this.clock.now() + (short ? 20_000 : REPLY_WINDOW_MS),
      used: false,
    };
    this.codes.set(code.code, code);
    return code.code;
  }

  record(activity: Activity): void {
    this.activity.push(activity);
  }

  /** Appends to a kf account's stream (what sync_msg returns) and drops what is past the 3-day retention. */
  append(account: KfAccount, message: Record<string, unknown>): Record<string, unknown> {
    const now = this.clock.now();
    const item = { seq: account.nextSeq++, at: now, message };
    account.stream.push(item);
    while (account.stream.length > 0 && (account.stream[0]?.at ?? now) < now - RETENTION_MS)
      account.stream.shift();
    return message;
  }

  reset(): void {
    for (const map of [
      this.corps,
      this.tokens,
      this.accounts,
      this.customers,
      this.codes,
      this.callbackTokens,
      this.contactWays,
    ]) {
      map.clear();
    }
    this.sent.length = 0;
    this.activity.length = 0;
  }
}
