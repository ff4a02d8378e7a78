import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../cli/main';
import { type AdminDeps, handleAdminApi } from '../../lib/admin/adminApi';
import { adminDeps } from '../../lib/admin/wiring';
import { BudgetStore } from '../../lib/budgets';
import { parseConfig } from '../../lib/config/config';
import { CallerFileUnavailableError } from '../../lib/errors';
import { errorResponse } from '../../lib/http/httpApi';
import { safeFetcher } from '../../lib/http/safeFetch';
import { NO_METRICS } from '../../lib/metrics';
import { ERRCODES } from '../../lib/platform/errcodes';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { runCliOn, startAdminApi } from '../support/adminApi';
import { itemStores, localS3Objects, sqsClient } from '../support/aws';
import { recordingLog } from '../support/recording';
import { publicHost } from '../support/tls';
import { testEnv } from '../support/wechat';

const KEY = 'admin-test-key-0123456789';
const CORP = testEnv.WECOM_CORP_ID;
const APP_ID = testEnv.MP_APP_ID;
const MP_KF = 'alice@kfbridge_demo';
/** A PNG as far as anyone checks: the signature, then bytes. */
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(120, 7),
]);

let sim: RunningSimulator;
let api: { url: string; stop(): Promise<void> };
let deps: AdminDeps;
let avatarPath: string;

beforeAll(async () => {
  sim = await startSimulator();
  const config = parseConfig({
    ...testEnv,
    WECOM_API_BASE: sim.url,
    MP_API_BASE: sim.url,
    ADMIN_API_KEY: KEY,
  });
  deps = adminDeps(
    config,
    itemStores().signed,
    localS3Objects(),
    sqsClient(),
    recordingLog().log,
    NO_METRICS,
  );
  api = await startAdminApi(deps);
  avatarPath = join(await mkdtemp(join(tmpdir(), 'kf-bridge-admin-')), 'avatar.png');
  await writeFile(avatarPath, PNG);
});
afterAll(async () => {
  await api.stop();
  await sim.stop();
});
beforeEach(() => {
  sim.sim.reset();
  sim.sim.createCorp({
    corpId: CORP,
    secrets: [testEnv.WECOM_KF_SECRET],
    users: ['zhangsan', 'lisi'],
    departments: [2, 3],
  });
  sim.sim.createMpApp({ appId: APP_ID, secret: testEnv.MP_APP_SECRET, token: testEnv.MP_TOKEN });
});

const cli = (...args: string[]) => cliOn(api.url, ...args);
const cliOn = (apiUrl: string, ...args: string[]) => runCliOn(apiUrl, KEY, args);

const platformCalls = (endpoint: string) => sim.sim.calls.get(endpoint) ?? 0;

describe('kf-accounts', () => {
  it('adds an account with an avatar file uploaded through media/upload, then lists, renames and deletes it', async () => {
    const added = await cli('kf-accounts', 'add', '--name', '售后客服', '--avatar', avatarPath, '--json');
    expect(added.code).toBe(EXIT.done);
    const openKfId = added.json.openKfId as string;
    const account = sim.sim.wecom.accounts.get(openKfId);
    expect(account?.name).toBe('售后客服');
    expect(sim.sim.media.get(CORP, account?.mediaId ?? null).data).toEqual(PNG);

    const table = await cli('kf-accounts', 'list');
    expect(table.code).toBe(EXIT.done);
    expect(table.stdout).toMatch(/^open kf id\s+name\s+avatar\s+managed by api\n/);
    expect(table.stdout).toContain(`${openKfId}  售后客服`);

    expect((await cli('kf-accounts', 'update', '--open-kf-id', openKfId, '--name', '退款客服')).code).toBe(
      EXIT.done,
    );
    expect(account?.name).toBe('退款客服');
    const update = await cli(
      'kf-accounts',
      'update',
      '--open-kf-id',
      openKfId,
      '--avatar',
      avatarPath,
      '--json',
    );
    expect(update.json).toEqual({ openKfId });

    expect((await cli('kf-accounts', 'delete', '--open-kf-id', openKfId)).code).toBe(EXIT.done);
    expect(sim.sim.wecom.accounts.has(openKfId)).toBe(false);
    const again = await cli('kf-accounts', 'delete', '--open-kf-id', openKfId);
    expect(again.code).toBe(EXIT.refused);
    expect(again.stderr).toBe(
      "kf-bridge: /cgi-bin/kf/account/del refused for app 'default': no such kf account (open_kfid) in this corp (errcode 95004)\n",
    );
  });

  it('pages through every account unless a page is asked for', async () => {
    for (let i = 0; i < 130; i++) sim.sim.createKfAccount(CORP, `客服${i}`);
    // The token cached from an earlier test is refused once after the simulator's reset; count from here.
    await cli('upgrade-service', 'config');
    sim.sim.calls.clear();
    const all = await cli('kf-accounts', 'list', '--json');
    expect((all.json.accounts as unknown[]).length).toBe(130);
    expect(all.json.nextOffset).toBeUndefined();
    expect(platformCalls('kf/account/list')).toBe(2);

    const page = await cli('kf-accounts', 'list', '--offset', '100', '--limit', '50', '--json');
    expect((page.json.accounts as unknown[]).length).toBe(30);
    const first = await cli('kf-accounts', 'list', '--limit', '100', '--json');
    expect(first.json.nextOffset).toBe(100);
  });

  it('refuses bad input field by field before anything reaches WeCom', async () => {
    const long = await cli(
      'kf-accounts',
      'add',
      '--name',
      '一二三四五六七八九十一二三四五六七',
      '--avatar',
      avatarPath,
    );
    expect(long.code).toBe(EXIT.usage);
    expect(long.stderr).toBe('kf-bridge: --name is longer than 16 characters\n');
    const none = await cli('kf-accounts', 'update', '--open-kf-id', 'wk1');
    expect(none.code).toBe(EXIT.usage);
    expect(none.stderr).toBe('kf-bridge: --name or --avatar required\n');
    const missing = await cli('kf-accounts', 'add', '--name', 'x', '--avatar', '/no/such/file.png');
    expect(missing).toMatchObject({
      code: EXIT.usage,
      stderr: 'kf-bridge: --avatar: cannot read the file /no/such/file.png\n',
    });
    expect(platformCalls('media/upload') + platformCalls('kf/account/add')).toBe(0);
  });

  it('says what WeCom refused: an expired media_id, the 5000-account limit, an account kept from the API', async () => {
    const stale = await cli('kf-accounts', 'add', '--name', 'x', '--avatar', 'media:MEDIA_GONE', '--json');
    expect(stale.code).toBe(EXIT.refused);
    expect(JSON.parse(stale.stderr)).toMatchObject({
      errcode: 40007,
      error: expect.stringContaining('media_id is not valid'),
    });

    const consoleOnly = sim.sim.createKfAccount(CORP, '人工客服', { managedByApi: false });
    const listed = await cli('kf-accounts', 'list', '--json');
    expect(listed.json.accounts).toContainEqual(
      expect.objectContaining({ openKfId: consoleOnly, managedByApi: false }),
    );
    const refused = await cli('kf-accounts', 'update', '--open-kf-id', consoleOnly, '--name', 'x');
    expect(refused.code).toBe(EXIT.refused);
    expect(refused.stderr).toContain('the kf account is not handed to this app');
    expect(refused.stderr).toContain('(errcode 48007)');

    for (let i = sim.sim.wecom.accounts.size; i < 5000; i++) sim.sim.createKfAccount(CORP, `客服${i}`);
    const full = await cli('kf-accounts', 'add', '--name', '第5001个', '--avatar', avatarPath);
    expect(full.code).toBe(EXIT.refused);
    expect(full.stderr).toContain(
      'the corp already has the most kf accounts allowed (5000), or would be left with none (errcode 95005)',
    );
  });

  it('makes a contact-way link with the scene and its scene_param appended so WeChat hands both back', async () => {
    const openKfId = sim.sim.createKfAccount(CORP, '客服');
    const sceneParam = '活动=双11&来源=公众号 菜单';
    const link = await cli(
      'kf-accounts',
      'link',
      '--open-kf-id',
      openKfId,
      '--scene',
      'promo_11',
      '--scene-param',
      sceneParam,
      '--json',
    );
    expect(link.code).toBe(EXIT.done);
    const url = link.json.url as string;
    expect(url).toMatch(/\?enc_scene=ENC[^&]+&scene_param=%E6%B4%BB/);
    sim.sim.openContactWay(url, 'wmCustomer1');
    expect(sim.sim.wecom.customers.get('wmCustomer1')?.enterSessionContext).toEqual({
      scene: 'promo_11',
      scene_param: sceneParam,
    });

    const orphan = await cli('kf-accounts', 'link', '--open-kf-id', openKfId, '--scene-param', 'x');
    expect(orphan.code).toBe(EXIT.usage);
    expect(orphan.stderr).toBe('kf-bridge: --scene-param needs a --scene\n');
    const plain = await cli('kf-accounts', 'link', '--open-kf-id', openKfId, '--json');
    expect(plain.json.url).toMatch(/^https:\/\/work\.weixin\.qq\.com\/kf\/kfc/);
  });
});

describe('servicers', () => {
  it('adds and removes members and departments with a result per item, and lists them', async () => {
    const openKfId = sim.sim.createKfAccount(CORP, '客服');
    const added = await cli(
      'servicers',
      'add',
      '--open-kf-id',
      openKfId,
      '--user-ids',
      'zhangsan,nobody',
      '--department-ids',
      '2',
    );
    expect(added.code).toBe(EXIT.refused);
    expect(added.stdout).toMatch(/user id\s+result\s+errcode\s+department id/);
    expect(added.stdout).toMatch(/nobody\s+refused\s+60111/);
    const json = await cli('servicers', 'add', '--open-kf-id', openKfId, '--user-ids', 'zhangsan', '--json');
    expect(json.json).toEqual({ results: [{ userId: 'zhangsan', result: 'unchanged' }], refused: 0 });

    const listed = await cli('servicers', 'list', '--open-kf-id', openKfId, '--json');
    expect(listed.json.servicers).toEqual([{ userId: 'zhangsan', status: 'receiving' }, { departmentId: 2 }]);

    const removed = await cli(
      'servicers',
      'remove',
      '--open-kf-id',
      openKfId,
      '--user-ids',
      'zhangsan',
      '--user-ids',
      'lisi',
      '--json',
    );
    expect(removed.json.results).toEqual([
      { userId: 'zhangsan', result: 'removed' },
      { userId: 'lisi', result: 'unchanged' },
    ]);
    expect((await cli('servicers', 'remove', '--open-kf-id', openKfId)).stderr).toBe(
      'kf-bridge: --user-ids or --department-ids required\n',
    );
  });

  it('refuses the servicer past the limit of 2000 per account, item by item', async () => {
    const openKfId = sim.sim.createKfAccount(CORP, '客服');
    const account = sim.sim.wecom.accounts.get(openKfId);
    for (let i = 0; i < 2000; i++) account?.servicers.set(`member${i}`, { status: 0, stopType: 0 });
    const over = await cli('servicers', 'add', '--open-kf-id', openKfId, '--user-ids', 'lisi', '--json');
    expect(over.code).toBe(EXIT.refused);
    expect(JSON.parse(over.stdout)).toEqual({
      results: [{ userId: 'lisi', result: 'refused', errcode: ERRCODES.KF_SERVICER_LIMIT.code }],
      refused: 1,
    });
  });
});

describe('sessions and customers', () => {
  it('reads and moves a session, with the msg_code WeCom gives for the move', async () => {
    const openKfId = sim.sim.createKfAccount(CORP, '客服');
    sim.sim.wecom.accounts.get(openKfId)?.servicers.set('zhangsan', { status: 0, stopType: 0 });
    sim.sim.customerSays(openKfId, 'wmAlice', '你好');
    const session = ['--open-kf-id', openKfId, '--external-user-id', 'wmAlice'];
    const trans = (state: string, ...more: string[]) =>
      cli('sessions', 'trans', ...session, '--state', state, ...more);
    expect((await cli('sessions', 'get', ...session, '--json')).json).toEqual({ state: 'new', stateCode: 0 });

    const missing = await trans('servicer');
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain('kf-bridge: --servicer-user-id is required for --state servicer');
    const busy = await trans('servicer', '--servicer-user-id', 'lisi');
    expect(busy.code).toBe(EXIT.refused);
    expect(busy.stderr).toContain(
      'the user is not a servicer of this kf account, or has not activated WeCom (errcode 95014)',
    );

    const moved = await trans('servicer', '--servicer-user-id', 'zhangsan', '--json');
    expect(moved.json).toEqual({ state: 'servicer', msgCode: expect.any(String) });
    const after = await cli('sessions', 'get', ...session);
    expect(after.stdout).toMatch(/state\s+servicer\nstate code\s+3\nservicer user id\s+zhangsan\n/);

    await trans('ended');
    const stuck = await trans('assistant');
    expect(stuck.code).toBe(EXIT.refused);
    expect(stuck.stderr).toContain('(errcode 95016)');
  });

  it('records what a move made of the session for the reply budget, and nothing when WeCom refuses the move', async () => {
    const openKfId = sim.sim.createKfAccount(CORP, '客服');
    sim.sim.wecom.accounts.get(openKfId)?.servicers.set('zhangsan', { status: 0, stopType: 0 });
    const budgets = new BudgetStore(itemStores().sdk, testEnv.STATE_TABLE);
    const session = async (customer: string) =>
      (await budgets.read({ app: 'default', scope: openKfId, customer })).session;
    const trans = (customer: string, state: string, ...more: string[]) =>
      cli(
        'sessions',
        'trans',
        '--open-kf-id',
        openKfId,
        '--external-user-id',
        customer,
        '--state',
        state,
        ...more,
      );

    sim.sim.customerSays(openKfId, 'wmBot', '你好');
    expect((await trans('wmBot', 'assistant')).code).toBe(EXIT.done);
    expect(await session('wmBot')).toBe('open');
    expect((await trans('wmBot', 'queued')).code).toBe(EXIT.done);
    expect(await session('wmBot')).toBe('queued');
    expect((await trans('wmBot', 'servicer', '--servicer-user-id', 'zhangsan')).code).toBe(EXIT.done);
    expect(await session('wmBot')).toBe('servicer');
    expect((await trans('wmBot', 'ended')).code).toBe(EXIT.done);
    expect(await session('wmBot')).toBe('ended');
    expect((await trans('wmBot', 'assistant')).code).toBe(EXIT.refused);
    expect(await session('wmBot')).toBe('ended');
  });

  it('finds customers active in the last 48 hours with how they came, and names the others', async () => {
    const openKfId = sim.sim.createKfAccount(CORP, '客服');
    const link = await cli(
      'kf-accounts',
      'link',
      '--open-kf-id',
      openKfId,
      '--scene',
      'menu',
      '--scene-param',
      'p1',
      '--json',
    );
    sim.sim.openContactWay(link.json.url as string, 'wmBob');
    const found = await cli(
      'customers',
      'get',
      '--external-user-ids',
      'wmBob,wmStranger',
      '--with-enter-session-context',
      '--json',
    );
    expect(found.json).toMatchObject({
      customers: [{ externalUserId: 'wmBob', scene: 'menu', sceneParam: 'p1' }],
      notFound: ['wmStranger'],
    });
  });

  it('shows the upgrade-service ranges', async () => {
    const config = await cli('upgrade-service', 'config', '--json');
    expect(config.json).toEqual({
      memberUserIds: ['zhangsan', 'lisi'],
      memberDepartmentIds: [2, 3],
      groupChatIds: [],
    });
  });
});

describe('avatars by URL', () => {
  it('refuses an avatar whose host resolves to loopback, before any platform call', async () => {
    const local = await cli('kf-accounts', 'add', '--name', '售后', '--avatar', 'https://localhost/a.png');
    expect(local).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('media URL host localhost resolves to an internal address (loopback)'),
    });
    expect(platformCalls('media/upload') + platformCalls('kf/account/add')).toBe(0);
  });

  it('says why an avatar URL could not be fetched, as a usage error: the platform is not at fault', async () => {
    const unresolvable = await cli(
      'kf-accounts',
      'add',
      '--name',
      '售后',
      '--avatar',
      'https://nowhere.invalid/a.png',
    );
    expect(unresolvable).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringMatching(
        /^kf-bridge: avatar https:\/\/nowhere\.invalid\/a\.png could not be fetched: (no such host|its host name did not resolve)\n$/,
      ),
    });
    const host = await publicHost((request, response) => {
      if (request.url === '/refused.png') request.socket.destroy();
      else if (request.url === '/page.png')
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html>moved</html>');
      else response.writeHead(404).end('no such file');
    });
    const fetching = adminDeps(
      deps.config,
      itemStores().signed,
      localS3Objects(),
      sqsClient(),
      recordingLog().log,
      NO_METRICS,
      Date.now,
      host.safeFetch,
    );
    const add = (avatarUrl: string) =>
      handleAdminApi(
        {
          method: 'POST',
          path: '/v1/admin/kf/accounts',
          query: {},
          headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ name: '售后', avatar: { url: avatarUrl } }),
        },
        fetching,
      );
    const setMpAvatar = (avatarUrl: string) =>
      handleAdminApi(
        {
          method: 'PUT',
          path: `/v1/admin/mp/kf-accounts/${MP_KF}/avatar`,
          query: {},
          headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ avatar: { url: avatarUrl } }),
        },
        fetching,
      );
    try {
      await expect(add(host.url('/gone.png'))).rejects.toMatchObject({
        status: 400,
        message: `avatar ${host.url('/gone.png')} could not be fetched: media URL answered HTTP 404`,
      });
      await expect(add(host.url('/page.png'))).rejects.toMatchObject({
        status: 400,
        message: `avatar ${host.url('/page.png')} is not a JPG or PNG image`,
      });
      // A connection the host drops may work on the next try: not the caller's input at fault (see below).
      await expect(setMpAvatar(host.url('/refused.png'))).rejects.toMatchObject({
        status: 503,
        message: `avatar ${host.url('/refused.png')} is temporarily unavailable: the connection was reset`,
      });
    } finally {
      await host.stop();
    }
    expect(
      platformCalls('media/upload') + platformCalls('kf/account/add') + platformCalls('uploadheadimg'),
    ).toBe(0);
  });

  /** The admin deps with avatars fetched by `safeFetch`, and every line they log. */
  function fetchingDeps(safeFetch: ReturnType<typeof safeFetcher>) {
    const recorded = recordingLog();
    const fetching = adminDeps(
      deps.config,
      itemStores().signed,
      localS3Objects(),
      sqsClient(),
      recorded.log,
      NO_METRICS,
      Date.now,
      safeFetch,
    );
    return { fetching, lines: recorded.lines };
  }

  /** The API's answer to adding a kf account with this avatar URL, as the api function gives it. */
  async function answerToAvatar(fetching: AdminDeps, avatarUrl: string, signal?: AbortSignal) {
    try {
      await handleAdminApi(
        {
          method: 'POST',
          path: '/v1/admin/kf/accounts',
          query: {},
          headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ name: '售后', avatar: { url: avatarUrl } }),
          ...(signal && { signal }),
        },
        fetching,
      );
    } catch (error) {
      const answer = errorResponse(error, fetching.log, 'json');
      return { error, status: answer.statusCode, body: JSON.parse(answer.body ?? '{}') };
    }
    throw new Error('the avatar was taken');
  }

  it("names an avatar URL by its origin and path only: no password, no presigned URL's token or signature", async () => {
    const host = await publicHost((_, response) => response.writeHead(404).end(), 'bucket.s3.amazonaws.com');
    const { fetching, lines } = fetchingDeps(host.safeFetch);
    const withPassword = host.url('/a.png').replace('https://', 'https://user:s3cr3tpass@');
    const presigned = host.url('/a.png?X-Amz-Security-Token=SESSIONTOKEN&X-Amz-Signature=SIG#part');
    try {
      for (const avatarUrl of [withPassword, presigned]) {
        const answer = await answerToAvatar(fetching, avatarUrl);
        expect(answer).toMatchObject({
          status: 400,
          body: { error: `avatar ${host.url('/a.png')} could not be fetched: media URL answered HTTP 404` },
        });
        const everything = JSON.stringify([answer.body, lines, String((answer.error as Error).message)]);
        for (const secret of ['user', 's3cr3tpass', 'SESSIONTOKEN', 'SIG', 'X-Amz', 'part'])
          expect(everything).not.toContain(secret);
      }
    } finally {
      await host.stop();
    }
  });

  it("says an avatar URL is temporarily unavailable, naming the host, when what failed may pass: kf-bridge's resolver or network, the host's server, kf-bridge's deadline", async () => {
    const deadline = new AbortController();
    const host = await publicHost((request, response) => {
      if (request.url === '/reset.png') request.socket.destroy();
      else if (request.url === '/busy.png') response.writeHead(503).end('try later');
      // kf-bridge's own deadline passes while the host is still silent.
      else if (request.url === '/slow.png') deadline.abort(new DOMException('deadline', 'TimeoutError'));
    });
    const failingLookup = (code: string) =>
      safeFetcher({
        resolve: async () => {
          throw Object.assign(new Error(`lookup failed`), { code });
        },
      });
    const cases = [
      {
        fetch: failingLookup('EAI_AGAIN'),
        url: 'https://files.example.com/a.png',
        cause: 'its host name did not resolve',
      },
      {
        fetch: failingLookup('ETIMEDOUT'),
        url: 'https://files.example.com/a.png',
        cause: 'the connection timed out',
      },
      { fetch: host.safeFetch, url: host.url('/reset.png'), cause: 'the connection was reset' },
      { fetch: host.safeFetch, url: host.url('/busy.png'), cause: 'media URL answered HTTP 503' },
      {
        fetch: host.safeFetch,
        url: host.url('/slow.png'),
        cause: 'it did not arrive in time',
        signal: deadline.signal,
      },
    ];
    try {
      for (const { fetch: safeFetch, url, cause, signal } of cases) {
        const answer = await answerToAvatar(fetchingDeps(safeFetch).fetching, url, signal);
        expect(answer.error, url).toBeInstanceOf(CallerFileUnavailableError);
        expect(answer, url).toMatchObject({
          status: 503,
          body: { error: `avatar ${url} is temporarily unavailable: ${cause}` },
        });
      }
      // The CLI says so with its exit code for "try again later".
      const busyApi = await startAdminApi(fetchingDeps(host.safeFetch).fetching);
      try {
        const busy = await cliOn(
          busyApi.url,
          'kf-accounts',
          'add',
          '--name',
          '售后',
          '--avatar',
          host.url('/busy.png'),
        );
        expect(busy).toMatchObject({
          code: EXIT.retryLater,
          stderr: `kf-bridge: avatar ${host.url('/busy.png')} is temporarily unavailable: media URL answered HTTP 503\n`,
        });
      } finally {
        await busyApi.stop();
      }
    } finally {
      await host.stop();
    }
    expect(platformCalls('media/upload') + platformCalls('kf/account/add')).toBe(0);
  });

  it('refuses an Official Account avatar past 2 MB as it arrives, without waiting for the rest', async () => {
    let hungUp: Promise<unknown> | undefined;
    // A JPG of no announced size, past 2 MB, whose end never comes.
    const host = await publicHost((_, response) => {
      hungUp = new Promise((resolve) => response.on('close', resolve));
      response
        .writeHead(200, { 'content-type': 'image/jpeg' })
        .write(Buffer.alloc(2 * 1024 * 1024 + 65_536, 0xff));
    });
    const fetching = adminDeps(
      deps.config,
      itemStores().signed,
      localS3Objects(),
      sqsClient(),
      recordingLog().log,
      NO_METRICS,
      Date.now,
      host.safeFetch,
    );
    const request = {
      method: 'PUT',
      path: `/v1/admin/mp/kf-accounts/${MP_KF}/avatar`,
      query: {},
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ avatar: { url: host.url('/face.jpg') } }),
    };
    try {
      await expect(handleAdminApi(request, fetching)).rejects.toMatchObject({
        status: 400,
        message: 'avatar is over 2 MB',
      });
      await hungUp;
    } finally {
      await host.stop();
    }
    expect(platformCalls('uploadheadimg')).toBe(0);
  });
});

describe('Official Account kf accounts and sessions', () => {
  it('adds, invites, sets the avatar of, renames, lists and deletes an account', async () => {
    expect((await cli('mp-accounts', 'add', '--kf-account', MP_KF, '--nickname', '小爱')).code).toBe(
      EXIT.done,
    );
    const exists = await cli('mp-accounts', 'add', '--kf-account', MP_KF, '--nickname', '小爱');
    expect(exists).toMatchObject({
      code: EXIT.refused,
      stderr: expect.stringContaining('that kf account already exists (errcode 65406)'),
    });
    expect((await cli('mp-accounts', 'invite', '--kf-account', MP_KF, '--wechat-id', 'alice_wx')).code).toBe(
      EXIT.done,
    );
    // The Official Account takes JPG avatars only: a PNG is refused before MP is called.
    const png = await cli('mp-accounts', 'avatar', '--kf-account', MP_KF, '--avatar', avatarPath);
    expect(png).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('avatar is not a JPG image'),
    });
    expect(platformCalls('uploadheadimg')).toBe(0);
    const jpgPath = join(dirname(avatarPath), 'avatar.jpg');
    await writeFile(jpgPath, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70]));
    expect((await cli('mp-accounts', 'avatar', '--kf-account', MP_KF, '--avatar', jpgPath)).code).toBe(
      EXIT.done,
    );
    expect((await cli('mp-accounts', 'update', '--kf-account', MP_KF, '--nickname', '小爱同学')).code).toBe(
      EXIT.done,
    );

    const listed = await cli('mp-accounts', 'list', '--json');
    expect(listed.json.accounts).toEqual([
      expect.objectContaining({
        kfAccount: MP_KF,
        nickname: '小爱同学',
        avatar: expect.stringMatching(/^https:\/\//),
        invitedWechat: 'alice_wx',
        invitation: 'waiting',
      }),
    ]);
    sim.sim.setMpKfWorker(APP_ID, MP_KF, { acceptInvite: true, online: true });
    const online = await cli('mp-accounts', 'online');
    expect(online.stdout).toMatch(new RegExp(`${MP_KF}\\s+\\d+\\s+web\\s+0`));

    expect((await cli('mp-accounts', 'delete', '--kf-account', MP_KF)).code).toBe(EXIT.done);
    const gone = await cli('mp-accounts', 'delete', '--kf-account', MP_KF);
    expect(gone.stderr).toContain('no such kf account on this Official Account (errcode 65401)');
  });

  it('refuses a malformed account locally, and says when the limit or the permission stops it', async () => {
    const bad = await cli('mp-accounts', 'add', '--kf-account', 'alice', '--nickname', '小爱');
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toBe('kf-bridge: --kf-account must be prefix@ the Official Account WeChat id\n');

    for (let i = 0; i < 100; i++)
      await cli('mp-accounts', 'add', '--kf-account', `kf${i}@kfbridge_demo`, '--nickname', `客服${i}`);
    const full = await cli('mp-accounts', 'add', '--kf-account', MP_KF, '--nickname', '小爱');
    expect(full.stderr).toContain(
      'the Official Account already has the most kf accounts allowed (errcode 65405)',
    );

    sim.sim.reset();
    sim.sim.createMpApp({
      appId: APP_ID,
      secret: testEnv.MP_APP_SECRET,
      token: testEnv.MP_TOKEN,
      customServiceEnabled: false,
    });
    const off = await cli('mp-accounts', 'list');
    expect(off.code).toBe(EXIT.refused);
    expect(off.stderr).toContain('the new customer service is not enabled for this Official Account');
    expect(off.stderr).toContain('(errcode 65400)');
  });

  it('creates, reads, lists and closes sessions, and lists followers waiting', async () => {
    await cli('mp-accounts', 'add', '--kf-account', MP_KF, '--nickname', '小爱');
    sim.sim.mpUserWrites(APP_ID, 'oFollower1', { MsgType: 'text', Content: '人工' });
    const waiting = await cli('mp-sessions', 'waiting', '--json');
    expect(waiting.json).toEqual({
      count: 1,
      waiting: [{ openid: 'oFollower1', since: expect.any(String) }],
    });

    const unbound = await cli('mp-sessions', 'create', '--kf-account', MP_KF, '--openid', 'oFollower1');
    expect(unbound.stderr).toContain(
      'the kf account is not bound to a WeChat user yet: invite one first (errcode 65402)',
    );
    await cli('mp-accounts', 'invite', '--kf-account', MP_KF, '--wechat-id', 'alice_wx');
    sim.sim.setMpKfWorker(APP_ID, MP_KF, { acceptInvite: true, online: true });
    const created = await cli(
      'mp-sessions',
      'create',
      '--kf-account',
      MP_KF,
      '--openid',
      'oFollower1',
      '--text',
      'VIP',
      '--json',
    );
    expect(created.json).toEqual({ openid: 'oFollower1', kfAccount: MP_KF });

    const session = await cli('mp-sessions', 'get', '--openid', 'oFollower1', '--json');
    expect(session.json).toEqual({ openid: 'oFollower1', kfAccount: MP_KF, since: expect.any(String) });
    const list = await cli('mp-sessions', 'list', '--kf-account', MP_KF, '--json');
    expect(list.json.sessions).toEqual([{ openid: 'oFollower1', since: expect.any(String) }]);

    expect((await cli('mp-sessions', 'close', '--kf-account', MP_KF, '--openid', 'oFollower1')).code).toBe(
      EXIT.done,
    );
    const closed = await cli('mp-sessions', 'close', '--kf-account', MP_KF, '--openid', 'oFollower1');
    expect(closed.stderr).toContain('the follower has no open session (errcode 65413)');
    expect((await cli('mp-sessions', 'get', '--openid', 'oFollower1', '--json')).json).toEqual({
      openid: 'oFollower1',
    });
  });
});

describe('what scripts rely on', () => {
  it('exits 5 when the platform rate-limits, 4 for a wrong key, 2 for an unknown app', async () => {
    sim.sim.setFaults([{ endpoint: 'kf/account/list', kind: 'errcode', errcode: 45009, count: 1 }]);
    const limited = await cli('kf-accounts', 'list');
    expect(limited.code).toBe(EXIT.retryLater);
    expect(limited.stderr).toContain('the API rate limit was reached; try again in a minute (errcode 45009)');

    const wrongKey = await runCli(
      ['kf-accounts', 'list', '--url', api.url, '--api-key', 'wrong-key-0123456789'],
      {
        env: {},
        stdout: () => {},
        stderr: () => {},
        fetch,
        readFile,
        localAdminKey: async () => KEY,
        localApiUrl: async () => api.url,
      },
    );
    expect(wrongKey).toBe(EXIT.unreachable);

    const unknown = await cli('kf-accounts', 'list', '--app', 'sales');
    expect(unknown).toMatchObject({ code: EXIT.usage, stderr: "kf-bridge: no app 'sales'\n" });
  });

  it("refuses an operation for an app without that platform's settings, before any call", async () => {
    const { WECOM_CORP_ID, WECOM_KF_SECRET, WECOM_CALLBACK_TOKEN, WECOM_ENCODING_AES_KEY, ...mpOnly } =
      testEnv;
    const config = parseConfig({ ...mpOnly, MP_API_BASE: sim.url, ADMIN_API_KEY: KEY });
    const request = {
      method: 'GET',
      path: '/v1/admin/kf/accounts',
      query: {},
      headers: { 'x-api-key': KEY },
      body: '',
    };
    await expect(handleAdminApi(request, { ...deps, config })).rejects.toMatchObject({
      status: 404,
      message: "app 'default' has no WeCom settings",
    });
    expect(sim.sim.calls.size).toBe(0);
  });

  it('answers field-level errors from the API itself, for callers other than the CLI', async () => {
    const response = await fetch(`${api.url}/v1/admin/kf/accounts`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: '',
        avatar: { url: 'http://plain.example/a.png', data: 'iVBOR' },
        extra: 1,
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { path: string; message: string }[] };
    expect(body.issues.map((issue) => issue.path).sort()).toEqual(['avatar', 'avatar.url', 'extra', 'name']);
    expect(body.issues.map((issue) => issue.message).sort()).toEqual([
      'avatar must have exactly one of mediaId, url, s3 or data',
      'avatar.url must be an https URL',
      'extra is not a known field',
      'name must not be empty',
    ]);
    const wrongMethod = await fetch(`${api.url}/v1/admin/kf/accounts`, {
      method: 'PUT',
      headers: { 'x-api-key': KEY },
    });
    expect(wrongMethod.status).toBe(405);
  });
});
