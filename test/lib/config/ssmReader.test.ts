import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSsmReader, type SsmTarget, ssmTarget } from '../../../lib/config/ssmReader';
import { ConfigError, DependencyError } from '../../../lib/errors';
import {
  answer,
  awsStandInForTheseTests,
  drop,
  hang,
  type ReceivedRequest,
  type Reply,
} from '../../support/awsStandIn';
import { expectedSignature } from '../../support/sigv4';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken: 'session-token-1' };
const target = (overrides: Partial<SsmTarget> = {}): SsmTarget => ({
  endpoint: ssm.endpoint,
  region: 'eu-west-1',
  credentials: async () => credentials,
  ...overrides,
});
/** Fast enough for tests; the shapes of the limits are what matter (the defaults: ssmReaderThrottle.test.ts). */
const limits = {
  attempts: 3,
  baseDelayMs: 5,
  throttledBaseDelayMs: 5,
  attemptTimeoutMs: 300,
  readTimeoutMs: 2_000,
};

/** An answer of SSM's JSON 1.1 protocol. */
const ssmAnswer = (status: number, body: string) =>
  answer(status, body, { 'content-type': 'application/x-amz-json-1.1' });
/** SSM's answer: every asked name whose value `values` holds, the others as InvalidParameters. */
const found =
  (values: Record<string, string> = {}): Reply =>
  (response, request) => {
    const names = (JSON.parse(request.body) as { Names: string[] }).Names;
    ssmAnswer(
      200,
      JSON.stringify({
        Parameters: names
          .filter((name) => values[name] !== undefined)
          .map((name) => ({ Name: name, Type: 'SecureString', Value: values[name], Version: 1 })),
        InvalidParameters: names.filter((name) => values[name] === undefined),
      }),
    )(response, request);
  };
const refusal = (status: number, type: string, message: string, extra: object = {}) =>
  ssmAnswer(status, JSON.stringify({ __type: `com.amazonaws.ssm#${type}`, message, ...extra }));

/** A stand-in for SSM: unless a test says otherwise, it has none of the names asked for. */
const ssm = awsStandInForTheseTests(found());
afterEach(() => vi.unstubAllEnvs());

/** Everything an error carries that a log line could show: message, stack, properties, causes. */
const everything = (error: unknown) => `${inspect(error, { depth: null })} ${JSON.stringify(error)}`;

describe('the SSM reader', () => {
  it('asks with one signed GetParameters call of the JSON 1.1 protocol, decrypted, and reads what it answers', async () => {
    ssm.answers = [found({ '/kf/prod/A': 'value-a', '/kf/prod/B': 'value-b' })];
    const read = createSsmReader(() => target(), limits);

    const values = await read(['/kf/prod/A', '/kf/prod/B', '/kf/prod/MISSING']);

    expect(values).toEqual({ '/kf/prod/A': 'value-a', '/kf/prod/B': 'value-b' });
    expect(ssm.received).toHaveLength(1);
    const [request] = ssm.received as [ReceivedRequest];
    expect(request).toMatchObject({ method: 'POST', path: '/' });
    expect(request.headers).toMatchObject({
      'x-amz-target': 'AmazonSSM.GetParameters',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-security-token': 'session-token-1',
      host: ssm.endpoint.host,
    });
    expect(JSON.parse(request.body)).toEqual({
      Names: ['/kf/prod/A', '/kf/prod/B', '/kf/prod/MISSING'],
      WithDecryption: true,
    });
    const authorization = String(request.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ssm\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
    );
    const signed = /SignedHeaders=(\S+),/.exec(authorization)?.[1]?.split(';');
    expect(signed).toEqual(
      expect.arrayContaining(['content-type', 'host', 'x-amz-date', 'x-amz-security-token', 'x-amz-target']),
    );
    expect(authorization.endsWith(`Signature=${expectedSignature(request, SECRET)}`)).toBe(true);
  });

  it('sends no session token where the credentials have none', async () => {
    const read = createSsmReader(
      () => target({ credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }) }),
      limits,
    );
    await read(['/kf/prod/A']);
    const [request] = ssm.received as [ReceivedRequest];
    expect(request.headers['x-amz-security-token']).toBeUndefined();
    expect(String(request.headers.authorization)).not.toContain('x-amz-security-token');
    expect(String(request.headers.authorization)).toContain(
      `Signature=${expectedSignature(request, 'local')}`,
    );
  });

  it('asks for at most 10 names a call, as SSM allows, and makes no call for no names', async () => {
    const names = Array.from({ length: 23 }, (_, i) => `/kf/prod/N${i}`);
    ssm.answers = [found({ '/kf/prod/N0': 'a' }), found(), found({ '/kf/prod/N22': 'c' })];
    const read = createSsmReader(() => target(), limits);

    expect(await read(names)).toEqual({ '/kf/prod/N0': 'a', '/kf/prod/N22': 'c' });
    expect(await read([])).toEqual({});

    expect(ssm.received.map((request) => JSON.parse(request.body).Names)).toEqual([
      names.slice(0, 10),
      names.slice(10, 20),
      names.slice(20),
    ]);
  });

  it('tries again after throttling, a 5xx and a dropped connection', async () => {
    ssm.answers = [
      refusal(400, 'ThrottlingException', 'Rate exceeded'),
      ssmAnswer(503, '<html>Service Unavailable</html>'),
      found({ '/kf/prod/A': 'a' }),
      drop,
      found({ '/kf/prod/B': 'b' }),
    ];
    const read = createSsmReader(() => target(), limits);

    expect(await read(['/kf/prod/A'])).toEqual({ '/kf/prod/A': 'a' });
    expect(await read(['/kf/prod/B'])).toEqual({ '/kf/prod/B': 'b' });
    expect(ssm.received).toHaveLength(5);
    // Each try is signed anew: a retried request carries its own date and signature.
    for (const request of ssm.received)
      expect(String(request.headers.authorization)).toContain(expectedSignature(request, SECRET));
  });

  it('gives up after the tries it is given with a retryable DependencyError naming what SSM said', async () => {
    ssm.answers = [1, 2, 3].map(() => refusal(400, 'ThrottlingException', 'Rate exceeded'));
    const read = createSsmReader(() => target(), limits);

    const error = await read(['/kf/prod/A']).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/ThrottlingException.*Rate exceeded.*3 tries/),
    });
    expect(ssm.received).toHaveLength(3);
  });

  it('does not try again what SSM refused: access denied, a bad request', async () => {
    const denied =
      'User: arn:aws:sts::123456789012:assumed-role/cb/cb is not authorized to perform: ssm:GetParameters';
    for (const [type, message] of [
      ['AccessDeniedException', denied],
      ['ValidationException', 'Member must have length less than or equal to 10'],
    ] as const) {
      ssm.received = [];
      ssm.answers = [refusal(400, type, message)];
      const read = createSsmReader(() => target(), limits);

      const error = await read(['/kf/prod/A']).catch((e: unknown) => e);

      expect(error, type).toBeInstanceOf(DependencyError);
      expect((error as Error).message, type).toContain(type);
      expect((error as Error).message, type).toContain(message);
      expect(ssm.received, type).toHaveLength(1);
    }
  });

  it('reads the error type wherever the protocol puts it: a bare __type, a Message field, the header', async () => {
    ssm.answers = [ssmAnswer(400, '{"__type":"AccessDeniedException","Message":"no"}')];
    const read = createSsmReader(() => target(), limits);
    expect(await read(['/kf/prod/A']).catch((e: Error) => e.message)).toMatch(/AccessDeniedException: no/);
  });

  it('never puts a value from an answer into its error', async () => {
    const value = 'wecom-kf-secret-0123456789Zq9Xv';
    const cases: { status: number; body: string }[] = [
      // A 200 answer cut short, and one garbled: a JSON parser quotes the text around where it stopped.
      { status: 200, body: `{"Parameters":[{"Name":"/kf/prod/A","Value":"${value}"` },
      { status: 200, body: `{"Parameters":[{"Name":"/kf/prod/A","Value":"${value}"},]}` },
      { status: 200, body: `{"Parameters":{"Name":"/kf/prod/A","Value":"${value}"}}` },
      {
        status: 400,
        body: JSON.stringify({ __type: 'AccessDeniedException', Parameters: [{ Value: value }] }),
      },
      { status: 500, body: `<html>${value}</html>` },
      { status: 400, body: `{"__type":"Access ${value}"}` },
    ];
    for (const said of cases) {
      ssm.answers = [1, 2, 3].map(() => ssmAnswer(said.status, said.body));
      const read = createSsmReader(() => target(), limits);

      const error = await read(['/kf/prod/A']).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(DependencyError);
      // Any piece of it: a parser's message quotes a few characters either side of where it stopped.
      expect(everything(error), JSON.stringify(said)).not.toMatch(/wecom-kf-secret|Zq9Xv/);
    }
  });

  it('tries again an attempt SSM leaves unanswered, and bounds the whole read', async () => {
    ssm.answers = [hang, found({ '/kf/prod/A': 'a' })];
    const read = createSsmReader(() => target(), limits);
    expect(await read(['/kf/prod/A'])).toEqual({ '/kf/prod/A': 'a' });

    ssm.answers = [1, 2, 3].map(() => hang);
    const bounded = createSsmReader(() => target(), {
      ...limits,
      attemptTimeoutMs: 5_000,
      readTimeoutMs: 400,
    });
    const started = Date.now();
    const error = await bounded(['/kf/prod/A']).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toMatch(/within 400 ms/);
  });
});

describe('where the SSM reader goes', () => {
  it("goes to the region's SSM endpoint with the role's credentials from the function's environment", async () => {
    const deployed = ssmTarget({
      AWS_REGION: 'ap-southeast-1',
      AWS_ACCESS_KEY_ID: 'ASIAROLE',
      AWS_SECRET_ACCESS_KEY: 'role-secret',
      AWS_SESSION_TOKEN: 'role-session',
    });

    expect(deployed).toMatchObject({
      endpoint: new URL('https://ssm.ap-southeast-1.amazonaws.com'),
      region: 'ap-southeast-1',
    });
    expect(await deployed.credentials()).toMatchObject({
      accessKeyId: 'ASIAROLE',
      secretAccessKey: 'role-secret',
      sessionToken: 'role-session',
    });
    // China's regions are another partition, with endpoints of their own.
    expect(ssmTarget({ AWS_REGION: 'cn-north-1' }).endpoint).toEqual(
      new URL('https://ssm.cn-north-1.amazonaws.com.cn'),
    );
  });

  it('goes where KF_BRIDGE_LOCAL_ENDPOINTS names SSM, with the local credentials', async () => {
    const local = ssmTarget({
      AWS_REGION: 'ap-southeast-1',
      KF_BRIDGE_LOCAL_ENDPOINTS: `sqs=http://127.0.0.1:1,ssm=${ssm.endpoint.origin}`,
    });
    expect(local.endpoint).toEqual(ssm.endpoint);
    expect(await local.credentials()).toEqual({ accessKeyId: 'local', secretAccessKey: 'local' });
  });

  it('names AWS_REGION when it is not set', () => {
    expect(() => ssmTarget({})).toThrow(new ConfigError('AWS_REGION is not set: SSM cannot be read'));
  });
});
