import { randomBytes } from 'node:crypto';
import { ERRCODES } from '../../lib/platform/errcodes';
import { WxError } from '../core';
import { type Body, invalid, optionalInt, optionalString, requiredString, stringList } from '../params';
import type { ServiceState } from './model';
import { REPLY_WINDOW_MS, type WecomWorld } from './world';

const SCENE = /^[0-9a-zA-Z_-]{1,32}$/;

export function addAccount(world: WecomWorld, corpId: string, body: Body) {
  const name = requiredString(body, 'name');
  if ([...name].length > 16) throw invalid('name', 'over 16 characters');
  const mediaId = requiredString(body, 'media_id', { maxBytes: 128 });
  world.media.get(corpId, mediaId);
  return { open_kfid: world.createAccount(corpId, name, mediaId).openKfId };
}

export function deleteAccount(world: WecomWorld, corpId: string, body: Body) {
  const account = world.managedAccount(corpId, body.open_kfid);
  world.accounts.delete(account.openKfId);
  return {};
}

export function updateAccount(world: WecomWorld, corpId: string, body: Body) {
  const account = world.managedAccount(corpId, body.open_kfid);
  const name = optionalString(body, 'name');
  if (name !== undefined && [...name].length > 16) throw invalid('name', 'over 16 characters');
  const mediaId = optionalString(body, 'media_id', { maxBytes: 128 });
  if (mediaId !== undefined) world.media.get(corpId, mediaId);
  if (name !== undefined) account.name = name;
  if (mediaId !== undefined) account.mediaId = mediaId;
  return {};
}

/** Official method is POST with a body; older SDKs use GET without one. Both are served. */
export function listAccounts(world: WecomWorld, corpId: string, body: Body) {
  const offset = optionalInt(body, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const limit = optionalInt(body, 'limit', 1, 100) ?? 100;
  const accounts = [...world.accounts.values()].filter((account) => account.corpId === corpId);
  return {
    account_list: accounts.slice(offset, offset + limit).map((account) => ({
      open_kfid: account.openKfId,
      name: account.name,
      avatar: `https://wework.qpic.cn/wwhead/${account.mediaId}/0`,
      manage_privilege: account.managedByApi,
    })),
  };
}

export function addContactWay(world: WecomWorld, corpId: string, body: Body) {
  const account = world.managedAccount(corpId, body.open_kfid);
  const scene = optionalString(body, 'scene', { pattern: SCENE }) ?? '';
  const enc = `ENC${randomBytes(12).toString('base64url')}`;
  world.contactWays.set(enc, { openKfId: account.openKfId, scene });
  return { url: `https://work.weixin.qq.com/kf/kfc${account.openKfId.slice(2, 18)}?enc_scene=${enc}` };
}

/** Resolves a contact-way URL as WeChat does when a customer opens it (`&scene_param=` appended by the company). */
export function resolveContactWay(world: WecomWorld, url: string) {
  const parsed = new URL(url);
  const way = world.contactWays.get(parsed.searchParams.get('enc_scene') ?? '');
  if (!way) throw new WxError(ERRCODES.WECOM_PARAMETER_INVALID.code, 'invalid contact way url');
  const sceneParam = parsed.searchParams.get('scene_param') ?? '';
  if (Buffer.byteLength(sceneParam) > 128) throw invalid('scene_param', 'over 128 bytes');
  return { openKfId: way.openKfId, scene: way.scene, sceneParam };
}

function servicerTargets(body: Body) {
  const userids = stringList(body, 'userid_list', 100);
  const rawDepartments = body.department_id_list ?? [];
  if (
    !Array.isArray(rawDepartments) ||
    rawDepartments.length > 100 ||
    rawDepartments.some((d) => !Number.isInteger(d))
  ) {
    throw invalid('department_id_list', 'must be a list of at most 100 integers');
  }
  const departments = rawDepartments as number[];
  if (userids.length === 0 && departments.length === 0)
    throw invalid('userid_list', 'userid_list or department_id_list required');
  return { userids, departments };
}

export function changeServicers(world: WecomWorld, corpId: string, body: Body, change: 'add' | 'del') {
  const account = world.managedAccount(corpId, body.open_kfid);
  const corp = world.corp(corpId);
  const { userids, departments } = servicerTargets(body);
  const result_list: Record<string, unknown>[] = [];
  for (const userid of userids) {
    if (!corp.users.has(userid)) {
      result_list.push({ userid, errcode: ERRCODES.WECOM_USER_NOT_FOUND.code, errmsg: 'invalid userid' });
    } else if (change === 'add' && account.servicers.size >= 2000 && !account.servicers.has(userid)) {
      result_list.push({
        userid,
        errcode: ERRCODES.KF_SERVICER_LIMIT.code,
        errmsg: 'servicer count exceed limit',
      });
    } else {
      const present = account.servicers.has(userid);
      if (change === 'add')
        account.servicers.set(userid, account.servicers.get(userid) ?? { status: 0, stopType: 0 });
      else account.servicers.delete(userid);
      const ignored = change === 'add' ? present : !present;
      result_list.push({ userid, errcode: 0, errmsg: ignored ? 'ignored' : 'success' });
    }
  }
  for (const department_id of departments) {
    if (!corp.departments.has(department_id)) {
      result_list.push({
        department_id,
        errcode: ERRCODES.WECOM_DEPARTMENT_NOT_FOUND.code,
        errmsg: 'invalid party id',
      });
    } else if (
      change === 'add' &&
      account.departments.size >= 20 &&
      !account.departments.has(department_id)
    ) {
      result_list.push({
        department_id,
        errcode: ERRCODES.KF_SERVICER_LIMIT.code,
        errmsg: 'department count exceed limit',
      });
    } else {
      const present = account.departments.has(department_id);
      if (change === 'add') account.departments.add(department_id);
      else account.departments.delete(department_id);
      const ignored = change === 'add' ? present : !present;
      result_list.push({ department_id, errcode: 0, errmsg: ignored ? 'ignored' : 'success' });
    }
  }
  return { result_list };
}

export function listServicers(world: WecomWorld, corpId: string, query: URLSearchParams) {
  const account = world.managedAccount(corpId, query.get('open_kfid'));
  return {
    servicer_list: [
      ...[...account.servicers].map(([userid, s]) => ({ userid, status: s.status, stop_type: s.stopType })),
      ...[...account.departments].map((department_id) => ({ department_id })),
    ],
  };
}

export function getServiceState(world: WecomWorld, corpId: string, body: Body) {
  const account = world.managedAccount(corpId, body.open_kfid);
  const session = world.session(account, requiredString(body, 'external_userid'));
  return session.state === 3
    ? { service_state: 3, servicer_userid: session.servicerUserId }
    : { service_state: session.state };
}

/** Allowed moves through the API (reference §8.3); state 4 can only be left by the customer or a servicer. */
const TRANSITIONS: Record<ServiceState, ServiceState[]> = {
  0: [1, 2, 3, 4],
  1: [1, 2, 3, 4],
  2: [2, 3, 4],
  3: [3, 4],
  4: [],
};

export function transServiceState(world: WecomWorld, corpId: string, body: Body) {
  const account = world.managedAccount(corpId, body.open_kfid);
  const externalUserId = requiredString(body, 'external_userid');
  const target = optionalInt(body, 'service_state', 0, 4);
  if (target === undefined) throw invalid('service_state', 'required');
  const session = world.session(account, externalUserId);
  const from = session.state;
  if (!TRANSITIONS[from].includes(target as ServiceState)) {
    throw new WxError(
      ERRCODES.KF_STATE_CHANGE_REFUSED.code,
      `service state ${from} cannot change to ${target}`,
    );
  }
  const now = world.clock.now();
  if (target === 3) {
    const servicerUserId = requiredString(body, 'servicer_userid');
    const servicer = account.servicers.get(servicerUserId);
    if (!servicer) throw new WxError(ERRCODES.KF_NOT_A_SERVICER.code, 'user is not a servicer');
    if (servicer.status !== 0)
      throw new WxError(ERRCODES.KF_SERVICER_NOT_RECEIVING.code, 'servicer stopped or paused receiving');
    session.servicerUserId = servicerUserId;
    world.record({
      kind: 'session_assigned',
      at: now,
      openKfId: account.openKfId,
      externalUserId,
      to: 'servicer',
      servicerUserId,
    });
  }
  if (from === 1 && (target === 2 || target === 3))
    world.record({ kind: 'ai_transfer', at: now, openKfId: account.openKfId, externalUserId });
  if (target === 1 && from === 0)
    world.record({ kind: 'session_assigned', at: now, openKfId: account.openKfId, externalUserId, to: 'ai' });
  session.state = target as ServiceState;
  if (target !== 3) session.servicerUserId = undefined;
  // A code comes with the first move into the pool, to a servicer, or to the end.
  if (target === 4) return { msg_code: world.issueCode(account, externalUserId, 'end', 4) };
  if (target !== from && target === 2)
    return { msg_code: world.issueCode(account, externalUserId, 'pool', 2) };
  if (target !== from && target === 3)
    return { msg_code: world.issueCode(account, externalUserId, 'assign', 3) };
  return {};
}

/** Only customers active with one of the corp's kf accounts in the last 48 h are returned. */
export function batchGetCustomers(world: WecomWorld, corpId: string, body: Body) {
  const ids = stringList(body, 'external_userid_list', 100);
  if (ids.length === 0) throw invalid('external_userid_list', 'required');
  const withContext = optionalInt(body, 'need_enter_session_context', 0, 1) === 1;
  const since = world.clock.now() - REPLY_WINDOW_MS;
  const customer_list: Record<string, unknown>[] = [];
  const invalid_external_userid: string[] = [];
  for (const id of ids) {
    const customer = world.customers.get(id);
    const active =
      customer &&
      [...customer.lastActiveAt].some(
        ([openKfId, at]) => world.accounts.get(openKfId)?.corpId === corpId && at >= since,
      );
    if (!customer || !active) {
      invalid_external_userid.push(id);
      continue;
    }
    customer_list.push({
      external_userid: id,
      nickname: customer.nickname,
      avatar: customer.avatar,
      gender: customer.gender,
      unionid: customer.unionid,
      ...(withContext &&
        customer.enterSessionContext && { enter_session_context: customer.enterSessionContext }),
    });
  }
  return { customer_list, invalid_external_userid };
}

export function upgradeServiceConfig(world: WecomWorld, corpId: string) {
  const corp = world.corp(corpId);
  return {
    member_range: { userid_list: [...corp.users], department_id_list: [...corp.departments] },
    groupchat_range: { chat_id_list: [] },
  };
}
