import { ConfigError } from '../errors';
import { type AwsService, awsClientConfig } from './clientConfig';

/**
 * Where a service of AWS answers in a region, as the SDK's endpoint resolver puts it for the SQS and DynamoDB SDK
 * clients in the same function: the endpoint URL settings first, else the region's partition's domain, with FIPS
 * and dual-stack names where they are asked for.
 */

/**
 * The partitions the SDK knows besides `aws` (its partitions.json): a region's name pattern, the partition's domain
 * and the domain of its dual-stack (IPv4 and IPv6) names. A region no pattern matches is `aws`'s, as for the SDK;
 * GovCloud (`us-gov-…`) shares `aws`'s domains.
 */
const PARTITIONS: readonly (readonly [RegExp, string, string])[] = [
  [/^cn-\w+-\d+$/, 'amazonaws.com.cn', 'api.amazonwebservices.com.cn'],
  [/^eusc-de-\w+-\d+$/, 'amazonaws.eu', 'api.amazonwebservices.eu'],
  [/^us-iso-\w+-\d+$/, 'c2s.ic.gov', 'api.aws.ic.gov'],
  [/^us-isob-\w+-\d+$/, 'sc2s.sgov.gov', 'api.aws.scloud'],
  [/^eu-isoe-\w+-\d+$/, 'cloud.adc-e.uk', 'api.cloud-aws.adc-e.uk'],
  [/^us-isof-\w+-\d+$/, 'csp.hci.ic.gov', 'api.aws.hci.ic.gov'],
];

/**
 * The regions AWS has FIPS endpoints in (US East/West, Canada Central, GovCloud). The SDK makes a `-fips` name for
 * any region, which elsewhere does not resolve: a FIPS setting there is refused rather than sent nowhere.
 */
const FIPS_REGIONS = new Set([
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'us-gov-east-1',
  'us-gov-west-1',
]);

/** A boolean setting as the SDK reads it: `true` or `false`, nothing else. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name]?.trim();
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError(`${name} must be true or false`);
}

/** `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true. */
function configuredEndpoint(service: AwsService, env: NodeJS.ProcessEnv): [string, URL] | undefined {
  if (flag(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS')) return undefined;
  for (const name of [`AWS_ENDPOINT_URL_${service.toUpperCase()}`, 'AWS_ENDPOINT_URL']) {
    const value = env[name]?.trim();
    if (!value) continue;
    const url = URL.parse(value);
    // The SDK puts a URL's path before every request's; kf-bridge's clients ask at the root.
    if (!url || !/^https?:$/.test(url.protocol) || url.href !== `${url.origin}/`)
      throw new ConfigError(`${name} must be an http(s) URL without a path, user or query`);
    return [name, url];
  }
  return undefined;
}

export function awsEndpoint(service: AwsService, region: string, env: NodeJS.ProcessEnv): URL {
  const fips = flag(env, 'AWS_USE_FIPS_ENDPOINT');
  const dualStack = flag(env, 'AWS_USE_DUALSTACK_ENDPOINT');
  const configured = configuredEndpoint(service, env);
  if (configured) {
    // The SDK refuses these together too.
    if (fips || dualStack)
      throw new ConfigError(
        `${configured[0]} cannot be combined with ${fips ? 'AWS_USE_FIPS_ENDPOINT' : 'AWS_USE_DUALSTACK_ENDPOINT'}=true`,
      );
    return configured[1];
  }
  if (fips && !FIPS_REGIONS.has(region))
    throw new ConfigError(`AWS_USE_FIPS_ENDPOINT=true: AWS has no FIPS endpoint of ${service} in ${region}`);
  const partition = PARTITIONS.find(([pattern]) => pattern.test(region));
  const domain = partition?.[1] ?? 'amazonaws.com';
  const dualStackDomain = partition?.[2] ?? 'api.aws';
  let host: string;
  if (service === 's3') host = `s3${fips ? '-fips' : ''}${dualStack ? '.dualstack' : ''}.${region}.${domain}`;
  // GovCloud's regional SSM and DynamoDB endpoints are its FIPS ones; their dual-stack names say -fips again.
  else if (fips && !dualStack && region.startsWith('us-gov-')) host = `${service}.${region}.${domain}`;
  else host = `${service}${fips ? '-fips' : ''}.${region}.${dualStack ? dualStackDomain : domain}`;
  return new URL(`https://${host}`);
}

/**
 * The endpoints of the services kf-bridge signs its own requests to, resolved at cold start: a setting they would
 * refuse fails the start with the ConfigError that names it, rather than each call. The local stage's are not
 * resolved, nor anything where AWS_REGION is not set (the first call names it).
 */
export function checkEndpointSettings(env: NodeJS.ProcessEnv): void {
  const region = env.AWS_REGION?.trim();
  if (!region) return;
  for (const service of ['ssm', 's3', 'dynamodb', 'sqs'] as const) {
    const local: { endpoint?: string } = awsClientConfig(service, env);
    if (!local.endpoint) awsEndpoint(service, region, env);
  }
}
