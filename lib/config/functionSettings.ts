/**
 * Which settings each function reads from SSM Parameter Store: the config loader asks SSM for exactly these
 * names, and each function's role (deploy/roles.yml, through deploy/settingsAccess.js) may read only these
 * parameters, so the internet-facing callback holds no API key and no app secret.
 *
 * No imports: serverless.yml loads this file with Node itself (type stripping) when it builds the roles.
 */

export const FUNCTION_NAMES = [
  'callback',
  'api',
  'admin',
  'syncPuller',
  'sender',
  'tokenRefresh',
  'statsExport',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Settings of the whole deployment. */
export const GLOBAL_SETTINGS = [
  'KF_BRIDGE_APPS',
  'OUTBOUND_API_KEY',
  'ADMIN_API_KEY',
  'SENDER_CONCURRENCY',
] as const;
export type GlobalSetting = (typeof GLOBAL_SETTINGS)[number];

/** Settings each app has its own of (see settingName). */
export const APP_SETTINGS = [
  'WECOM_CORP_ID',
  'WECOM_KF_SECRET',
  'WECOM_CALLBACK_TOKEN',
  'WECOM_ENCODING_AES_KEY',
  'WECOM_API_BASE',
  'WECOM_WELCOME_TEXT',
  'WECOM_CLOSING_TEXT',
  'MP_APP_ID',
  'MP_APP_SECRET',
  'MP_TOKEN',
  'MP_ENCODING_AES_KEY',
  'MP_MESSAGE_MODE',
  'MP_API_BASE',
] as const;
export type AppSetting = (typeof APP_SETTINGS)[number];

export interface FunctionSettings {
  readonly global: readonly GlobalSetting[];
  readonly perApp: readonly AppSetting[];
}

/** Every function learns the apps and which platforms each is on; ids are not secrets. */
const APPS: FunctionSettings = { global: ['KF_BRIDGE_APPS'], perApp: ['WECOM_CORP_ID', 'MP_APP_ID'] };
/** What calling WeCom and MP takes: the credentials behind access tokens, and where to send. */
const PLATFORM_CALLS: readonly AppSetting[] = [
  'WECOM_KF_SECRET',
  'WECOM_API_BASE',
  'MP_APP_SECRET',
  'MP_API_BASE',
];

export const FUNCTION_SETTINGS: Readonly<Record<FunctionName, FunctionSettings>> = {
  // Verifies and decrypts pushes: never calls out, so no secret, no API key.
  callback: {
    global: APPS.global,
    perApp: [
      ...APPS.perApp,
      'WECOM_CALLBACK_TOKEN',
      'WECOM_ENCODING_AES_KEY',
      'MP_TOKEN',
      'MP_ENCODING_AES_KEY',
      'MP_MESSAGE_MODE',
    ],
  },
  // Queues outbound requests: never calls the platform, so no app secret, and not the admin key.
  api: { global: [...APPS.global, 'OUTBOUND_API_KEY'], perApp: APPS.perApp },
  admin: { global: [...APPS.global, 'ADMIN_API_KEY'], perApp: [...APPS.perApp, ...PLATFORM_CALLS] },
  // Also answers enter_session and a servicer's end with the welcome and closing texts.
  syncPuller: {
    global: APPS.global,
    perApp: [...APPS.perApp, ...PLATFORM_CALLS, 'WECOM_WELCOME_TEXT', 'WECOM_CLOSING_TEXT'],
  },
  sender: { global: [...APPS.global, 'SENDER_CONCURRENCY'], perApp: [...APPS.perApp, ...PLATFORM_CALLS] },
  tokenRefresh: { global: APPS.global, perApp: [...APPS.perApp, ...PLATFORM_CALLS] },
  statsExport: { global: APPS.global, perApp: [...APPS.perApp, ...PLATFORM_CALLS] },
};

export const DEFAULT_APP = 'default';

/** Settings of the app named `app`: the default app reads `WECOM_CORP_ID`, app `sales` reads `SALES_WECOM_CORP_ID`. */
export function settingName(app: string, name: string): string {
  return app === DEFAULT_APP ? name : `${app.toUpperCase().replaceAll('-', '_')}_${name}`;
}

/** The SSM names of `app`'s settings that `functionName` reads. */
export function appSettingNames(functionName: FunctionName, app: string): string[] {
  return FUNCTION_SETTINGS[functionName].perApp.map((setting) => settingName(app, setting));
}
