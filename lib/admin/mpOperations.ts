import * as v from 'valibot';
import { text } from '../contracts/fields';
import { IMAGE_RULES, imageBytesOnly, jpgBytes } from './imageInput';
import { type AdminContext, operation, recordsOf } from './operation';

/** Official Account customer-service administration (reference §12.3, §12.4). */

const kfAccount = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,32}$/, 'prefix@ the Official Account WeChat id'),
  v.description('the kf account, prefix@ the Official Account WeChat id'),
);
const openid = v.pipe(text(64), v.description("the follower's openid"));
const nickname = v.pipe(
  v.string(),
  v.minLength(1),
  v.check((s: string) => [...s].length <= 16, 'at most 16 characters'),
);
const note = v.optional(v.pipe(text(128), v.description('a note shown to the kf worker')));
const done = v.strictObject({ kfAccount: v.string() });
const iso = (seconds: unknown) => new Date(Number(seconds) * 1000).toISOString();

function mp(
  context: AdminContext,
  path: string,
  request: { body?: object; query?: Record<string, string> } = {},
) {
  return context.call(context.app, 'mp', {
    path,
    ...request,
    ...(context.signal && { signal: context.signal }),
  });
}

const sessionBody = (input: { kfAccount: string; openid: string; text?: string | undefined }) => ({
  kf_account: input.kfAccount,
  openid: input.openid,
  ...(input.text && { text: input.text }),
});

/** getonlinekflist's status: where the worker is signed in. */
const ONLINE_STATUS: Record<number, string> = { 1: 'web', 2: 'mobile', 3: 'web and mobile' };

export const MP_OPERATIONS = [
  operation({
    group: 'mp-accounts',
    command: 'list',
    summary: 'List the kf accounts of the Official Account, with their WeChat binding or pending invitation',
    platform: 'mp',
    method: 'GET',
    path: '/v1/admin/mp/kf-accounts',
    input: v.strictObject({}),
    output: v.strictObject({
      accounts: v.array(
        v.strictObject({
          kfAccount: v.string(),
          nickname: v.string(),
          id: v.number(),
          avatar: v.string(),
          wechat: v.optional(v.string()),
          invitedWechat: v.optional(v.string()),
          invitation: v.optional(v.picklist(['waiting', 'rejected', 'expired'])),
          invitationExpiresAt: v.optional(v.string()),
        }),
      ),
    }),
    async run(_input, context) {
      const answer = await mp(context, '/cgi-bin/customservice/getkflist');
      const accounts = recordsOf(answer, 'kf_list').map((account) => ({
        kfAccount: String(account.kf_account),
        nickname: String(account.kf_nick ?? ''),
        id: Number(account.kf_id),
        avatar: String(account.kf_headimgurl ?? ''),
        ...(typeof account.kf_wx === 'string' && { wechat: account.kf_wx }),
        ...(typeof account.invite_wx === 'string' && { invitedWechat: account.invite_wx }),
        ...(typeof account.invite_status === 'string' && {
          invitation: account.invite_status as 'waiting' | 'rejected' | 'expired',
        }),
        ...(account.invite_expire_time !== undefined && {
          invitationExpiresAt: iso(account.invite_expire_time),
        }),
      }));
      return { accounts };
    },
  }),
  operation({
    group: 'mp-accounts',
    command: 'online',
    summary: 'The kf accounts signed in now, where, and how many sessions each has',
    platform: 'mp',
    method: 'GET',
    path: '/v1/admin/mp/kf-accounts/online',
    input: v.strictObject({}),
    output: v.strictObject({
      accounts: v.array(
        v.strictObject({ kfAccount: v.string(), id: v.number(), signedIn: v.string(), sessions: v.number() }),
      ),
    }),
    async run(_input, context) {
      const answer = await mp(context, '/cgi-bin/customservice/getonlinekflist');
      const accounts = recordsOf(answer, 'kf_online_list').map((account) => ({
        kfAccount: String(account.kf_account),
        id: Number(account.kf_id),
        signedIn: ONLINE_STATUS[Number(account.status)] ?? `status ${account.status}`,
        sessions: Number(account.accepted_case ?? 0),
      }));
      return { accounts };
    },
  }),
  operation({
    group: 'mp-accounts',
    command: 'add',
    summary: 'Add a kf account (then invite a WeChat user to work it)',
    platform: 'mp',
    method: 'POST',
    path: '/v1/admin/mp/kf-accounts',
    creates: true,
    input: v.strictObject({ kfAccount, nickname }),
    output: done,
    async run(input, context) {
      await mp(context, '/customservice/kfaccount/add', {
        body: { kf_account: input.kfAccount, nickname: input.nickname },
      });
      return { kfAccount: input.kfAccount };
    },
  }),
  operation({
    group: 'mp-accounts',
    command: 'update',
    summary: "Change a kf account's nickname",
    platform: 'mp',
    method: 'PATCH',
    path: '/v1/admin/mp/kf-accounts/{kfAccount}',
    input: v.strictObject({ kfAccount, nickname }),
    output: done,
    async run(input, context) {
      await mp(context, '/customservice/kfaccount/update', {
        body: { kf_account: input.kfAccount, nickname: input.nickname },
      });
      return { kfAccount: input.kfAccount };
    },
  }),
  operation({
    group: 'mp-accounts',
    command: 'delete',
    summary: 'Delete a kf account',
    platform: 'mp',
    method: 'DELETE',
    path: '/v1/admin/mp/kf-accounts/{kfAccount}',
    input: v.strictObject({ kfAccount }),
    output: done,
    async run(input, context) {
      await mp(context, '/customservice/kfaccount/del', { body: { kf_account: input.kfAccount } });
      return { kfAccount: input.kfAccount };
    },
  }),
  operation({
    group: 'mp-accounts',
    command: 'invite',
    summary: 'Invite a WeChat user to work a kf account; they accept in WeChat within 7 days',
    platform: 'mp',
    method: 'POST',
    path: '/v1/admin/mp/kf-accounts/{kfAccount}/invite',
    input: v.strictObject({
      kfAccount,
      wechatId: v.pipe(text(64), v.description("the invitee's WeChat id")),
    }),
    output: done,
    async run(input, context) {
      await mp(context, '/customservice/kfaccount/inviteworker', {
        body: { kf_account: input.kfAccount, invite_wx: input.wechatId },
      });
      return { kfAccount: input.kfAccount };
    },
  }),
  operation({
    group: 'mp-accounts',
    command: 'avatar',
    summary: "Set a kf account's avatar (JPG, 640×640 recommended)",
    platform: 'mp',
    method: 'PUT',
    path: '/v1/admin/mp/kf-accounts/{kfAccount}/avatar',
    files: ['avatar'],
    rules: IMAGE_RULES,
    input: v.strictObject({ kfAccount, avatar: imageBytesOnly }),
    output: done,
    async run(input, context) {
      const file = await jpgBytes(context, input.avatar, 'avatar');
      await context.multipart(context.app, 'mp', {
        path: '/customservice/kfaccount/uploadheadimg',
        query: { kf_account: input.kfAccount },
        file,
        ...(context.signal && { signal: context.signal }),
      });
      return { kfAccount: input.kfAccount };
    },
  }),
  operation({
    group: 'mp-sessions',
    command: 'create',
    summary: 'Hand a follower to a kf account (it must be bound and online)',
    platform: 'mp',
    method: 'POST',
    path: '/v1/admin/mp/sessions',
    creates: true,
    input: v.strictObject({ kfAccount, openid, text: note }),
    output: v.strictObject({ openid: v.string(), kfAccount: v.string() }),
    async run(input, context) {
      await mp(context, '/customservice/kfsession/create', {
        body: sessionBody(input),
      });
      return { openid: input.openid, kfAccount: input.kfAccount };
    },
  }),
  operation({
    group: 'mp-sessions',
    command: 'close',
    summary: "Close a follower's session with a kf account",
    platform: 'mp',
    method: 'POST',
    path: '/v1/admin/mp/sessions/close',
    input: v.strictObject({ kfAccount, openid, text: note }),
    output: v.strictObject({ openid: v.string(), kfAccount: v.string() }),
    async run(input, context) {
      await mp(context, '/customservice/kfsession/close', {
        body: sessionBody(input),
      });
      return { openid: input.openid, kfAccount: input.kfAccount };
    },
  }),
  operation({
    group: 'mp-sessions',
    command: 'get',
    summary: 'The kf account serving a follower, if any, and since when',
    platform: 'mp',
    method: 'GET',
    path: '/v1/admin/mp/sessions/{openid}',
    input: v.strictObject({ openid }),
    output: v.strictObject({
      openid: v.string(),
      kfAccount: v.optional(v.string()),
      since: v.optional(v.string()),
    }),
    async run(input, context) {
      const answer = await mp(context, '/customservice/kfsession/getsession', {
        query: { openid: input.openid },
      });
      const serving = typeof answer.kf_account === 'string' && answer.kf_account !== '';
      return {
        openid: input.openid,
        ...(serving && { kfAccount: answer.kf_account as string, since: iso(answer.createtime) }),
      };
    },
  }),
  operation({
    group: 'mp-sessions',
    command: 'list',
    summary: "A kf account's open sessions",
    platform: 'mp',
    method: 'GET',
    path: '/v1/admin/mp/kf-accounts/{kfAccount}/sessions',
    input: v.strictObject({ kfAccount }),
    output: v.strictObject({ sessions: v.array(v.strictObject({ openid: v.string(), since: v.string() })) }),
    async run(input, context) {
      const answer = await mp(context, '/customservice/kfsession/getsessionlist', {
        query: { kf_account: input.kfAccount },
      });
      const sessions = recordsOf(answer, 'sessionlist').map((session) => ({
        openid: String(session.openid),
        since: iso(session.createtime),
      }));
      return { sessions };
    },
  }),
  operation({
    group: 'mp-sessions',
    command: 'waiting',
    summary: 'Followers waiting for a kf account, oldest first (the platform lists at most 100)',
    platform: 'mp',
    method: 'GET',
    path: '/v1/admin/mp/wait-cases',
    input: v.strictObject({}),
    output: v.strictObject({
      count: v.number(),
      waiting: v.array(v.strictObject({ openid: v.string(), since: v.string() })),
    }),
    async run(_input, context) {
      const answer = await mp(context, '/customservice/kfsession/getwaitcase');
      // Field names differ between SDKs' sources (reference §12.4): latest_time or createtime.
      const waiting = recordsOf(answer, 'waitcaselist').map((item) => ({
        openid: String(item.openid),
        since: iso(item.latest_time ?? item.createtime),
      }));
      return { count: Number(answer.count ?? waiting.length), waiting };
    },
  }),
];
