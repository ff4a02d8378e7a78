import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { s3Objects } from '../../../lib/aws/s3';
import { serviceTarget } from '../../../lib/aws/signedRequest';
import { loadConfig } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';

/**
 * Where S3, SSM, DynamoDB and SQS are for kf-bridge's own clients, beside where the SDK's clients of the same
 * services go in the same environment: the SDK's endpoint resolver is the reference.
 */

const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
type Service = 'ssm' | 's3' | 'dynamodb' | 'sqs';

/** The URL the SDK's client of `service` would send a request to in the stubbed environment, or its refusal. */
async function sdkUrl(service: Service, region: string): Promise<string> {
  const client =
    service === 'ssm'
      ? new SSMClient({ region, credentials })
      : service === 's3'
        ? new S3Client({ region, credentials })
        : service === 'sqs'
          ? // Its endpoint resolver's answer, not a queue URL's host (CloudFormation's queue URLs are on it).
            new SQSClient({ region, credentials, useQueueUrlAsEndpoint: false })
          : new DynamoDBClient({ region, credentials });
  let url = '';
  (client.middlewareStack as unknown as { add: (...args: unknown[]) => void }).add(
    () => async (args: { request: { protocol: string; hostname: string; port?: number; path: string } }) => {
      const { protocol, hostname, port, path } = args.request;
      url = `${protocol}//${hostname}${port ? `:${port}` : ''}${path}`;
      throw new Error('stop');
    },
    { step: 'finalizeRequest', priority: 'high' },
  );
  const command =
    service === 'ssm'
      ? new GetParametersCommand({ Names: ['/kf/a'] })
      : service === 's3'
        ? new PutObjectCommand({ Bucket: 'kf-media', Key: 'k', Body: 'x' })
        : service === 'sqs'
          ? new SendMessageCommand({
              QueueUrl: 'https://queue.example/123456789012/q.fifo',
              MessageBody: 'x',
            })
          : new GetItemCommand({ TableName: 'state', Key: { pk: { S: 'x' } } });
  const refusal = await (client as { send(command: unknown): Promise<unknown> }).send(command).then(
    () => '',
    (error: Error) => error.message,
  );
  client.destroy();
  return url || `refused: ${refusal}`;
}

/**
 * Where kf-bridge's client of `service` sends its request: for S3 the object's URL, with its bucket, as its
 * observer is told it before the try is signed and sent. The caller has given up already, so nothing is sent.
 */
async function ourUrl(service: Service): Promise<string> {
  const target = serviceTarget(service, process.env);
  if (service !== 's3') return target.endpoint.href;
  let sent = '';
  await s3Objects(() => ({ ...target, credentials: async () => credentials }), {
    observe: (request) => {
      sent = request.url.href;
      return undefined;
    },
  })
    .putObject('kf-media', 'k', 'x', 'text/plain', AbortSignal.abort())
    .then(
      () => expect.unreachable('a call its caller gave up was made'),
      (error: Error) => expect(error.message).toBe('S3 PutObject: given up by its caller'),
    );
  return sent;
}

const stub = (env: Record<string, string>) => {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
};
afterEach(() => vi.unstubAllEnvs());

const PARTITION_REGIONS = [
  'us-east-1',
  'ap-southeast-1',
  'us-gov-west-1',
  'cn-north-1',
  'eusc-de-east-1',
  'us-iso-east-1',
  'us-isob-east-1',
  'eu-isoe-west-1',
  'us-isof-south-1',
];

/** Settings kf-bridge follows: its URL must be the SDK's. */
const FOLLOWED: [string, Record<string, string>][] = [
  ...PARTITION_REGIONS.map((region): [string, Record<string, string>] => [region, { AWS_REGION: region }]),
  ...['us-east-1', 'us-west-2', 'ca-central-1', 'us-gov-west-1', 'us-gov-east-1'].map(
    (region): [string, Record<string, string>] => [
      `FIPS in ${region}`,
      { AWS_REGION: region, AWS_USE_FIPS_ENDPOINT: 'true' },
    ],
  ),
  ...['eu-west-1', 'us-gov-west-1', 'cn-north-1', 'eusc-de-east-1'].map(
    (region): [string, Record<string, string>] => [
      `dual-stack in ${region}`,
      { AWS_REGION: region, AWS_USE_DUALSTACK_ENDPOINT: 'true' },
    ],
  ),
  ...['us-east-1', 'us-gov-west-1'].map((region): [string, Record<string, string>] => [
    `FIPS and dual-stack in ${region}`,
    { AWS_REGION: region, AWS_USE_FIPS_ENDPOINT: 'true', AWS_USE_DUALSTACK_ENDPOINT: 'true' },
  ]),
  ['FIPS set false', { AWS_REGION: 'eu-west-1', AWS_USE_FIPS_ENDPOINT: 'false' }],
  [
    'AWS_ENDPOINT_URL_<SERVICE> (VPC endpoint names), before AWS_ENDPOINT_URL',
    {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'https://elsewhere.example.com',
      AWS_ENDPOINT_URL_SSM: 'https://vpce-1.ssm.eu-west-1.vpce.amazonaws.com',
      AWS_ENDPOINT_URL_S3: 'https://bucket.vpce-2.s3.eu-west-1.vpce.amazonaws.com',
      AWS_ENDPOINT_URL_DYNAMODB: 'https://vpce-3.dynamodb.eu-west-1.vpce.amazonaws.com',
      AWS_ENDPOINT_URL_SQS: 'https://vpce-4.sqs.eu-west-1.vpce.amazonaws.com',
    },
  ],
  ['AWS_ENDPOINT_URL alone', { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://localhost:4566' }],
  [
    'an endpoint URL that is an IP address',
    { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://10.0.0.5:9000' },
  ],
  [
    'endpoint URLs ignored (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)',
    {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'https://elsewhere.example.com',
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
    },
  ],
];

/**
 * Settings kf-bridge refuses, naming the one it cannot follow, where the SDK would guess a host (a `-fips` name in
 * a region without FIPS endpoints), refuse at the first call, quietly ignore a value, or prefix every path.
 */
const REFUSED: [string, Record<string, string>, RegExp][] = [
  ['FIPS in eu-west-1', { AWS_REGION: 'eu-west-1', AWS_USE_FIPS_ENDPOINT: 'true' }, /^AWS_USE_FIPS_ENDPOINT/],
  [
    'FIPS in cn-north-1',
    { AWS_REGION: 'cn-north-1', AWS_USE_FIPS_ENDPOINT: 'true' },
    /^AWS_USE_FIPS_ENDPOINT/,
  ],
  [
    'FIPS in eusc-de-east-1',
    { AWS_REGION: 'eusc-de-east-1', AWS_USE_FIPS_ENDPOINT: 'true' },
    /^AWS_USE_FIPS_ENDPOINT/,
  ],
  [
    'FIPS with an endpoint URL',
    { AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'true', AWS_ENDPOINT_URL: 'https://x.example.com' },
    /^AWS_ENDPOINT_URL cannot be combined with AWS_USE_FIPS_ENDPOINT/,
  ],
  [
    'dual-stack with an endpoint URL',
    {
      AWS_REGION: 'us-east-1',
      AWS_USE_DUALSTACK_ENDPOINT: 'true',
      AWS_ENDPOINT_URL: 'https://x.example.com',
    },
    /^AWS_ENDPOINT_URL cannot be combined with AWS_USE_DUALSTACK_ENDPOINT/,
  ],
  [
    'a FIPS setting that is not true or false',
    { AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'yes' },
    /^AWS_USE_FIPS_ENDPOINT must be true or false/,
  ],
  [
    'an endpoint URL with a path',
    { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'https://x.example.com/prefix' },
    /^AWS_ENDPOINT_URL must be an http\(s\) URL without a path/,
  ],
];

describe("kf-bridge's AWS endpoints, beside the SDK's", () => {
  for (const service of ['ssm', 's3', 'dynamodb', 'sqs'] as const) {
    for (const [name, env] of FOLLOWED)
      it(`${service}: ${name}`, async () => {
        stub(env);
        const expected = await sdkUrl(service, env.AWS_REGION as string);
        expect(expected).not.toMatch(/^refused/);
        expect(await ourUrl(service)).toBe(expected);
      });

    for (const [name, env, message] of REFUSED)
      it(`${service}: refuses ${name}, naming the setting`, () => {
        stub(env);
        const error = (() => {
          try {
            serviceTarget(service, process.env);
          } catch (error) {
            return error;
          }
        })();
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toMatch(message);
      });
  }

  it('refuses at cold start, before any setting is read, what the clients could not follow', async () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_USE_FIPS_ENDPOINT: 'true', KF_BRIDGE_SSM_PREFIX: '/kf/prod' };
    const read = vi.fn(async () => ({}));
    await expect(loadConfig('callback', env, read)).rejects.toThrow(
      new ConfigError('AWS_USE_FIPS_ENDPOINT=true: AWS has no FIPS endpoint of ssm in eu-west-1'),
    );
    expect(read).not.toHaveBeenCalled();
  });

  it('leaves the local stage to its own endpoints', () => {
    const local = serviceTarget('s3', {
      AWS_REGION: 'eu-west-1',
      AWS_USE_FIPS_ENDPOINT: 'true',
      KF_BRIDGE_LOCAL_ENDPOINTS: 's3=http://127.0.0.1:4566',
    });
    expect(local).toMatchObject({ endpoint: new URL('http://127.0.0.1:4566'), local: true });
  });
});
