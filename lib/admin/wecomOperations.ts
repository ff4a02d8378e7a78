import * as v from 'valibot';
import type { SessionState } from '../budgets';
import { given, text } from '../contracts/fields';
import { anyOf } from '../contracts/jsonSchema';
import { IMAGE_RULES, imageMediaId, imageWithMediaId } from './imageInput';
import { type AdminContext, operation, recordsOf } from './operation';

/** WeCom kf administration (reference §8): accounts, contact links, servicers, session state, customers. */

const id = (what: string) => v.pipe(text(64), v.description(what));
const openKfId = id('the kf account (open_kfid)');
const externalUserId = id("the customer's external_userid");
const characters = (max: number) =>
  v.pipe(
    v.string(),
    v.minLength(1),
    v.check((s: string) => [...s].length <= max, `at most ${max} characters`),
  );
const integer = (min: number, max: number) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const list = <T extends v.GenericSchema>(item: T, max: number) => v.pipe(v.array(item), v.maxLength(max));
const done = v.strictObject({ openKfId: v.string() });

function wecom(context: AdminContext, path: string, body?: object, query?: Record<string, string>) {
  return context.call(context.app, 'wecom', {
    path: `/cgi-bin/${path}`,
    ...(body && { body }),
    ...(query && { query }),
    ...(context.signal && { signal: context.signal }),
  });
}

const ONE_ACCOUNT_CHANGE = 'name or avatar required';
const SCENE_PARAM_NEEDS_SCENE = 'sceneParam needs a scene';
const SCENE_PARAM_ENCODED = 'at most 128 bytes once URL-encoded';
const NOT_UNICODE = 'not valid Unicode text';
const SOME_SERVICER = 'userIds or departmentIds required';
const SERVICER_FOR_SERVICER_STATE = 'servicerUserId is required for state servicer, and only for it';

/** Session states (reference §8.3) by the names the API and CLI use. */
export const SERVICE_STATES = ['new', 'assistant', 'queued', 'servicer', 'ended'] as const;
const TARGET_STATES = ['assistant', 'queued', 'servicer', 'ended'] as const;
/** What a move leaves the session as for replies: only with the assistant may the API still reply. */
const SESSION_AFTER_TRANS: Readonly<Record<(typeof TARGET_STATES)[number], SessionState>> = {
  assistant: 'open',
  queued: 'queued',
  servicer: 'servicer',
  ended: 'ended',
};
const GENDERS = ['unknown', 'male', 'female'] as const;

const servicers = v.strictObject({
  openKfId,
  userIds: v.optional(list(id('a member (userid)'), 100)),
  departmentIds: v.optional(list(integer(1, 2 ** 32), 100)),
});
const servicersInput = v.pipe(
  servicers,
  v.forward(
    v.check((input) => given(input.userIds?.[0], input.departmentIds?.[0]) > 0, SOME_SERVICER),
    ['userIds'],
  ),
);
const servicerResults = v.strictObject({
  results: v.array(
    v.strictObject({
      userId: v.optional(v.string()),
      departmentId: v.optional(v.number()),
      result: v.picklist(['added', 'removed', 'unchanged', 'refused']),
      errcode: v.optional(v.number()),
    }),
  ),
  refused: v.pipe(v.number(), v.description('how many items the platform refused')),
});

function changeServicers(change: 'add' | 'del') {
  return async (input: v.InferOutput<typeof servicers>, context: AdminContext) => {
    const answer = await wecom(context, `kf/servicer/${change}`, {
      open_kfid: input.openKfId,
      ...(input.userIds?.length && { userid_list: input.userIds }),
      ...(input.departmentIds?.length && { department_id_list: input.departmentIds }),
    });
    const results = recordsOf(answer, 'result_list').map((item) => {
      const errcode = Number(item.errcode ?? 0);
      const target =
        item.userid !== undefined
          ? { userId: String(item.userid) }
          : { departmentId: Number(item.department_id) };
      if (errcode !== 0) return { ...target, result: 'refused' as const, errcode };
      const unchanged = item.errmsg === 'ignored';
      return {
        ...target,
        result: unchanged
          ? ('unchanged' as const)
          : change === 'add'
            ? ('added' as const)
            : ('removed' as const),
      };
    });
    return { results, refused: results.filter((item) => item.result === 'refused').length };
  };
}

/** WeChat lets the company append `scene_param` to a contact-way URL; it comes back in enter_session. */
export function withSceneParam(url: string, sceneParam: string | undefined): string {
  if (sceneParam === undefined) return url;
  return `${url}${url.includes('?') ? '&' : '?'}scene_param=${urlencoded(sceneParam)}`;
}

/** Every byte but letters, digits and `-_.~` percent-encoded, as urlencode does: the form WeCom counts. */
function urlencoded(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export const WECOM_OPERATIONS = [
  operation({
    group: 'kf-accounts',
    command: 'list',
    summary: 'List the kf accounts of the corp, a page at a time (nextOffset is set while more may follow)',
    platform: 'wecom',
    method: 'GET',
    path: '/v1/admin/kf/accounts',
    input: v.strictObject({ offset: v.optional(integer(0, 1_000_000)), limit: v.optional(integer(1, 100)) }),
    output: v.strictObject({
      accounts: v.array(
        v.strictObject({
          openKfId: v.string(),
          name: v.string(),
          avatar: v.string(),
          managedByApi: v.pipe(v.boolean(), v.description('whether this app may manage the account')),
        }),
      ),
      nextOffset: v.optional(v.number()),
    }),
    async run(input, context) {
      const offset = input.offset ?? 0;
      const limit = input.limit ?? 100;
      const answer = await wecom(context, 'kf/account/list', { offset, limit });
      const accounts = recordsOf(answer, 'account_list').map((account) => ({
        openKfId: String(account.open_kfid),
        name: String(account.name),
        avatar: String(account.avatar ?? ''),
        managedByApi: account.manage_privilege !== false,
      }));
      // WeCom says a short page is the last one.
      return { accounts, ...(accounts.length === limit && { nextOffset: offset + limit }) };
    },
  }),
  operation({
    group: 'kf-accounts',
    command: 'add',
    summary: 'Add a kf account with a name and an avatar (uploaded through media/upload)',
    platform: 'wecom',
    method: 'POST',
    path: '/v1/admin/kf/accounts',
    creates: true,
    files: ['avatar'],
    rules: IMAGE_RULES,
    input: v.strictObject({ name: characters(16), avatar: imageWithMediaId }),
    output: done,
    async run(input, context) {
      const mediaId = await imageMediaId(context, input.avatar, 'avatar');
      const answer = await wecom(context, 'kf/account/add', { name: input.name, media_id: mediaId });
      return { openKfId: String(answer.open_kfid) };
    },
  }),
  operation({
    group: 'kf-accounts',
    command: 'update',
    summary: "Change a kf account's name, avatar or both",
    platform: 'wecom',
    method: 'PATCH',
    path: '/v1/admin/kf/accounts/{openKfId}',
    files: ['avatar'],
    rules: { ...IMAGE_RULES, [ONE_ACCOUNT_CHANGE]: anyOf(['name', 'avatar']) },
    input: v.pipe(
      v.strictObject({ openKfId, name: v.optional(characters(16)), avatar: v.optional(imageWithMediaId) }),
      v.forward(
        v.check((input) => given(input.name, input.avatar) > 0, ONE_ACCOUNT_CHANGE),
        ['name'],
      ),
    ),
    output: done,
    async run(input, context) {
      const mediaId = input.avatar && (await imageMediaId(context, input.avatar, 'avatar'));
      await wecom(context, 'kf/account/update', {
        open_kfid: input.openKfId,
        ...(input.name && { name: input.name }),
        ...(mediaId && { media_id: mediaId }),
      });
      return { openKfId: input.openKfId };
    },
  }),
  operation({
    group: 'kf-accounts',
    command: 'delete',
    summary: 'Delete a kf account',
    platform: 'wecom',
    method: 'DELETE',
    path: '/v1/admin/kf/accounts/{openKfId}',
    input: v.strictObject({ openKfId }),
    output: done,
    async run(input, context) {
      await wecom(context, 'kf/account/del', { open_kfid: input.openKfId });
      return { openKfId: input.openKfId };
    },
  }),
  operation({
    group: 'kf-accounts',
    command: 'link',
    summary:
      'Get the contact-way link customers open to reach a kf account, with an optional scene and scene_param',
    platform: 'wecom',
    method: 'POST',
    path: '/v1/admin/kf/accounts/{openKfId}/contact-way',
    rules: {
      // Encoding never shortens a string, so 128 characters is the most JSON Schema can say of it.
      [SCENE_PARAM_ENCODED]: { maxLength: 128 },
      // JSON text cannot carry a lone surrogate's code unit as such: nothing to say in JSON Schema.
      [NOT_UNICODE]: {},
      [SCENE_PARAM_NEEDS_SCENE]: { anyOf: [{ not: { required: ['sceneParam'] } }, { required: ['scene'] }] },
    },
    input: v.pipe(
      v.strictObject({
        openKfId,
        scene: v.optional(
          v.pipe(
            v.string(),
            v.regex(/^[0-9a-zA-Z_-]{1,32}$/, '1-32 letters, digits, _ or -'),
            v.description('the scene value'),
          ),
        ),
        sceneParam: v.optional(
          v.pipe(
            v.string(),
            v.minLength(1),
            // WeCom takes scene_param urlencoded, at most 128 bytes; it does not say before or after encoding.
            v.check((s) => s.isWellFormed(), NOT_UNICODE),
            v.check((s) => !s.isWellFormed() || urlencoded(s).length <= 128, SCENE_PARAM_ENCODED),
            v.description('appended as scene_param, echoed in enter_session; at most 128 bytes URL-encoded'),
          ),
        ),
      }),
      v.forward(
        v.check((input) => !input.sceneParam || input.scene !== undefined, SCENE_PARAM_NEEDS_SCENE),
        ['sceneParam'],
      ),
    ),
    output: v.strictObject({ url: v.string() }),
    async run(input, context) {
      const answer = await wecom(context, 'kf/add_contact_way', {
        open_kfid: input.openKfId,
        ...(input.scene && { scene: input.scene }),
      });
      return { url: withSceneParam(String(answer.url), input.sceneParam) };
    },
  }),
  operation({
    group: 'servicers',
    command: 'list',
    summary: "List a kf account's servicers (members and departments) and whether each is receiving",
    platform: 'wecom',
    method: 'GET',
    path: '/v1/admin/kf/accounts/{openKfId}/servicers',
    input: v.strictObject({ openKfId }),
    output: v.strictObject({
      servicers: v.array(
        v.strictObject({
          userId: v.optional(v.string()),
          departmentId: v.optional(v.number()),
          status: v.optional(v.picklist(['receiving', 'stopped', 'paused'])),
        }),
      ),
    }),
    async run(input, context) {
      const answer = await wecom(context, 'kf/servicer/list', undefined, { open_kfid: input.openKfId });
      const servicers = recordsOf(answer, 'servicer_list').map((item) =>
        item.userid === undefined
          ? { departmentId: Number(item.department_id) }
          : {
              userId: String(item.userid),
              // status 0 receiving, 1 not; stop_type 1 marks "paused" rather than "stopped".
              status:
                item.status === 0
                  ? ('receiving' as const)
                  : item.stop_type === 1
                    ? ('paused' as const)
                    : ('stopped' as const),
            },
      );
      return { servicers };
    },
  }),
  operation({
    group: 'servicers',
    command: 'add',
    summary: 'Add members or departments as servicers of a kf account; each item has its own result',
    platform: 'wecom',
    method: 'POST',
    path: '/v1/admin/kf/accounts/{openKfId}/servicers/add',
    rules: { [SOME_SERVICER]: anyOf(['userIds', 'departmentIds']) },
    input: servicersInput,
    output: servicerResults,
    run: changeServicers('add'),
  }),
  operation({
    group: 'servicers',
    command: 'remove',
    summary: 'Remove members or departments from the servicers of a kf account; each item has its own result',
    platform: 'wecom',
    method: 'POST',
    path: '/v1/admin/kf/accounts/{openKfId}/servicers/remove',
    rules: { [SOME_SERVICER]: anyOf(['userIds', 'departmentIds']) },
    input: servicersInput,
    output: servicerResults,
    run: changeServicers('del'),
  }),
  operation({
    group: 'sessions',
    command: 'get',
    summary: "A customer's session state with a kf account, and the servicer when a person has it",
    platform: 'wecom',
    method: 'GET',
    path: '/v1/admin/kf/accounts/{openKfId}/sessions/{externalUserId}',
    input: v.strictObject({ openKfId, externalUserId }),
    output: v.strictObject({
      state: v.picklist(SERVICE_STATES),
      stateCode: v.pipe(v.number(), v.description("WeCom's service_state, 0-4")),
      servicerUserId: v.optional(v.string()),
    }),
    async run(input, context) {
      const answer = await wecom(context, 'kf/service_state/get', {
        open_kfid: input.openKfId,
        external_userid: input.externalUserId,
      });
      const stateCode = Number(answer.service_state);
      return {
        state: SERVICE_STATES[stateCode] ?? 'new',
        stateCode,
        ...(typeof answer.servicer_userid === 'string' &&
          answer.servicer_userid && { servicerUserId: answer.servicer_userid }),
      };
    },
  }),
  operation({
    group: 'sessions',
    command: 'trans',
    summary:
      'Move a session to the assistant, the queue, a servicer, or end it; answers the msg_code when WeCom gives one',
    platform: 'wecom',
    method: 'POST',
    path: '/v1/admin/kf/accounts/{openKfId}/sessions/{externalUserId}/trans',
    rules: {
      [SERVICER_FOR_SERVICER_STATE]: {
        oneOf: [
          { properties: { state: { const: 'servicer' } }, required: ['servicerUserId'] },
          { properties: { state: { not: { const: 'servicer' } } }, not: { required: ['servicerUserId'] } },
        ],
      },
    },
    input: v.pipe(
      v.strictObject({
        openKfId,
        externalUserId,
        state: v.pipe(v.picklist(TARGET_STATES), v.description('the state to move to')),
        servicerUserId: v.optional(id('the servicer (userid) to hand the session to')),
      }),
      v.forward(
        v.check(
          (input) => (input.state === 'servicer') === (input.servicerUserId !== undefined),
          SERVICER_FOR_SERVICER_STATE,
        ),
        ['servicerUserId'],
      ),
    ),
    output: v.strictObject({
      state: v.picklist(TARGET_STATES),
      msgCode: v.optional(
        v.pipe(v.string(), v.description('send_msg_on_event code for a message with this change')),
      ),
    }),
    async run(input, context) {
      const answer = await wecom(context, 'kf/service_state/trans', {
        open_kfid: input.openKfId,
        external_userid: input.externalUserId,
        service_state: SERVICE_STATES.indexOf(input.state),
        ...(input.servicerUserId && { servicer_userid: input.servicerUserId }),
      });
      // Session events come from servicers in the WeCom client (reference §5.3), so an API move is recorded here;
      // in whole seconds, as WeCom stamps messages, so a customer message of the same second counts as after it.
      await context.budgets.apply({
        app: context.app.name,
        scope: input.openKfId,
        customer: input.externalUserId,
        session: { state: SESSION_AFTER_TRANS[input.state], at: Math.floor(context.now() / 1000) * 1000 },
      });
      return { state: input.state, ...(typeof answer.msg_code === 'string' && { msgCode: answer.msg_code }) };
    },
  }),
  operation({
    group: 'customers',
    command: 'get',
    summary: 'Customers by external_userid; only those active with the corp in the last 48 hours are found',
    platform: 'wecom',
    method: 'POST',
    path: '/v1/admin/kf/customers/batch-get',
    input: v.strictObject({
      externalUserIds: v.pipe(list(externalUserId, 100), v.minLength(1)),
      withEnterSessionContext: v.optional(
        v.pipe(v.boolean(), v.description('include the scene they came from')),
      ),
    }),
    output: v.strictObject({
      customers: v.array(
        v.strictObject({
          externalUserId: v.string(),
          nickname: v.string(),
          avatar: v.string(),
          gender: v.picklist(GENDERS),
          unionid: v.optional(v.string()),
          scene: v.optional(v.string()),
          sceneParam: v.optional(v.string()),
        }),
      ),
      notFound: v.pipe(v.array(v.string()), v.description('unknown, or not active in the last 48 hours')),
    }),
    async run(input, context) {
      const answer = await wecom(context, 'kf/customer/batchget', {
        external_userid_list: input.externalUserIds,
        need_enter_session_context: input.withEnterSessionContext ? 1 : 0,
      });
      const customers = recordsOf(answer, 'customer_list').map((customer) => {
        const entered = customer.enter_session_context as
          | { scene?: string; scene_param?: string }
          | undefined;
        return {
          externalUserId: String(customer.external_userid),
          nickname: String(customer.nickname ?? ''),
          avatar: String(customer.avatar ?? ''),
          gender: GENDERS[Number(customer.gender)] ?? 'unknown',
          ...(typeof customer.unionid === 'string' && customer.unionid && { unionid: customer.unionid }),
          ...(entered?.scene && { scene: entered.scene }),
          ...(entered?.scene_param && { sceneParam: entered.scene_param }),
        };
      });
      return { customers, notFound: (answer.invalid_external_userid ?? []) as string[] };
    },
  }),
  operation({
    group: 'upgrade-service',
    command: 'config',
    summary: 'The members and group chats customers may be upgraded to (专员服务 / 客户群)',
    platform: 'wecom',
    method: 'GET',
    path: '/v1/admin/kf/upgrade-service/config',
    input: v.strictObject({}),
    output: v.strictObject({
      memberUserIds: v.array(v.string()),
      memberDepartmentIds: v.array(v.number()),
      groupChatIds: v.array(v.string()),
    }),
    async run(_input, context) {
      const answer = await wecom(context, 'kf/customer/get_upgrade_service_config');
      const members = (answer.member_range ?? {}) as {
        userid_list?: string[];
        department_id_list?: number[];
      };
      const groupChats = (answer.groupchat_range ?? {}) as { chat_id_list?: string[] };
      return {
        memberUserIds: members.userid_list ?? [],
        memberDepartmentIds: members.department_id_list ?? [],
        groupChatIds: groupChats.chat_id_list ?? [],
      };
    },
  }),
];
