import { ConfigError } from '../errors';
import type { AwsCredentials } from './signedRequest';

const NAMES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

/**
 * The function role's credentials, as Lambda puts them in every function's environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: "the access keys obtained from the function's execution role", Lambda's
 * defined runtime environment variables). kf-bridge's own AWS calls read only these: the SDK's whole credential
 * chain (profiles, SSO, process, container and instance metadata) was most of a function's bundle and of the
 * callback's cold start, and none of it is asked on Lambda. Read at each call, so a process that never signs needs
 * none.
 */
export function lambdaCredentials(env: NodeJS.ProcessEnv): () => Promise<AwsCredentials> {
  return async () => {
    const missing = NAMES.filter((name) => !env[name]?.trim());
    if (missing.length > 0)
      throw new ConfigError(
        `${missing.join(' and ')} not set: kf-bridge signs its AWS calls with the credentials Lambda puts in the environment (outside Lambda, export them, e.g. aws configure export-credentials --format env)`,
      );
    const sessionToken = env.AWS_SESSION_TOKEN?.trim();
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID?.trim() ?? '',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY?.trim() ?? '',
      ...(sessionToken && { sessionToken }),
    };
  };
}
