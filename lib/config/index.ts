import { checkEndpointSettings } from '../aws/endpoints';
import { KfBridgeError } from '../errors';
import { type Config, parseConfig } from './config';
import type { FunctionName } from './functionSettings';
import { withSsmParameters } from './ssm';
import { createSsmReader, type ReadParameters, ssmTarget } from './ssmReader';

export * from './config';
export type { FunctionName } from './functionSettings';

/** One reader for the container: where SSM is, and the role's credentials, are looked up by its first read. */
const readFromSsm = createSsmReader(() => ssmTarget(process.env));

/**
 * Cold-start configuration of a Lambda: the environment, plus on deployed stages the function's own settings
 * from SSM. Only those are parsed; any other setting is withheld from it. AWS endpoint settings (FIPS, endpoint
 * URLs) that kf-bridge's own AWS clients cannot follow fail it too. The default reader finds SSM from the
 * process's own environment (AWS_REGION, KF_BRIDGE_LOCAL_ENDPOINTS), whatever `env` is parsed.
 */
export async function loadConfig(
  functionName: FunctionName,
  env: NodeJS.ProcessEnv = process.env,
  readParameters: ReadParameters = readFromSsm,
): Promise<Config> {
  checkEndpointSettings(env);
  const prefix = env.KF_BRIDGE_SSM_PREFIX?.trim();
  return parseConfig(
    prefix ? await withSsmParameters(env, readParameters, prefix, functionName) : env,
    functionName,
  );
}

/**
 * Starts loading at cold start and hands every invocation the same result. Handlers await it instead of
 * using top-level await, which `serverless invoke local` cannot load (it require()s the handler).
 * A bad setting fails every invocation with the ConfigError that names it; a load that failed for a passing
 * reason (SSM throttled) is tried again by the next invocation, not kept for the container's life.
 */
export function loadConfigOnce(
  functionName: FunctionName,
  env: NodeJS.ProcessEnv = process.env,
  readParameters?: ReadParameters,
): () => Promise<Config> {
  const start = () => {
    const attempt = loadConfig(functionName, env, readParameters);
    attempt.catch((error: unknown) => {
      // Reported by the first invocation that awaits it.
      if (error instanceof KfBridgeError && error.retryable) loading = undefined;
    });
    return attempt;
  };
  let loading: Promise<Config> | undefined = start();
  return () => {
    loading ??= start();
    return loading;
  };
}
