import { SSMClient } from '@aws-sdk/client-ssm';
import { awsClientConfig } from '../aws';
import { type Config, parseConfig } from './config';
import type { FunctionName } from './functionSettings';
import { withSsmParameters } from './ssm';

export * from './config';
export type { FunctionName } from './functionSettings';

/**
 * Cold-start configuration of a Lambda: the environment, plus on deployed stages the function's own settings
 * from SSM. Only those are parsed; any other setting is withheld from it.
 */
export async function loadConfig(
  functionName: FunctionName,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Config> {
  const prefix = env.KF_BRIDGE_SSM_PREFIX?.trim();
  return parseConfig(
    prefix
      ? await withSsmParameters(env, new SSMClient(awsClientConfig('ssm', env)), prefix, functionName)
      : env,
    functionName,
  );
}

/**
 * Starts loading at cold start and hands every invocation the same result. Handlers await it instead of
 * using top-level await, which `serverless invoke local` cannot load (it require()s the handler).
 * A bad setting fails every invocation with the ConfigError that names it.
 */
export function loadConfigOnce(
  functionName: FunctionName,
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<Config> {
  const loading = loadConfig(functionName, env);
  loading.catch(() => {
    // Reported by the first invocation that awaits it.
  });
  return () => loading;
}
