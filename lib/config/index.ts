import { SSMClient } from '@aws-sdk/client-ssm';
import { type Config, parseConfig } from './config';
import { withSsmParameters } from './ssm';

export * from './config';

/** Cold-start configuration of a Lambda: the environment, plus SSM parameters on deployed stages. */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const prefix = env.KF_BRIDGE_SSM_PREFIX?.trim();
  return parseConfig(prefix ? await withSsmParameters(env, new SSMClient({}), prefix) : env);
}
