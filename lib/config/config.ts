import { decodeEncodingAesKey } from '../crypto/wxBizMsgCrypt';
import { ConfigError } from '../errors';
import {
  APP_SETTINGS,
  type AppSetting,
  DEFAULT_APP,
  FUNCTION_SETTINGS,
  type FunctionName,
  GLOBAL_SETTINGS,
  type GlobalSetting,
  settingName,
} from './functionSettings';

export { DEFAULT_APP, settingName };

export type Env = Readonly<Record<string, string | undefined>>;

export interface WecomAppConfig {
  readonly corpId: string;
  readonly kfSecret: string;
  readonly callbackToken: string;
  readonly aesKey: Buffer;
  readonly apiBase: string;
  /** Sent on each enter_session's welcome_code, when set. */
  readonly welcomeText?: string;
  /** Sent on the code of a session a servicer ends, when set. */
  readonly closingText?: string;
}

export const MP_MESSAGE_MODES = ['safe', 'compatible', 'plaintext'] as const;
/**
 * How the Official Account pushes (its 消息加解密方式): `safe` only ciphertext, `compatible` plaintext and
 * ciphertext in one body, `plaintext` no encryption. Pushes are taken as the mode says, never weaker.
 */
export type MpMessageMode = (typeof MP_MESSAGE_MODES)[number];

export interface MpAppConfig {
  readonly appId: string;
  readonly appSecret: string;
  readonly token: string;
  /** Absent when the account only uses plaintext mode. */
  readonly aesKey?: Buffer;
  readonly messageMode: MpMessageMode;
  readonly apiBase: string;
}

export interface AppConfig {
  readonly name: string;
  readonly wecom?: WecomAppConfig;
  readonly mp?: MpAppConfig;
}

export interface Config {
  readonly apps: ReadonlyMap<string, AppConfig>;
  /** 0 turns the callback timestamp check off, which only the local stage may do. */
  readonly callbackMaxClockSkewSeconds: number;
  readonly queues: {
    readonly syncJobsUrl: string;
    readonly inboundUrl: string;
    readonly outboundUrl: string;
  };
  /** The DynamoDB table holding tokens, cursors, ledgers and leases. */
  readonly stateTable: string;
  /** The schedule refreshes tokens with less than this left (default 20 minutes). */
  readonly tokenRefreshMarginSeconds: number;
  /** Where inbound media files are archived; undefined when archiving is off. */
  readonly inboundMediaBucket?: string;
  /** The media bucket (`MEDIA_BUCKET`): inbound messages SQS will not take are kept there, archiving or not. */
  readonly mediaBucket?: string;
  /** The key callers of the messages API present; without it every call is refused. */
  readonly outboundApiKey?: string;
  /** The key callers of the admin API (and CLI) present; without it every admin call is refused. */
  readonly adminApiKey?: string;
  /** Sends in flight toward WeCom per sender container (default 10). */
  readonly senderConcurrency: number;
  /** Attempts at one outbound request, counted in the send ledger: the last one's transient failure is its outcome. */
  readonly outboundMaxAttempts: number;
  /**
   * The outbound queue's maxReceiveCount, above the attempts: a request skipped behind a failing one of its
   * customer is received without being attempted. On the last receive a transient failure is recorded too.
   */
  readonly outboundMaxReceives: number;
  /** Where statsExport writes `reports/{app}/{day}/`; only that function needs it. */
  readonly reportsBucket?: string;
}

export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const IDENTIFIER = /^[A-Za-z0-9_-]{1,64}$/;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function required(env: Env, name: string): string {
  const value = read(env, name);
  if (value === undefined) throw new ConfigError(`${name} is not set`);
  return value;
}

function identifier(env: Env, name: string): string {
  const value = required(env, name);
  if (!IDENTIFIER.test(value)) throw new ConfigError(`${name} must be 1-64 letters, digits, '_' or '-'`);
  return value;
}

function callbackToken(env: Env, name: string): string {
  const value = required(env, name);
  // WeCom and MP both limit the callback Token to 3-32 letters and digits.
  if (!/^[A-Za-z0-9]{3,32}$/.test(value)) throw new ConfigError(`${name} must be 3-32 letters or digits`);
  return value;
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const value = read(env, name) ?? fallback;
  if (value === '') throw new ConfigError(`${name} is not set`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(`${name} must be an http(s) URL`);
  return value.replace(/\/+$/, '');
}

/**
 * The settings one function may read (lib/config/functionSettings.ts); without a function, all of them. A
 * setting outside them is never read, and its field throws when used, so a function that starts using one
 * fails every test that reaches it until the declaration (and with it the function's role) includes it.
 */
interface Access {
  readonly functionName?: FunctionName;
  readonly global: ReadonlySet<GlobalSetting>;
  readonly perApp: ReadonlySet<AppSetting>;
}

function accessOf(functionName?: FunctionName): Access {
  if (!functionName) return { global: new Set(GLOBAL_SETTINGS), perApp: new Set(APP_SETTINGS) };
  const { global, perApp } = FUNCTION_SETTINGS[functionName];
  return { functionName, global: new Set(global), perApp: new Set(perApp) };
}

type FieldSpecs<T> = {
  readonly [K in keyof T]-?: readonly [setting: string, granted: boolean, value: () => T[K]];
};

/** Adds the fields to `target`: a granted one is read (and left out when unset), any other is withheld. */
function withFields<T extends object, F extends object>(
  target: T,
  access: Access,
  specs: FieldSpecs<F>,
): T & F {
  for (const [field, [setting, granted, value]] of Object.entries(specs) as [
    string,
    FieldSpecs<F>[keyof F],
  ][]) {
    if (!granted) {
      Object.defineProperty(target, field, {
        enumerable: false,
        get() {
          throw new ConfigError(`${setting} is not among the ${access.functionName} function's settings`);
        },
      });
      continue;
    }
    const read = value();
    if (read !== undefined) (target as Record<string, unknown>)[field] = read;
  }
  return target as T & F;
}

const WECOM_SETTINGS: readonly AppSetting[] = [
  'WECOM_CORP_ID',
  'WECOM_KF_SECRET',
  'WECOM_CALLBACK_TOKEN',
  'WECOM_ENCODING_AES_KEY',
];
const MP_SETTINGS: readonly AppSetting[] = [
  'MP_APP_ID',
  'MP_APP_SECRET',
  'MP_TOKEN',
  'MP_ENCODING_AES_KEY',
  'MP_MESSAGE_MODE',
];

/** Whether the app has settings of this platform, as far as the function can see. */
function hasAny(env: Env, app: string, settings: readonly AppSetting[], access: Access): boolean {
  return settings.some(
    (setting) => access.perApp.has(setting) && read(env, settingName(app, setting)) !== undefined,
  );
}

/** A field of `app` read from its own name of `setting`, if the function may read it. */
function appFieldSpec(app: string, access: Access) {
  return <T>(setting: AppSetting, value: (name: string) => T) => {
    const name = settingName(app, setting);
    return [name, access.perApp.has(setting), () => value(name)] as const;
  };
}

function wecomApp(env: Env, app: string, access: Access): WecomAppConfig | undefined {
  if (!hasAny(env, app, WECOM_SETTINGS, access)) return undefined;
  const spec = appFieldSpec(app, access);
  return withFields<object, WecomAppConfig>({}, access, {
    corpId: spec('WECOM_CORP_ID', (name) => identifier(env, name)),
    kfSecret: spec('WECOM_KF_SECRET', (name) => required(env, name)),
    callbackToken: spec('WECOM_CALLBACK_TOKEN', (name) => callbackToken(env, name)),
    aesKey: spec('WECOM_ENCODING_AES_KEY', (name) => decodeEncodingAesKey(required(env, name), name)),
    apiBase: spec('WECOM_API_BASE', (name) => httpUrl(env, name, 'https://qyapi.weixin.qq.com')),
    welcomeText: spec('WECOM_WELCOME_TEXT', (name) => optionalText(env, name)),
    closingText: spec('WECOM_CLOSING_TEXT', (name) => optionalText(env, name)),
  });
}

function optionalText(env: Env, setting: string): string | undefined {
  const value = read(env, setting);
  // WeCom limits a text message to 2048 bytes.
  if (value !== undefined && Buffer.byteLength(value, 'utf8') > 2048)
    throw new ConfigError(`${setting} is over 2048 bytes`);
  return value;
}

/** Safe mode wherever there is a key to decrypt with: a plaintext push is signed without its body. */
function messageMode(env: Env, setting: string, keySetting: string): MpMessageMode {
  const hasKey = read(env, keySetting) !== undefined;
  const mode = read(env, setting) ?? (hasKey ? 'safe' : 'plaintext');
  if (!(MP_MESSAGE_MODES as readonly string[]).includes(mode))
    throw new ConfigError(`${setting} must be safe, compatible or plaintext`);
  if (mode !== 'plaintext' && !hasKey)
    throw new ConfigError(`${setting} is ${mode}, which needs ${keySetting}`);
  return mode as MpMessageMode;
}

function mpApp(env: Env, app: string, access: Access): MpAppConfig | undefined {
  if (!hasAny(env, app, MP_SETTINGS, access)) return undefined;
  const spec = appFieldSpec(app, access);
  return withFields<object, MpAppConfig>({}, access, {
    appId: spec('MP_APP_ID', (name) => identifier(env, name)),
    appSecret: spec('MP_APP_SECRET', (name) => required(env, name)),
    token: spec('MP_TOKEN', (name) => callbackToken(env, name)),
    aesKey: spec('MP_ENCODING_AES_KEY', (name) => {
      const encodingAesKey = read(env, name);
      return encodingAesKey === undefined ? undefined : decodeEncodingAesKey(encodingAesKey, name);
    }),
    messageMode: spec('MP_MESSAGE_MODE', (name) =>
      messageMode(env, name, settingName(app, 'MP_ENCODING_AES_KEY')),
    ),
    apiBase: spec('MP_API_BASE', (name) => httpUrl(env, name, 'https://api.weixin.qq.com')),
  });
}

/**
 * Without the timestamp check a captured callback URL works forever; the local stage needs it off for recorded
 * events and a simulated clock. Deployed stages set KF_BRIDGE_STAGE from serverless.yml.
 */
function callbackMaxClockSkew(env: Env): number {
  const setting = 'CALLBACK_MAX_CLOCK_SKEW_SECONDS';
  const skew = nonNegativeInteger(env, setting, 300);
  if (skew === 0 && read(env, 'KF_BRIDGE_STAGE') !== 'local')
    throw new ConfigError(
      `${setting} is 0, which turns the timestamp check off: allowed on the local stage only`,
    );
  return skew;
}

/** The configured apps, the default first (`KF_BRIDGE_APPS` lists the others). */
export function appNames(env: Env): string[] {
  const extra = (read(env, 'KF_BRIDGE_APPS') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of extra) {
    if (!APP_NAME.test(name)) {
      throw new ConfigError(`KF_BRIDGE_APPS: '${name}' must be lowercase letters, digits or '-', at most 32`);
    }
  }
  return [DEFAULT_APP, ...new Set(extra.filter((name) => name !== DEFAULT_APP))];
}

function nonNegativeInteger(env: Env, name: string, fallback: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number of seconds`);
  return Number(value);
}

function count(env: Env, name: string, fallback: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(value)) throw new ConfigError(`${name} must be a whole number from 1`);
  return Number(value);
}

/** Attempts are spent before receives run out, so a request the queue gives up on was tried as often as allowed. */
function outboundRetries(env: Env): { outboundMaxAttempts: number; outboundMaxReceives: number } {
  const outboundMaxAttempts = count(env, 'OUTBOUND_MAX_ATTEMPTS', 10);
  const outboundMaxReceives = count(env, 'OUTBOUND_MAX_RECEIVES', 50);
  if (outboundMaxReceives < outboundMaxAttempts)
    throw new ConfigError('OUTBOUND_MAX_RECEIVES must be at least OUTBOUND_MAX_ATTEMPTS');
  return { outboundMaxAttempts, outboundMaxReceives };
}

function apiKey(env: Env, setting: string): string | undefined {
  const key = read(env, setting);
  if (key !== undefined && key.length < 16)
    throw new ConfigError(`${setting} must be at least 16 characters`);
  return key;
}

function mediaArchive(env: Env): { inboundMediaBucket?: string; mediaBucket?: string } {
  const enabled = read(env, 'INBOUND_MEDIA_TO_S3') ?? 'false';
  if (enabled !== 'true' && enabled !== 'false')
    throw new ConfigError('INBOUND_MEDIA_TO_S3 must be true or false');
  const bucket = read(env, 'MEDIA_BUCKET');
  if (enabled === 'false') return bucket ? { mediaBucket: bucket } : {};
  if (!bucket) throw new ConfigError('MEDIA_BUCKET is not set (INBOUND_MEDIA_TO_S3 is true)');
  return { inboundMediaBucket: bucket, mediaBucket: bucket };
}

/**
 * Parses and checks the settings of `functionName` (all settings without one); the first problem throws a
 * ConfigError naming the setting.
 */
export function parseConfig(env: Env, functionName?: FunctionName): Config {
  const access = accessOf(functionName);
  const apps = new Map<string, AppConfig>();
  for (const name of appNames(env)) {
    const wecom = wecomApp(env, name, access);
    const mp = mpApp(env, name, access);
    if (!wecom && !mp) {
      throw new ConfigError(
        `app '${name}' has no settings: set ${settingName(name, 'WECOM_CORP_ID')} (and the other WeCom settings) or ${settingName(name, 'MP_APP_ID')}`,
      );
    }
    apps.set(name, { name, ...(wecom && { wecom }), ...(mp && { mp }) });
  }
  const global = <T>(setting: GlobalSetting, value: () => T) =>
    [setting, access.global.has(setting), value] as const;
  const config = {
    apps,
    callbackMaxClockSkewSeconds: callbackMaxClockSkew(env),
    queues: {
      syncJobsUrl: httpUrl(env, 'SYNC_JOBS_QUEUE_URL', ''),
      inboundUrl: httpUrl(env, 'INBOUND_QUEUE_URL', ''),
      outboundUrl: httpUrl(env, 'OUTBOUND_QUEUE_URL', ''),
    },
    stateTable: required(env, 'STATE_TABLE'),
    tokenRefreshMarginSeconds: nonNegativeInteger(env, 'TOKEN_REFRESH_MARGIN_SECONDS', 1200),
    ...mediaArchive(env),
    ...outboundRetries(env),
    ...(env.REPORTS_BUCKET && { reportsBucket: env.REPORTS_BUCKET }),
  };
  return withFields<typeof config, Pick<Config, 'outboundApiKey' | 'adminApiKey' | 'senderConcurrency'>>(
    config,
    access,
    {
      outboundApiKey: global('OUTBOUND_API_KEY', () => apiKey(env, 'OUTBOUND_API_KEY')),
      adminApiKey: global('ADMIN_API_KEY', () => apiKey(env, 'ADMIN_API_KEY')),
      senderConcurrency: global('SENDER_CONCURRENCY', () =>
        Math.max(1, nonNegativeInteger(env, 'SENDER_CONCURRENCY', 10)),
      ),
    },
  );
}
