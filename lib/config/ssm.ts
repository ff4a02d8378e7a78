import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { DependencyError } from '../errors';
import { appNames, type Env } from './config';
import { appSettingNames, DEFAULT_APP, FUNCTION_SETTINGS, type FunctionName } from './functionSettings';

/** SSM's GetParameters takes at most 10 names a call. */
const NAMES_PER_CALL = 10;

/**
 * Deployed stages keep their settings in SSM Parameter Store (SecureString) under one prefix, e.g.
 * `/kf-bridge/prod/WECOM_KF_SECRET`, so no secret sits in the template or in an environment literal. A function
 * asks for its own settings by name (lib/config/functionSettings.ts), which is all its role may read: first the
 * global ones and the default app's, then those of the other apps `KF_BRIDGE_APPS` lists. A setting already
 * present in the environment wins, which keeps overrides possible, and is not asked for.
 */
export async function withSsmParameters(
  env: Env,
  ssm: SSMClient,
  prefix: string,
  functionName: FunctionName,
): Promise<Env> {
  const path = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const fromEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value.trim() !== '') fromEnv[name] = value;
  const read = async (names: string[]) => {
    const wanted = names.filter((name) => fromEnv[name] === undefined);
    try {
      return await readParameters(ssm, path, wanted);
    } catch (error) {
      // SSM throttles bursts of cold starts: a passing fault, which the next invocation tries again.
      throw new DependencyError(`could not read settings from SSM under ${path}`, { cause: error });
    }
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

/** The named parameters under `path` that exist, decrypted; a missing one is an unset setting. */
async function readParameters(
  ssm: SSMClient,
  path: string,
  names: string[],
): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
    const answer = await ssm.send(
      new GetParametersCommand({
        Names: names.slice(i, i + NAMES_PER_CALL).map((name) => `${path}${name}`),
        WithDecryption: true,
      }),
    );
    for (const parameter of answer.Parameters ?? [])
      if (parameter.Name && parameter.Value !== undefined)
        found[parameter.Name.slice(path.length)] = parameter.Value;
  }
  return found;
}
