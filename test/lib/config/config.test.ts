import { describe, expect, it } from 'vitest';
import { loadConfigOnce } from '../../../lib/config';
import { parseConfig, settingName } from '../../../lib/config/config';
import { withSsmParameters } from '../../../lib/config/ssm';
import type { ReadParameters } from '../../../lib/config/ssmReader';
import { ConfigError } from '../../../lib/errors';
import { testEnv } from '../../support/wechat';

const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const base = {
  SYNC_JOBS_QUEUE_URL: 'http://localhost:4566/000000000000/sync-jobs.fifo',
  INBOUND_QUEUE_URL: 'http://localhost:4566/000000000000/inbound.fifo',
  OUTBOUND_QUEUE_URL: 'http://localhost:4566/000000000000/outbound.fifo',
  STATE_TABLE: 'kf-bridge-test-state',
};
const wecom = {
  WECOM_CORP_ID: 'ww5823bf96d3bd56c7',
  WECOM_KF_SECRET: 'secret',
  WECOM_CALLBACK_TOKEN: 'QDG6eK',
  WECOM_ENCODING_AES_KEY: KEY,
};

describe('parseConfig', () => {
  it('reads the default app with the documented defaults', () => {
    const config = parseConfig({ ...base, ...wecom });
    const app = config.apps.get('default');
    expect(app?.wecom?.corpId).toBe('ww5823bf96d3bd56c7');
    expect(app?.wecom?.aesKey).toHaveLength(32);
    expect(app?.wecom?.apiBase).toBe('https://qyapi.weixin.qq.com');
    expect(app?.mp).toBeUndefined();
    expect(config.callbackMaxClockSkewSeconds).toBe(300);
    // Receives well above attempts: a reply skipped behind its customer's failing ones keeps its own attempts.
    expect(config).toMatchObject({ outboundMaxAttempts: 10, outboundMaxReceives: 50 });
  });

  it('reads an MP-only app, with or without an AES key', () => {
    const config = parseConfig({
      ...base,
      MP_APP_ID: 'wx45f133bf6fce646e',
      MP_APP_SECRET: 's',
      MP_TOKEN: 'tok123',
    });
    expect(config.apps.get('default')?.mp).toMatchObject({
      appId: 'wx45f133bf6fce646e',
      apiBase: 'https://api.weixin.qq.com',
    });
    expect(config.apps.get('default')?.mp?.aesKey).toBeUndefined();
  });

  it('takes MP pushes in safe mode when an AES key is set, in plaintext mode otherwise, or as MP_MESSAGE_MODE says', () => {
    const mp = { MP_APP_ID: 'wx45f133bf6fce646e', MP_APP_SECRET: 's', MP_TOKEN: 'tok123' };
    const mode = (env: Record<string, string>) =>
      parseConfig({ ...base, ...mp, ...env }).apps.get('default')?.mp?.messageMode;
    expect(mode({})).toBe('plaintext');
    expect(mode({ MP_ENCODING_AES_KEY: KEY })).toBe('safe');
    expect(mode({ MP_ENCODING_AES_KEY: KEY, MP_MESSAGE_MODE: 'compatible' })).toBe('compatible');
    expect(mode({ MP_ENCODING_AES_KEY: KEY, MP_MESSAGE_MODE: 'plaintext' })).toBe('plaintext');
    expect(
      parseConfig({
        ...base,
        ...wecom,
        KF_BRIDGE_APPS: 'sales',
        SALES_MP_APP_ID: 'wxsales',
        SALES_MP_APP_SECRET: 's',
        SALES_MP_TOKEN: 'salesToken',
        SALES_MP_ENCODING_AES_KEY: KEY,
        SALES_MP_MESSAGE_MODE: 'compatible',
      }).apps.get('sales')?.mp?.messageMode,
    ).toBe('compatible');
  });

  it('turns the callback timestamp check off only on the local stage', () => {
    expect(
      parseConfig({ ...base, ...wecom, CALLBACK_MAX_CLOCK_SKEW_SECONDS: '0', KF_BRIDGE_STAGE: 'local' })
        .callbackMaxClockSkewSeconds,
    ).toBe(0);
    for (const stage of [{}, { KF_BRIDGE_STAGE: 'prod' }])
      expect(() =>
        parseConfig({ ...base, ...wecom, ...stage, CALLBACK_MAX_CLOCK_SKEW_SECONDS: '0' }),
      ).toThrow(
        new ConfigError(
          'CALLBACK_MAX_CLOCK_SKEW_SECONDS is 0, which turns the timestamp check off: allowed on the local stage only',
        ),
      );
  });

  it('reads more apps keyed by name, each with its own settings', () => {
    const config = parseConfig({
      ...base,
      ...wecom,
      KF_BRIDGE_APPS: 'sales, after-sales',
      SALES_WECOM_CORP_ID: 'wwsales',
      SALES_WECOM_KF_SECRET: 'sales-secret',
      SALES_WECOM_CALLBACK_TOKEN: 'salesToken',
      SALES_WECOM_ENCODING_AES_KEY: KEY,
      AFTER_SALES_MP_APP_ID: 'wxafter',
      AFTER_SALES_MP_APP_SECRET: 's',
      AFTER_SALES_MP_TOKEN: 'afterToken',
    });
    expect([...config.apps.keys()]).toEqual(['default', 'sales', 'after-sales']);
    expect(config.apps.get('sales')?.wecom?.kfSecret).toBe('sales-secret');
    expect(settingName('after-sales', 'MP_TOKEN')).toBe('AFTER_SALES_MP_TOKEN');
  });

  it.each([
    [{ ...wecom, WECOM_KF_SECRET: '' }, 'WECOM_KF_SECRET is not set'],
    [{ ...wecom, WECOM_ENCODING_AES_KEY: 'abc' }, 'WECOM_ENCODING_AES_KEY must be 43 characters of base64'],
    [{ ...wecom, WECOM_CORP_ID: 'has space' }, "WECOM_CORP_ID must be 1-64 letters, digits, '_' or '-'"],
    [{ ...wecom, WECOM_CALLBACK_TOKEN: 'a!' }, 'WECOM_CALLBACK_TOKEN must be 3-32 letters or digits'],
    [{ ...wecom, WECOM_API_BASE: 'ftp://x' }, 'WECOM_API_BASE must be an http(s) URL'],
    [{ ...wecom, WECOM_API_BASE: 'not a url' }, 'WECOM_API_BASE is not a URL'],
    [
      { ...wecom, CALLBACK_MAX_CLOCK_SKEW_SECONDS: '-1' },
      'CALLBACK_MAX_CLOCK_SKEW_SECONDS must be a whole number of seconds',
    ],
    [
      { ...wecom, KF_BRIDGE_APPS: 'Sales' },
      "KF_BRIDGE_APPS: 'Sales' must be lowercase letters, digits or '-', at most 32",
    ],
    [
      { ...wecom, KF_BRIDGE_APPS: 'sales' },
      "app 'sales' has no settings: set SALES_WECOM_CORP_ID (and the other WeCom settings) or SALES_MP_APP_ID",
    ],
    [{}, "app 'default' has no settings: set WECOM_CORP_ID (and the other WeCom settings) or MP_APP_ID"],
    [{ MP_APP_ID: 'wx1', MP_APP_SECRET: 's' }, 'MP_TOKEN is not set'],
    [
      { MP_APP_ID: 'wx1', MP_APP_SECRET: 's', MP_TOKEN: 'tok123', MP_MESSAGE_MODE: 'aes' },
      'MP_MESSAGE_MODE must be safe, compatible or plaintext',
    ],
    [
      { MP_APP_ID: 'wx1', MP_APP_SECRET: 's', MP_TOKEN: 'tok123', MP_MESSAGE_MODE: 'safe' },
      'MP_MESSAGE_MODE is safe, which needs MP_ENCODING_AES_KEY',
    ],
    [{ ...wecom, MP_MESSAGE_MODE: 'plaintext' }, 'MP_APP_ID is not set'],
    [{ ...wecom, OUTBOUND_MAX_ATTEMPTS: '0' }, 'OUTBOUND_MAX_ATTEMPTS must be a whole number from 1'],
    [
      { ...wecom, OUTBOUND_MAX_ATTEMPTS: '12', OUTBOUND_MAX_RECEIVES: '10' },
      'OUTBOUND_MAX_RECEIVES must be at least OUTBOUND_MAX_ATTEMPTS',
    ],
  ])('fails fast naming the setting (%#)', (env, message) => {
    expect(() => parseConfig({ ...base, ...env })).toThrow(new ConfigError(message));
  });

  it('names a missing queue URL', () => {
    expect(() => parseConfig({ ...wecom, INBOUND_QUEUE_URL: base.INBOUND_QUEUE_URL })).toThrow(
      new ConfigError('SYNC_JOBS_QUEUE_URL is not set'),
    );
  });

  it('never puts a setting value into its error', () => {
    const secret = 'TOPSECRET-value-with spaces';
    try {
      parseConfig({ ...base, ...wecom, WECOM_CALLBACK_TOKEN: secret });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(secret);
    }
  });
});

describe('parseConfig for one function', () => {
  const mp = { MP_APP_ID: 'wx45f133bf6fce646e', MP_APP_SECRET: 's', MP_TOKEN: 'tok123' };

  it("gives the callback its apps' callback tokens, AES keys and ids, and withholds secrets and API keys", () => {
    const { WECOM_KF_SECRET: _, ...withoutSecret } = wecom;
    const config = parseConfig(
      {
        ...base,
        ...withoutSecret,
        MP_APP_ID: mp.MP_APP_ID,
        MP_TOKEN: mp.MP_TOKEN,
        ADMIN_API_KEY: 'a'.repeat(16),
      },
      'callback',
    );
    const app = config.apps.get('default');
    expect(app?.wecom).toMatchObject({
      corpId: wecom.WECOM_CORP_ID,
      callbackToken: wecom.WECOM_CALLBACK_TOKEN,
    });
    expect(app?.wecom?.aesKey).toHaveLength(32);
    expect(app?.mp).toMatchObject({ appId: mp.MP_APP_ID, token: mp.MP_TOKEN });
    expect(() => app?.wecom?.kfSecret).toThrow(
      new ConfigError("WECOM_KF_SECRET is not among the callback function's settings"),
    );
    expect(() => app?.mp?.appSecret).toThrow(
      new ConfigError("MP_APP_SECRET is not among the callback function's settings"),
    );
    expect(() => config.adminApiKey).toThrow(
      new ConfigError("ADMIN_API_KEY is not among the callback function's settings"),
    );
    expect(() => config.outboundApiKey).toThrow(
      new ConfigError("OUTBOUND_API_KEY is not among the callback function's settings"),
    );
  });

  it("gives the admin function its key and the apps' secrets, and withholds the outbound key, callback tokens and AES keys", () => {
    const config = parseConfig(
      { ...base, ...wecom, KF_BRIDGE_APPS: 'sales', SALES_MP_APP_ID: 'wxsales', SALES_MP_APP_SECRET: 's' },
      'admin',
    );
    expect(config.apps.get('default')?.wecom?.kfSecret).toBe('secret');
    expect(config.apps.get('sales')?.mp).toMatchObject({ appId: 'wxsales', appSecret: 's' });
    expect(config.adminApiKey).toBeUndefined();
    expect(() => config.outboundApiKey).toThrow(
      new ConfigError("OUTBOUND_API_KEY is not among the admin function's settings"),
    );
    expect(() => config.apps.get('default')?.wecom?.callbackToken).toThrow(
      new ConfigError("WECOM_CALLBACK_TOKEN is not among the admin function's settings"),
    );
    expect(() => config.apps.get('sales')?.mp?.token).toThrow(
      new ConfigError("SALES_MP_TOKEN is not among the admin function's settings"),
    );
  });

  it("gives the messages API its key and the apps, and withholds the admin key and every app's secret", () => {
    const config = parseConfig(
      { ...base, ...wecom, KF_BRIDGE_APPS: 'sales', SALES_MP_APP_ID: 'wxsales', SALES_MP_APP_SECRET: 's' },
      'api',
    );
    expect([...config.apps.keys()]).toEqual(['default', 'sales']);
    expect(config.apps.get('sales')?.mp?.appId).toBe('wxsales');
    expect(config.outboundApiKey).toBeUndefined();
    expect(() => config.adminApiKey).toThrow(
      new ConfigError("ADMIN_API_KEY is not among the api function's settings"),
    );
    expect(() => config.apps.get('default')?.wecom?.kfSecret).toThrow(
      new ConfigError("WECOM_KF_SECRET is not among the api function's settings"),
    );
    expect(() => config.apps.get('sales')?.mp?.appSecret).toThrow(
      new ConfigError("SALES_MP_APP_SECRET is not among the api function's settings"),
    );
  });

  it('checks only the settings the function reads', () => {
    expect(() => parseConfig({ ...base, ...wecom, WECOM_CALLBACK_TOKEN: 'a!' }, 'sender')).not.toThrow();
    expect(() => parseConfig({ ...base, ...wecom, WECOM_KF_SECRET: '' }, 'sender')).toThrow(
      new ConfigError('WECOM_KF_SECRET is not set'),
    );
  });
});

describe('withSsmParameters', () => {
  /** SSM holding `parameters`: the names of each read are kept, the ones it holds answered. */
  const fakeSsm = (parameters: Record<string, string>) => {
    const calls: (readonly string[])[] = [];
    const client: ReadParameters = async (names) => {
      calls.push(names);
      return Object.fromEntries(
        names.flatMap((name) => (parameters[name] === undefined ? [] : [[name, parameters[name]]])),
      );
    };
    return { client, calls };
  };
  const asked = (calls: (readonly string[])[]) => calls.map((names) => [...names].sort());

  it("asks for the function's settings by name, then the other apps', and lets the environment win", async () => {
    const { client, calls } = fakeSsm({
      '/kf-bridge/prod/KF_BRIDGE_APPS': 'sales',
      '/kf-bridge/prod/WECOM_CORP_ID': 'ww-ssm',
      '/kf-bridge/prod/WECOM_CALLBACK_TOKEN': 'tokenSsm',
      '/kf-bridge/prod/SALES_MP_TOKEN': 'salesToken',
      '/kf-bridge/prod/ADMIN_API_KEY': 'never-asked-for-by-the-callback',
    });
    const env = await withSsmParameters(
      { WECOM_CORP_ID: 'ww-env', EMPTY: '' },
      client,
      '/kf-bridge/prod',
      'callback',
    );
    expect(env).toEqual({
      KF_BRIDGE_APPS: 'sales',
      WECOM_CORP_ID: 'ww-env',
      WECOM_CALLBACK_TOKEN: 'tokenSsm',
      SALES_MP_TOKEN: 'salesToken',
    });
    const names = (settings: string[]) => settings.map((name) => `/kf-bridge/prod/${name}`).sort();
    expect(asked(calls)).toEqual([
      names([
        'KF_BRIDGE_APPS',
        'WECOM_CALLBACK_TOKEN',
        'WECOM_ENCODING_AES_KEY',
        'MP_APP_ID',
        'MP_TOKEN',
        'MP_ENCODING_AES_KEY',
        'MP_MESSAGE_MODE',
      ]),
      names([
        'SALES_WECOM_CORP_ID',
        'SALES_MP_APP_ID',
        'SALES_WECOM_CALLBACK_TOKEN',
        'SALES_WECOM_ENCODING_AES_KEY',
        'SALES_MP_TOKEN',
        'SALES_MP_ENCODING_AES_KEY',
        'SALES_MP_MESSAGE_MODE',
      ]),
    ]);
  });

  it('asks for each of many settings once, the default app first (the reader splits them 10 a call for SSM)', async () => {
    const { client, calls } = fakeSsm({ '/kf-bridge/prod/KF_BRIDGE_APPS': 'a,b,c' });
    await withSsmParameters({}, client, '/kf-bridge/prod/', 'admin');
    const names = asked(calls).flat();
    expect(calls).toHaveLength(2);
    expect(calls[0]).toContain('/kf-bridge/prod/KF_BRIDGE_APPS');
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining(['/kf-bridge/prod/ADMIN_API_KEY', '/kf-bridge/prod/C_MP_APP_SECRET']),
    );
    expect(names.filter((name) => name.includes('TOKEN') || name.includes('AES_KEY'))).toEqual([]);
  });

  it('fails retryably, naming the path, when SSM cannot be read (a burst of cold starts is throttled)', async () => {
    const client: ReadParameters = async () => Promise.reject(new Error('ThrottlingException'));
    await expect(withSsmParameters({}, client, '/kf-bridge/prod/', 'sender')).rejects.toMatchObject({
      name: 'DependencyError',
      retryable: true,
      message: 'could not read settings from SSM under /kf-bridge/prod/',
    });
  });

  it('loads again on the next invocation after a passing failure, and keeps the error of a bad setting', async () => {
    let calls = 0;
    const flaky: ReadParameters = async () => {
      calls++;
      if (calls === 1) throw new Error('ThrottlingException');
      return {};
    };
    const env = { ...testEnv, KF_BRIDGE_SSM_PREFIX: '/kf-bridge/prod/' };
    const config = loadConfigOnce('sender', env, flaky);
    await expect(config()).rejects.toMatchObject({ retryable: true });
    await expect(config()).resolves.toMatchObject({ stateTable: testEnv.STATE_TABLE });
    const broken = loadConfigOnce('sender', { ...testEnv, SENDER_CONCURRENCY: 'many' });
    await expect(broken()).rejects.toBeInstanceOf(ConfigError);
    await expect(broken()).rejects.toBeInstanceOf(ConfigError);
  });
});
