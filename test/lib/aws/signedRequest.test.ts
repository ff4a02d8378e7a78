import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  AwsRequestError,
  jsonErrorOf,
  type ObservedRequest,
  type RetryPolicy,
  serviceTarget,
  signedRequests,
  xmlErrorCodeOf,
} from '../../../lib/aws/signedRequest';
import { ConfigError, DependencyError } from '../../../lib/errors';
import { awsStandInForTheseTests, hang } from '../../support/awsStandIn';

/** A stand-in for an AWS service. */
const aws = awsStandInForTheseTests();

const policy: RetryPolicy = { attempts: 3, baseDelayMs: 5, attemptTimeoutMs: 300, callTimeoutMs: 2_000 };
const requests = (
  observe?: (request: ObservedRequest) => undefined | ((ended: { status?: number }) => void),
) =>
  signedRequests({
    service: 'example',
    name: 'Example',
    target: () => ({
      endpoint: aws.endpoint,
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
    }),
    errorOf: xmlErrorCodeOf,
    ...(observe && { observe }),
  });
const request = (path = '/thing') => ({
  operation: 'GetThing',
  method: 'GET',
  url: new URL(path, aws.endpoint),
});
const xmlError = (status: number, code: string) => (response: ServerResponse) =>
  response
    .writeHead(status, { 'content-type': 'application/xml' })
    .end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>about a/secret/key</Message></Error>`);

describe('a signed request', () => {
  it('hands over a streamed body that outlives the try timeout, and the call timeout still bounds it', async () => {
    aws.answers = [
      (response) => {
        response.writeHead(200, { 'content-length': '6' });
        response.write('abc');
        setTimeout(() => response.end('def'), 500);
      },
    ];
    const answer = await requests().open(request(), policy);
    expect(await new Response(answer.body).text()).toBe('abcdef');

    aws.answers = [
      (response) => {
        response.writeHead(200, { 'content-length': '6' });
        response.write('abc');
      },
    ];
    const short = await requests().open(request(), { ...policy, callTimeoutMs: 400 });
    const started = Date.now();
    await expect(new Response(short.body).text()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('tries again what the policy calls passing, and only that', async () => {
    aws.answers = [xmlError(503, 'SlowDown'), xmlError(400, 'RequestTimeout')];
    expect((await requests().send(request(), policy)).status).toBe(200);
    expect(aws.received).toHaveLength(3);

    aws.received = [];
    aws.answers = [xmlError(503, 'SlowDown')];
    const error = await requests()
      .send(request(), { ...policy, retryable: () => false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({
      message: 'Example GetThing: HTTP 503 SlowDown',
      httpStatus: 503,
      errorType: 'SlowDown',
      service: 'example',
      operation: 'GetThing',
    });
    expect(aws.received).toHaveLength(1);

    aws.received = [];
    aws.answers = [1, 2].map(() => xmlError(500, 'InternalError'));
    expect(
      await requests()
        .send(request(), { ...policy, attempts: 2 })
        .catch((e: Error) => e.message),
    ).toBe('Example GetThing: HTTP 500 InternalError (2 tries)');
  });

  it('takes a redirect (a bucket in another region) as a refusal: the signature is for its own host only', async () => {
    aws.answers = [
      (response) => response.writeHead(301, { location: `${aws.endpoint.origin}/elsewhere` }).end(),
    ];
    const error = await requests()
      .send(request(), policy)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ httpStatus: 301 });
    expect(aws.received.map((r) => r.path)).toEqual(['/thing']);
  });

  it('stops at once, without another try, when its caller gives up', async () => {
    aws.answers = [hang];
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const error = await requests()
      .send(request(), { ...policy, attemptTimeoutMs: 5_000 }, caller.signal)
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('Example GetThing: given up by its caller');
    expect(aws.received).toHaveLength(1);
  });

  it('tells an observer of every try before it is sent, and of how it ended', async () => {
    const seen: string[] = [];
    aws.answers = [xmlError(503, 'SlowDown')];
    await requests((observed) => {
      seen.push(`${observed.service}:${observed.operation} ${JSON.stringify(observed.input)}`);
      return ({ status }) => seen.push(`ended ${status}`);
    }).send({ ...request(), input: { Thing: 't' } }, policy);
    expect(seen).toEqual([
      'example:GetThing {"Thing":"t"}',
      'ended 503',
      'example:GetThing {"Thing":"t"}',
      'ended 200',
    ]);
  });
});

describe('error bodies', () => {
  it('keeps only the code of an XML error, and only when it is a plain name', () => {
    expect(
      xmlErrorCodeOf(
        '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>no a/secret/key</Message><Key>a/secret/key</Key></Error>',
        new Headers(),
      ),
    ).toEqual({ type: 'NoSuchKey' });
    expect(xmlErrorCodeOf('<Error><Code>a/secret key</Code></Error>', new Headers())).toEqual({});
    expect(xmlErrorCodeOf('<html>Bad gateway</html>', new Headers())).toEqual({});
  });

  it('reads a JSON error from its body or from x-amzn-errortype', () => {
    expect(
      jsonErrorOf(
        '{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"gone"}',
        new Headers(),
      ),
    ).toEqual({ type: 'ResourceNotFoundException', message: 'gone' });
    expect(
      jsonErrorOf('', new Headers({ 'x-amzn-errortype': 'ThrottlingException:http://internal' })),
    ).toEqual({
      type: 'ThrottlingException',
    });
  });
});

describe('where a service is', () => {
  it("is the region's endpoint on AWS, under China's own domain there, and the local stack's where it is named", () => {
    expect(serviceTarget('dynamodb', { AWS_REGION: 'eu-west-1' })).toMatchObject({
      endpoint: new URL('https://dynamodb.eu-west-1.amazonaws.com'),
      region: 'eu-west-1',
    });
    expect(serviceTarget('s3', { AWS_REGION: 'cn-northwest-1' }).endpoint).toEqual(
      new URL('https://s3.cn-northwest-1.amazonaws.com.cn'),
    );
    const local = serviceTarget('s3', {
      AWS_REGION: 'eu-west-1',
      KF_BRIDGE_LOCAL_ENDPOINTS: 'sqs=http://127.0.0.1:1,s3=http://127.0.0.1:2',
    });
    expect(local).toMatchObject({ endpoint: new URL('http://127.0.0.1:2'), local: true });
    expect(serviceTarget('dynamodb', { AWS_REGION: 'eu-west-1' }).local).toBeUndefined();
  });

  it('names AWS_REGION when it is not set', () => {
    expect(() => serviceTarget('s3', {})).toThrow(
      new ConfigError('AWS_REGION is not set: s3 cannot be reached'),
    );
  });
});
