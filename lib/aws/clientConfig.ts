import { ConfigError } from '../errors';

export type AwsService = 'sqs' | 'dynamodb' | 's3' | 'ssm';

const SETTING = 'KF_BRIDGE_LOCAL_ENDPOINTS';

/** The embedded stack accepts any credentials; these keep the SDK from looking for real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Client options for an AWS SDK client. On the local stage `KF_BRIDGE_LOCAL_ENDPOINTS`
 * (`sqs=http://127.0.0.1:4566,dynamodb=http://127.0.0.1:8000,…`) points clients at the embedded stack
 * with throwaway credentials; anywhere else it is empty and the SDK's defaults apply.
 */
export function awsClientConfig(service: AwsService, env: NodeJS.ProcessEnv = process.env) {
  const setting = env[SETTING]?.trim();
  if (!setting) return {};
  const endpoints = new Map<string, string>();
  for (const entry of setting.split(',')) {
    const [name, url] = entry.split('=').map((part) => part.trim());
    if (!name || !url || !/^https?:\/\/\S+$/.test(url))
      throw new ConfigError(`${SETTING}: '${entry}' is not service=http(s)-URL`);
    endpoints.set(name, url);
  }
  const endpoint = endpoints.get(service);
  if (!endpoint) return {};
  return {
    endpoint,
    credentials: LOCAL_CREDENTIALS,
    ...(service === 's3' && { forcePathStyle: true }),
  };
}
