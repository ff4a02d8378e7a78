import { DependencyError } from '../errors';
import { appNames, type Env } from './config';
import { appSettingNames, DEFAULT_APP, FUNCTION_SETTINGS, type FunctionName } from './functionSettings';
import type { ReadParameters } from './ssmReader';

/**
 * Deployed stages keep their settings in SSM Parameter Store (SecureString) under one prefix, e.g.
 * `/kf-bridge/prod/WECOM_KF_SECRET`, so no secret sits in the template or in an environment literal. A function
 * asks for its own settings by name (lib/config/functionSettings.ts), which is all its role may read: first the
 * global ones and the default app's, then those of the other apps `KF_BRIDGE_APPS` lists. A setting already
 * present in the environment wins, which keeps overrides possible, and is not asked for.
 */
export async function withSsmParameters(
  env: Env,
  readParameters: ReadParameters,
  prefix: string,
  functionName: FunctionName,
): Promise<Env> {
  const path = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const fromEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value.trim() !== '') fromEnv[name] = value;
  const read = async (names: string[]) => {
    const wanted = names.filter((name) => fromEnv[name] === undefined);
    let found: Record<string, string>;
    try {
      found = await readParameters(wanted.map((name) => `${path}${name}`));
    } catch (error) {
      // SSM throttles bursts of cold starts: a passing fault, which the next invocation tries again.
      throw new DependencyError(`could not read settings from SSM under ${path}`, { cause: error });
    }
    const settings: Record<string, string> = {};
    for (const [name, value] of Object.entries(found))
      if (name.startsWith(path)) settings[name.slice(path.length)] = value;
    return settings;
  };
  const first = {
    ...(await read([
      ...FUNCTION_SETTINGS[functionName].global,
      ...appSettingNames(functionName, DEFAULT_APP),
    ])),
    ...fromEnv,
  };
  const others = appNames(first).filter((app) => app !== DEFAULT_APP);
  const rest = await read(others.flatMap((app) => appSettingNames(functionName, app)));
  return { ...first, ...rest, ...fromEnv };
}
