import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AppConfig, parseConfig } from '../../lib/config/config';
import { CredentialsError, DependencyError } from '../../lib/errors';
import { NO_METRICS } from '../../lib/metrics';
import { createPlatformClient } from '../../lib/platform/client';
import { fetchPlatformToken } from '../../lib/tokens/platformToken';
import { createTokenProvider } from '../../lib/tokens/provider';
import { refreshAllTokens } from '../../lib/tokens/refreshAll';
import { TokenStore, tokenKey } from '../../lib/tokens/store';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { documentClient, itemStores } from '../support/aws';
import { recordingMeter } from '../support/metrics';
import { recordingLog } from '../support/recording';

const TABLE = 'kf-bridge-local-state';
const db = documentClient();
/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
const store = new TokenStore(items, TABLE);
const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
let sim: RunningSimulator;
let run = 0;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

/** Fresh corp, MP app and app names per test, so items in the shared table never collide. */
let corpId: string;
let config: ReturnType<typeof parseConfig>;
beforeEach(() => {
  run++;
  corpId = `wwtokens${run}${Date.now().toString(36)}`;
  sim.sim.reset();
  sim.sim.createCorp({ corpId, secrets: ['secret-a', 'secret-b'] });
  sim.sim.createMpApp({
    appId: `wxmp${run}${Date.now().toString(36)}`,
    secret: 'mp-secret',
    token: 'mptoken',
  });
  const mpAppId = [...sim.sim.mp.apps.keys()][0] ?? '';
  config = parseConfig({
    SYNC_JOBS_QUEUE_URL: 'http://127.0.0.1:1/q/s.fifo',
    INBOUND_QUEUE_URL: 'http://127.0.0.1:1/q/i.fifo',
    OUTBOUND_QUEUE_URL: 'http://127.0.0.1:1/q/o.fifo',
    STATE_TABLE: TABLE,
    KF_BRIDGE_APPS: 'second,mp',
    WECOM_CORP_ID: corpId,
    WECOM_KF_SECRET: 'secret-a',
    WECOM_CALLBACK_TOKEN: 'tok123',
    WECOM_ENCODING_AES_KEY: KEY,
    WECOM_API_BASE: sim.url,
    SECOND_WECOM_CORP_ID: corpId,
    SECOND_WECOM_KF_SECRET: 'secret-b',
    SECOND_WECOM_CALLBACK_TOKEN: 'tok456',
    SECOND_WECOM_ENCODING_AES_KEY: KEY,
    SECOND_WECOM_API_BASE: sim.url,
    MP_MP_APP_ID: mpAppId,
    MP_MP_APP_SECRET: 'mp-secret',
    MP_MP_TOKEN: 'mptoken',
    MP_MP_API_BASE: sim.url,
  });
});

const app = (name: string) => config.apps.get(name) as AppConfig;
const provider = (log = recordingLog().log, meter = NO_METRICS) =>
  createTokenProvider({ store, fetchToken: fetchPlatformToken, now: () => sim.sim.clock.now(), log, meter });

describe('token provider against DynamoDB Local and the simulator', () => {
  it('makes exactly one gettoken call for 200 concurrent callers at a cold start, across containers', async () => {
    const containers = Array.from({ length: 20 }, () => provider());
    const tokens = await Promise.all(
      containers.flatMap((tokens) =>
        Array.from({ length: 10 }, () => tokens.getToken(app('default'), 'wecom')),
      ),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(sim.sim.calls.get('gettoken')).toBe(1);
  });

  it('keeps two apps of one corp with different secrets apart, and never stores a secret', async () => {
    const tokens = provider();
    const [a, b] = await Promise.all([
      tokens.getToken(app('default'), 'wecom'),
      tokens.getToken(app('second'), 'wecom'),
    ]);
    expect(a).not.toBe(b);
    expect(tokenKey(app('default'), 'wecom')).not.toBe(tokenKey(app('second'), 'wecom'));
    const { Item } = await db.send(
      new GetCommand({ TableName: TABLE, Key: { pk: tokenKey(app('default'), 'wecom'), sk: 'TOKEN' } }),
    );
    expect(JSON.stringify(Item)).not.toContain('secret-a');
    expect(tokenKey(app('default'), 'wecom')).not.toContain(corpId);
  });

  it('survives a token revoked in the middle of traffic with exactly one refresh and no failed call', async () => {
    const containers = Array.from({ length: 5 }, () =>
      createPlatformClient({ tokens: provider(), log: recordingLog().log, meter: NO_METRICS }),
    );
    const call = (client: (typeof containers)[number]) =>
      client(app('default'), 'wecom', { path: '/cgi-bin/kf/account/list', body: {} });
    await Promise.all(containers.map(call));
    expect(sim.sim.calls.get('gettoken')).toBe(1);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, async (_, i) => {
        if (i === 20) sim.sim.invalidateTokens('revoke', corpId);
        await new Promise((resolve) => setTimeout(resolve, i * 5));
        return call(containers[i % containers.length] as (typeof containers)[number]);
      }),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(sim.sim.calls.get('gettoken')).toBe(2);
  });

  it('does not throw away a newer token on a late rejection of an older one', async () => {
    const tokens = provider();
    const old = await tokens.getToken(app('default'), 'wecom');
    expect(await tokens.invalidate(app('default'), 'wecom', old)).toBe(true);
    sim.sim.invalidateTokens('revoke', corpId);
    const fresh = await tokens.getToken(app('default'), 'wecom');
    expect(fresh).not.toBe(old);
    expect(await provider().invalidate(app('default'), 'wecom', old)).toBe(false);
    expect((await store.read(tokenKey(app('default'), 'wecom')))?.token).toBe(fresh);
  });

  it('uses MP stable_token in normal mode, and force_refresh only after a confirmed rejection', async () => {
    const client = createPlatformClient({ tokens: provider(), log: recordingLog().log, meter: NO_METRICS });
    const typing = () => client(app('mp'), 'mp', { path: '/cgi-bin/customservice/getkflist' });
    await typing();
    const before = [...sim.sim.mp.tokens.values()][0]?.token;
    // Revocation here: the platform forgets the token, and normal mode would keep handing out the same one.
    sim.sim.mp.tokens.delete(before ?? '');
    await typing();
    const item = await store.read(tokenKey(app('mp'), 'mp'));
    expect(item?.forceRefreshes).toHaveLength(1);
    expect(item?.token).not.toBe(before);
    expect(sim.sim.calls.get('stable_token')).toBe(2);
  });

  it('fails fast on bad credentials: a clear error naming the app, counted once for the alarm, no retry storm', async () => {
    sim.sim.createCorp({ corpId: 'wwrotated', secrets: ['new-secret'] });
    const bad = parseConfig({
      SYNC_JOBS_QUEUE_URL: 'http://127.0.0.1:1/q/s.fifo',
      INBOUND_QUEUE_URL: 'http://127.0.0.1:1/q/i.fifo',
      OUTBOUND_QUEUE_URL: 'http://127.0.0.1:1/q/o.fifo',
      STATE_TABLE: TABLE,
      WECOM_CORP_ID: 'wwrotated',
      WECOM_KF_SECRET: `old-secret-${run}`,
      WECOM_CALLBACK_TOKEN: 'tok123',
      WECOM_ENCODING_AES_KEY: KEY,
      WECOM_API_BASE: sim.url,
    }).apps.get('default') as AppConfig;
    const { log, lines } = recordingLog();
    const { meter, records } = recordingMeter();
    const containers = Array.from({ length: 5 }, () => provider(log, meter));
    const results = await Promise.allSettled(
      containers.flatMap((tokens) => Array.from({ length: 10 }, () => tokens.getToken(bad, 'wecom'))),
    );
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof CredentialsError)).toBe(true);
    const reason = (results[0] as PromiseRejectedResult).reason as CredentialsError;
    expect(reason.message).toMatch(/^app 'default': /);
    expect(reason.message).not.toContain('old-secret');
    expect(sim.sim.calls.get('gettoken')).toBe(1);
    expect(lines.filter((line) => line.args[0] === 'token credentials rejected')).toHaveLength(1);
    expect(records).toEqual([
      {
        metric: 'CredentialsRejected',
        value: 1,
        dimensions: { app: 'default', platform: 'wecom', errcode: String(reason.errcode) },
      },
    ]);
  });

  it('keeps every token ahead of its margin across a simulated 24 h of 5-minute runs', async () => {
    const { log } = recordingLog();
    const tokens = provider(log);
    const margin = 20 * 60_000;
    const stored = async (name: string, platform: 'wecom' | 'mp') =>
      (await store.read(tokenKey(app(name), platform)))?.expiresAt ?? 0;
    for (let minute = 0; minute <= 24 * 60; minute += 5) {
      const report = await refreshAllTokens(config, tokens, margin, log, NO_METRICS);
      expect(report.failed).toEqual([]);
      const now = sim.sim.clock.now();
      for (const name of ['default', 'second'])
        expect((await stored(name, 'wecom')) - now).toBeGreaterThan(margin);
      // MP renews a stable token only in its last 5 minutes: that window is its margin.
      expect((await stored('mp', 'mp')) - now).toBeGreaterThan(300_000);
      sim.sim.advanceClock(5 * 60_000);
    }
    // WeCom: a refresh every time a token nears its margin; MP: once per token lifetime.
    expect(sim.sim.calls.get('gettoken')).toBeLessThanOrEqual(2 * ((24 * 60) / 100 + 2));
    expect(sim.sim.calls.get('stable_token')).toBeLessThanOrEqual((24 * 60) / 115 + 2);
  }, 60_000);

  it('maps platform failures to typed errors that never carry the access token', async () => {
    const client = createPlatformClient({ tokens: provider(), log: recordingLog().log, meter: NO_METRICS });
    const list = () => client(app('default'), 'wecom', { path: '/cgi-bin/kf/account/list', body: {} });
    await list();
    const token = [...sim.sim.wecom.tokens.keys()][0] ?? '';
    sim.sim.setFaults([{ endpoint: 'kf/account/list', kind: 'http', status: 502, count: 1 }]);
    const http = await list().catch((error: unknown) => error as DependencyError);
    expect(http).toBeInstanceOf(DependencyError);
    expect(http.message).toBe("/cgi-bin/kf/account/list failed with HTTP 502 for app 'default'");
    expect(JSON.stringify(http)).not.toContain(token);
    sim.sim.setFaults([{ endpoint: 'kf/account/list', kind: 'errcode', errcode: -1, count: 1 }]);
    await expect(list()).rejects.toMatchObject({ errcode: -1, retryable: true });
    sim.sim.setFaults([{ endpoint: 'kf/account/list', kind: 'errcode', errcode: 95000, count: 1 }]);
    await expect(list()).rejects.toMatchObject({ errcode: 95000, retryable: false });
  });
});
