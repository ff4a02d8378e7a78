import { describe, expect, it } from 'vitest';
import type { BudgetStore } from '../../lib/budgets';
import type { KfOutboundMessage } from '../../lib/contracts/outbound';
import { PlatformError } from '../../lib/errors';
import type { CursorStore } from '../../lib/inbound/cursors';
import type { MessageLedger } from '../../lib/inbound/ledger';
import { pullKfAccount } from '../../lib/inbound/puller';
import { NO_METRICS } from '../../lib/metrics';
import { msgidFor, sendRequest } from '../../lib/outbound/sender';
import type { SendLedger } from '../../lib/outbound/sendLedger';
import {
  createPlatformDownload,
  createPlatformMultipart,
  createPlatformUpload,
  type PlatformRequest,
} from '../../lib/platform/client';
import type { FifoMessage } from '../../lib/queue/publisher';
import { listKfAccounts, listServicers, statistics } from '../../lib/reports/collect';
import { fetchPlatformToken } from '../../lib/tokens/platformToken';
import { recordingLog } from '../support/recording';
import { corpusJson, corpusText, differencesFrom, wire } from './corpus';
import { app, clientDeps, config, corpusPlatform, corpusServer, runOperation, senderDeps } from './fakes';

/**
 * kf-bridge's WeCom requests against the documented ones (field names, nesting, types), and the fields it reads
 * from the documented answers.
 */

const body = (request: PlatformRequest | undefined) => wire(request?.body);

describe('kf/sync_msg', () => {
  it('asks with the documented fields and moves the cursor to the next_cursor of a real page', async () => {
    const page = corpusJson('wecom/sync_msg.response.json');
    const { call, requests } = corpusPlatform({ '/cgi-bin/kf/sync_msg': page });
    const commits: string[] = [];
    const published: FifoMessage[] = [];
    // Time for one page (checked before sync_msg and before its chunk), then none: has_more stops there.
    const remaining = [60_000, 60_000, 0];
    await pullKfAccount(
      {
        schema: 'kf-bridge.sync-job/v1',
        app: 'default',
        openKfId: 'wkxxxxxx',
        token: 'ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR',
        receivedAt: new Date().toISOString(),
      },
      {
        config,
        call,
        meter: NO_METRICS,
        cursors: {
          read: async () => ({ cursor: 'cursor-before', version: 1 }),
          commit: async (_app: string, _kf: string, _state: unknown, next: string) => {
            commits.push(next);
            return true;
          },
        } as unknown as CursorStore,
        ledger: { seen: async () => new Set(), record: async () => {} } as unknown as MessageLedger,
        budgets: { apply: async () => {} } as unknown as BudgetStore,
        sendLedger: { markUndelivered: async () => {} } as unknown as SendLedger,
        publishBatch: async (_url, messages) => {
          published.push(...messages);
        },
        requeue: async () => {},
        now: () => Date.now(),
        remainingMs: () => remaining.shift() ?? 0,
        log: recordingLog().log,
      },
    );
    expect(differencesFrom('wecom/sync_msg.request.json', body(requests[0]))).toEqual([]);
    expect(commits).toEqual([page.next_cursor]);
    // The sample repeats one msgid for every item: the page's duplicates are published once.
    expect(published.map((message) => JSON.parse(message.body).id)).toEqual([page.msg_list[0].msgid]);
  });
});

const KF_MESSAGES: Record<string, KfOutboundMessage> = {
  text: { type: 'text', content: '你好' },
  image: { type: 'image', mediaId: 'MEDIA_ID' },
  voice: { type: 'voice', mediaId: 'MEDIA_ID' },
  video: { type: 'video', mediaId: 'MEDIA_ID' },
  file: { type: 'file', mediaId: 'MEDIA_ID' },
  link: {
    type: 'link',
    title: '标题',
    description: '描述',
    url: 'https://example.com',
    thumbMediaId: 'MEDIA_ID',
  },
  miniprogram: {
    type: 'miniprogram',
    appId: 'APPID',
    title: '标题',
    pagePath: 'pages/index',
    thumbMediaId: 'MEDIA_ID',
  },
  msgmenu: {
    type: 'msgmenu',
    headContent: '您对本次服务是否满意呢?',
    list: [
      { type: 'click', click: { id: '101', content: '满意' } },
      { type: 'view', view: { url: 'https://work.weixin.qq.com', content: '自助查询' } },
      { type: 'miniprogram', miniprogram: { appid: 'wx123', pagepath: 'pages/index', content: '小程序' } },
    ],
    tailContent: '欢迎再次光临',
  },
  location: { type: 'location', name: '测试小区', address: '地址', latitude: 23.1, longitude: 113.3 },
};

/** The sample merges every msgtype into one object: a request has the envelope and its own msgtype's object. */
function documented(file: string, envelope: string[], msgtype: string) {
  const sample = corpusJson(file);
  return Object.fromEntries([...envelope, msgtype].map((field) => [field, sample[field]]));
}

async function sent(message: KfOutboundMessage) {
  const { call, requests } = corpusPlatform({
    '/cgi-bin/kf/send_msg': corpusJson('wecom/send_msg.response.json'),
    '/cgi-bin/kf/send_msg_on_event': corpusJson('wecom/send_msg_on_event.response.json'),
  });
  const request = {
    schema: 'kf-bridge.outbound/v1' as const,
    requestId: `contract-${message.type}`,
    app: 'default',
    channel: 'kf' as const,
    openKfId: 'wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q',
    externalUserId: 'wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw',
    message,
  };
  const outcome = await sendRequest(request, senderDeps(call));
  expect(outcome.status).toBe('sent');
  return { request: requests[0], msgid: msgidFor(request) };
}

describe('kf/send_msg and kf/send_msg_on_event', () => {
  it.each(Object.entries(KF_MESSAGES))('%s is sent as the doc shows it', async (msgtype, message) => {
    const { request } = await sent(message);
    expect(request?.path).toBe('/cgi-bin/kf/send_msg');
    const expected = documented(
      'wecom/send_msg.request.json',
      ['touser', 'open_kfid', 'msgid', 'msgtype'],
      msgtype,
    );
    expect(differencesFrom('wecom/send_msg.request.json', body(request), expected)).toEqual([]);
  });

  it('gives every send a msgid WeCom accepts: at most 32 bytes of [0-9a-zA-Z_-]', async () => {
    const { request, msgid } = await sent({ type: 'text', content: 'x' });
    expect(body(request)).toMatchObject({ msgid });
    expect(msgid).toMatch(/^[0-9a-zA-Z_-]{1,32}$/);
  });

  it.each([
    ['text', { type: 'text', content: '欢迎咨询' }],
    ['msgmenu', KF_MESSAGES.msgmenu],
  ] as const)('a %s reply on an event code is sent as the doc shows it', async (msgtype, reply) => {
    const { request } = await sent({
      type: 'event_reply',
      code: 'CODE',
      message: reply,
    } as KfOutboundMessage);
    expect(request?.path).toBe('/cgi-bin/kf/send_msg_on_event');
    const expected = documented(
      'wecom/send_msg_on_event.request.json',
      ['code', 'msgid', 'msgtype'],
      msgtype,
    );
    expect(differencesFrom('wecom/send_msg_on_event.request.json', body(request), expected)).toEqual([]);
  });
});

describe('admin operations', () => {
  const platform = (path: string, file: string) => corpusPlatform({ [`/cgi-bin/${path}`]: corpusJson(file) });

  it('kf-accounts list', async () => {
    const { call, requests } = platform('kf/account/list', 'wecom/account_list.response.json');
    const result = await runOperation('kf-accounts list', {}, call);
    expect(differencesFrom('wecom/account_list.request.json', body(requests[0]))).toEqual([]);
    expect(result).toEqual({
      accounts: [
        {
          openKfId: 'wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q',
          name: '咨询客服',
          avatar:
            'https://wework.qpic.cn/wwhead/duc2TvpEgSSjibPZlNR6chpx9W3dtd9Ogp8XEmSNKGa6uufMWn2239HUPuwIFoYYZ7Ph580FPvo8/0',
          managedByApi: false,
        },
      ],
    });
  });

  it('kf-accounts add, update and delete', async () => {
    const mediaId = corpusJson('wecom/account_add.request.json').media_id;
    const added = platform('kf/account/add', 'wecom/account_add.response.json');
    expect(
      await runOperation('kf-accounts add', { name: '新建的客服帐号', avatar: { mediaId } }, added.call),
    ).toEqual({
      openKfId: 'wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw',
    });
    expect(differencesFrom('wecom/account_add.request.json', body(added.requests[0]))).toEqual([]);

    const updated = platform('kf/account/update', 'wecom/account_update.response.json');
    expect(
      await runOperation(
        'kf-accounts update',
        { openKfId: 'wk1', name: '修改客服名', avatar: { mediaId } },
        updated.call,
      ),
    ).toEqual({ openKfId: 'wk1' });
    expect(differencesFrom('wecom/account_update.request.json', body(updated.requests[0]))).toEqual([]);

    const deleted = platform('kf/account/del', 'wecom/account_del.response.json');
    expect(await runOperation('kf-accounts delete', { openKfId: 'wk1' }, deleted.call)).toEqual({
      openKfId: 'wk1',
    });
    expect(differencesFrom('wecom/account_del.request.json', body(deleted.requests[0]))).toEqual([]);
  });

  it('kf-accounts link', async () => {
    const { call, requests } = platform('kf/add_contact_way', 'wecom/add_contact_way.response.json');
    const result = await runOperation(
      'kf-accounts link',
      { openKfId: 'OPEN_KFID', scene: '12345', sceneParam: 'a=1' },
      call,
    );
    expect(differencesFrom('wecom/add_contact_way.request.json', body(requests[0]))).toEqual([]);
    expect(result).toEqual({
      url: 'https://work.weixin.qq.com/kf/kfcbf8f8d07ac7215f?enc_scene=ENCGFSDF567DF&scene_param=a%3D1',
    });
  });

  it('servicers add, remove and list', async () => {
    const added = platform('kf/servicer/add', 'wecom/servicer_add.response.json');
    const result = await runOperation(
      'servicers add',
      { openKfId: 'kfxxxxxxxxxxxxxx', userIds: ['zhangsan', 'lisi'], departmentIds: [2, 4] },
      added.call,
    );
    expect(differencesFrom('wecom/servicer_add.request.json', body(added.requests[0]))).toEqual([]);
    expect(result).toEqual({
      results: [
        { userId: 'zhangsan', result: 'added' },
        { userId: 'lisi', result: 'unchanged' },
      ],
      refused: 0,
    });

    const removed = platform('kf/servicer/del', 'wecom/servicer_del.response.json');
    const gone = await runOperation(
      'servicers remove',
      { openKfId: 'kfxxxxxxxxxxxxxx', userIds: ['zhangsan', 'lisi'] },
      removed.call,
    );
    expect(differencesFrom('wecom/servicer_del.request.json', body(removed.requests[0]))).toEqual([]);
    expect(gone).toMatchObject({
      results: [
        { userId: 'zhangsan', result: 'removed' },
        { userId: 'lisi', result: 'unchanged' },
      ],
    });

    const listed = platform('kf/servicer/list', 'wecom/servicer_list.response.json');
    expect(await runOperation('servicers list', { openKfId: 'wk1' }, listed.call)).toEqual({
      servicers: [
        { userId: 'zhangsan', status: 'receiving' },
        { userId: 'lisi', status: 'stopped' },
        { departmentId: 2 },
        { departmentId: 3 },
      ],
    });
    expect(listed.requests[0]).toMatchObject({ query: { open_kfid: 'wk1' } });
  });

  it('sessions get and trans', async () => {
    const got = platform('kf/service_state/get', 'wecom/service_state_get.response.json');
    const state = await runOperation(
      'sessions get',
      { openKfId: 'wkxxxxxxxxxxxxxxxxxx', externalUserId: 'wmxxxxxxxxxxxxxxxxxx' },
      got.call,
    );
    expect(differencesFrom('wecom/service_state_get.request.json', body(got.requests[0]))).toEqual([]);
    expect(state).toEqual({ state: 'servicer', stateCode: 3, servicerUserId: 'zhangsan' });

    const moved = platform('kf/service_state/trans', 'wecom/service_state_trans.response.json');
    const result = await runOperation(
      'sessions trans',
      { openKfId: 'wk1', externalUserId: 'wm1', state: 'servicer', servicerUserId: 'zhangsan' },
      moved.call,
    );
    expect(differencesFrom('wecom/service_state_trans.request.json', body(moved.requests[0]))).toEqual([]);
    expect(result).toEqual({ state: 'servicer', msgCode: 'MSG_CODE' });
  });

  it('customers get', async () => {
    const { call, requests } = platform('kf/customer/batchget', 'wecom/customer_batchget.response.json');
    const result = await runOperation(
      'customers get',
      { externalUserIds: ['wmxxxxxxxxxxxxxxxxxxxxxx', 'zhangsan'], withEnterSessionContext: true },
      call,
    );
    expect(differencesFrom('wecom/customer_batchget.request.json', body(requests[0]))).toEqual([]);
    expect(result).toEqual({
      customers: [
        {
          externalUserId: 'wmxxxxxxxxxxxxxxxxxxxxxx',
          nickname: '张三',
          avatar: 'http://xxxxx',
          gender: 'male',
          unionid: 'oxasdaosaosdasdasdasd',
          scene: '123',
          sceneParam: 'abc',
        },
      ],
      notFound: ['zhangsan'],
    });
  });

  it('upgrade-service config', async () => {
    const { call } = platform(
      'kf/customer/get_upgrade_service_config',
      'wecom/get_upgrade_service_config.response.json',
    );
    expect(await runOperation('upgrade-service config', {}, call)).toEqual({
      memberUserIds: ['zhangsan', 'lisi'],
      memberDepartmentIds: [2, 3],
      groupChatIds: ['wraaaaaaaaaaaaaaaa', 'wrbbbbbbbbbbbbbbb'],
    });
  });
});

describe('statistics export', () => {
  it('lists accounts and servicers from real answers', async () => {
    const accounts = corpusPlatform({
      '/cgi-bin/kf/account/list': corpusJson('wecom/account_list.response.json'),
    });
    expect(await listKfAccounts(accounts.call, app)).toEqual([
      { openKfId: 'wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q', name: '咨询客服' },
    ]);
    expect(differencesFrom('wecom/account_list.request.json', body(accounts.requests[0]))).toEqual([]);
    const servicers = corpusPlatform({
      '/cgi-bin/kf/servicer/list': corpusJson('wecom/servicer_list.response.json'),
    });
    expect(await listServicers(servicers.call, app, 'wk1')).toEqual(['lisi', 'zhangsan']);
  });

  it.each([
    ['corp', undefined, '/cgi-bin/kf/get_corp_statistic', 'wecom/get_corp_statistic'],
    ['servicer', 'zhangsan', '/cgi-bin/kf/get_servicer_statistic', 'wecom/get_servicer_statistic'],
  ])(
    '%s statistics: the documented request, and each day of the answer',
    async (_, servicerUserId, path, file) => {
      const answer = corpusJson(`${file}.response.json`);
      const { call, requests } = corpusPlatform({ [path]: answer });
      const days = await statistics(call, app, {
        openKfId: 'OPEN_KFID',
        ...(servicerUserId && { servicerUserId }),
        from: '2022-02-23',
        to: '2022-02-24',
      });
      expect(differencesFrom(`${file}.request.json`, body(requests[0]))).toEqual([]);
      // 1645545600 is 2022-02-23 00:00 China time, the day statistics are counted in.
      expect(body(requests[0])).toMatchObject({ start_time: 1645545600, end_time: 1645632000 });
      expect([...days.values()]).toEqual(
        answer.statistic_list.map((day: { statistic: unknown }) => day.statistic),
      );
      expect([...days.keys()][0]).toBe('2022-02-23');
    },
  );
});

describe('tokens and media through the HTTP client', () => {
  it('gettoken: the token and its lifetime', async () => {
    const server = await corpusServer({
      '/cgi-bin/gettoken': { body: corpusText('wecom/gettoken.response.json') },
    });
    try {
      expect(await fetchPlatformToken(server.app, 'wecom', { forceRefresh: false })).toEqual({
        token: 'accesstoken000001',
        expiresInSeconds: 7200,
      });
      expect(Object.fromEntries(server.requests[0]?.query ?? [])).toEqual({
        corpid: 'wx5823bf96d3bd56c7',
        corpsecret: 'kf-secret-never-logged',
      });
    } finally {
      await server.close();
    }
  });

  it('media/upload: the media_id and created_at (a string of seconds on WeCom)', async () => {
    const server = await corpusServer({
      '/cgi-bin/media/upload': { body: corpusText('wecom/media_upload.response.json') },
    });
    try {
      const file = { data: Buffer.from('image bytes'), filename: 'a.png', contentType: 'image/png' };
      expect(await createPlatformUpload(clientDeps)(server.app, 'wecom', { type: 'image', file })).toEqual({
        mediaId: '1G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0',
        createdAt: 1380000000_000,
      });
      expect(Object.fromEntries(server.requests[0]?.query ?? [])).toEqual({
        type: 'image',
        access_token: 'ACCESS_TOKEN',
      });
    } finally {
      await server.close();
    }
  });

  it('media/upload refused: a real 44001 answer becomes a PlatformError with its errcode', async () => {
    const server = await corpusServer({
      '/cgi-bin/media/upload': { body: corpusText('wecom/media_upload.error-44001.json') },
    });
    try {
      const file = { data: Buffer.from(''), filename: 'a.png', contentType: 'image/png' };
      const refusal = createPlatformMultipart(clientDeps)(server.app, 'wecom', {
        path: '/cgi-bin/media/upload',
        query: { type: 'image' },
        file,
      });
      await expect(refusal).rejects.toBeInstanceOf(PlatformError);
      await expect(refusal).rejects.toMatchObject({ errcode: 44001 });
    } finally {
      await server.close();
    }
  });

  it('media/get answering JSON instead of the file: the errcode is read', async () => {
    // The doc leaves the error answer's Content-Type out; JSON is what this assumes (see the README).
    const server = await corpusServer({
      '/cgi-bin/media/get': { body: corpusText('wecom/media_get.error.json') },
    });
    try {
      const download = createPlatformDownload(clientDeps)(server.app, 'wecom', {
        path: '/cgi-bin/media/get',
        query: { media_id: 'MEDIA_ID' },
      });
      await expect(download).rejects.toMatchObject({ errcode: 40007 });
    } finally {
      await server.close();
    }
  });
});
