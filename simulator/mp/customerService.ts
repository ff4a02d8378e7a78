import { MP_OK, WxError } from '../core';
import { parseMultipart } from '../multipart';
import type { Body } from '../params';
import type { MpApp, MpKfAccount, MpWorld } from './world';

const KF_ACCOUNT = /^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,32}$/;
const MAX_KF_ACCOUNTS = 100;

function kf(app: MpApp, kfAccount: unknown): MpKfAccount {
  const account = typeof kfAccount === 'string' ? app.kfAccounts.get(kfAccount) : undefined;
  if (!account) throw new WxError(65401, 'invalid kf_account');
  return account;
}

function nickname(value: unknown): string {
  if (typeof value !== 'string' || [...value].length === 0 || [...value].length > 16)
    throw new WxError(65403, 'invalid nickname');
  return value;
}

export function addKfAccount(app: MpApp, body: Body) {
  const account = body.kf_account;
  if (typeof account !== 'string' || !KF_ACCOUNT.test(account))
    throw new WxError(65404, 'invalid kf_account');
  const nick = nickname(body.nickname);
  if (app.kfAccounts.has(account)) throw new WxError(65406, 'kf_account exists');
  if (app.kfAccounts.size >= MAX_KF_ACCOUNTS) throw new WxError(65405, 'kf_account count exceed limit');
  app.kfAccounts.set(account, {
    kfAccount: account,
    // kf_id is a string, numbered as in the doc's example (1001, 1002, …).
    kfId: String(1001 + app.kfAccounts.size),
    nickname: nick,
    headImgUrl: '',
    online: false,
  });
  return MP_OK;
}

export function updateKfAccount(app: MpApp, body: Body) {
  kf(app, body.kf_account).nickname = nickname(body.nickname);
  return MP_OK;
}

/** Current docs: POST with a body; older SDKs: GET `?kf_account=`. Both are served. */
export function deleteKfAccount(app: MpApp, kfAccount: unknown) {
  const account = kf(app, kfAccount);
  app.kfAccounts.delete(account.kfAccount);
  return MP_OK;
}

export function inviteWorker(world: MpWorld, app: MpApp, body: Body) {
  const account = kf(app, body.kf_account);
  if (typeof body.invite_wx !== 'string' || body.invite_wx === '')
    throw new WxError(65404, 'invalid invite_wx');
  if (account.kfWx) throw new WxError(65407, 'invitee is already a kf worker');
  if (account.invite?.status === 'waiting' && account.invite.expiresAt > world.clock.now())
    throw new WxError(65408, 'invitation pending');
  account.invite = {
    wx: body.invite_wx,
    expiresAt: world.clock.now() + 7 * 24 * 3600_000,
    status: 'waiting',
  };
  return MP_OK;
}

/** The avatar comes as multipart field `media`, and must be a JPG (the doc's rule; 40005 otherwise). */
export function uploadHeadImg(app: MpApp, kfAccount: string | null, body: Buffer, contentType?: string) {
  const account = kf(app, kfAccount);
  const part = parseMultipart(body, contentType).find((p) => p.name === 'media');
  if (!part || part.data.length === 0) throw new WxError(44001, 'empty media data');
  if (!/\.jpe?g$/i.test(part.filename ?? '')) throw new WxError(40005, 'invalid file type');
  account.headImgUrl = `https://mmbiz.qpic.cn/kfheadimg/${account.kfId}/0`;
  return MP_OK;
}

export function listKfAccounts(world: MpWorld, app: MpApp) {
  return {
    kf_list: [...app.kfAccounts.values()].map((a) => ({
      kf_account: a.kfAccount,
      kf_headimgurl: a.headImgUrl,
      kf_id: a.kfId,
      kf_nick: a.nickname,
      ...(a.kfWx && { kf_wx: a.kfWx }),
      ...(a.invite && {
        invite_wx: a.invite.wx,
        invite_expire_time: Math.floor(a.invite.expiresAt / 1000),
        invite_status: a.invite.expiresAt <= world.clock.now() ? 'expired' : a.invite.status,
      }),
    })),
  };
}

export function listOnlineKfAccounts(app: MpApp) {
  return {
    kf_online_list: [...app.kfAccounts.values()]
      .filter((a) => a.online)
      .map((a) => ({
        kf_account: a.kfAccount,
        status: 1,
        kf_id: a.kfId,
        accepted_case: [...app.sessions.values()].filter((s) => s.kfAccount === a.kfAccount).length,
      })),
  };
}

export function createSession(world: MpWorld, app: MpApp, body: Body) {
  const account = kf(app, body.kf_account);
  if (typeof body.openid !== 'string' || !body.openid) throw new WxError(40003, 'invalid openid');
  if (!account.kfWx) throw new WxError(65402, 'kf_account not bound to a WeChat user');
  if (!account.online) throw new WxError(65415, 'kf_account offline');
  if (!app.sessions.has(body.openid))
    app.sessions.set(body.openid, { kfAccount: account.kfAccount, createdAt: world.clock.now() });
  return MP_OK;
}

export function closeSession(app: MpApp, body: Body) {
  const account = kf(app, body.kf_account);
  const session = typeof body.openid === 'string' ? app.sessions.get(body.openid) : undefined;
  if (!session) throw new WxError(65413, 'no session for this openid');
  if (session.kfAccount !== account.kfAccount)
    throw new WxError(65414, 'session served by another kf_account');
  app.sessions.delete(body.openid as string);
  return MP_OK;
}

export function getSession(app: MpApp, openid: string | null) {
  const session = openid ? app.sessions.get(openid) : undefined;
  return {
    kf_account: session?.kfAccount ?? '',
    createtime: session ? Math.floor(session.createdAt / 1000) : 0,
  };
}

export function listSessions(app: MpApp, kfAccount: string | null) {
  const account = kf(app, kfAccount);
  return {
    sessionlist: [...app.sessions]
      .filter(([, s]) => s.kfAccount === account.kfAccount)
      .map(([openid, s]) => ({ openid, createtime: Math.floor(s.createdAt / 1000) })),
  };
}

/** Followers who wrote and are not in a session yet, oldest first, at most 100. */
export function waitCase(app: MpApp) {
  const waiting = [...app.users]
    .filter(([openid, user]) => user.lastMessageAt > 0 && !app.sessions.has(openid))
    .sort(([, a], [, b]) => a.lastMessageAt - b.lastMessageAt)
    .map(([openid, user]) => ({ openid, latest_time: Math.floor(user.lastMessageAt / 1000) }));
  return { count: waiting.length, waitcaselist: waiting.slice(0, 100) };
}

/** Chat records of one window of at most 24 h, paged by record id (`msgid` starts at 1). */
export function getMsgList(app: MpApp, body: Body) {
  const { starttime, endtime, msgid, number } = body;
  const ints = [starttime, endtime, msgid, number].every((v) => typeof v === 'number' && Number.isInteger(v));
  if (
    !ints ||
    (number as number) < 1 ||
    (number as number) > 10000 ||
    (msgid as number) < 1 ||
    (starttime as number) > (endtime as number)
  ) {
    throw new WxError(65416, 'invalid parameter');
  }
  if ((endtime as number) - (starttime as number) > 24 * 3600)
    throw new WxError(65417, 'time range out of limit');
  const page = app.records
    .filter(
      (r) => r.time >= (starttime as number) && r.time <= (endtime as number) && r.id >= (msgid as number),
    )
    .slice(0, number as number);
  return {
    recordlist: page.map(({ openid, opercode, text, time, worker }) => ({
      openid,
      opercode,
      text,
      time,
      worker,
    })),
    number: page.length,
    msgid: (page.at(-1)?.id ?? (msgid as number) - 1) + 1,
  };
}
