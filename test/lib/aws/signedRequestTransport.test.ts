import { getEventListeners } from 'node:events';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RetryPolicy, signedRequests, xmlErrorCodeOf } from '../../../lib/aws/signedRequest';
import { answer, awsStandInForTheseTests } from '../../support/awsStandIn';
import { httpsServer, testCertificate } from '../../support/tls';

/**
 * The transport a signed request takes, its only one: node:http(s), on kept-alive connections, the answer's bytes
 * as sent. The stand-in's tests of retries, timeouts and aborts take it too.
 */

const aws = awsStandInForTheseTests();
const policy: RetryPolicy = { attempts: 3, baseDelayMs: 5, attemptTimeoutMs: 500, callTimeoutMs: 2_000 };
const credentials = async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' });
const requestsTo = (endpoint: () => URL, ca?: string) =>
  signedRequests({
    service: 'example',
    name: 'Example',
    target: () => ({ endpoint: endpoint(), region: 'eu-west-1', credentials }),
    errorOf: xmlErrorCodeOf,
    ...(ca && { ca }),
  });
const put = (endpoint: URL, body = 'the body') => ({
  operation: 'PutThing',
  method: 'PUT',
  url: new URL('/thing?x=1', endpoint),
  headers: { 'content-type': 'text/plain' },
  body,
});

describe('over HTTPS, as every AWS endpoint is', () => {
  const certificate = testCertificate(['localhost']);
  const received: { host?: string; authorization?: string; body: string }[] = [];
  let connections = 0;
  let server: Awaited<ReturnType<typeof httpsServer>>;
  beforeAll(async () => {
    server = await httpsServer(
      certificate,
      (request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => {
          body += chunk;
        });
        request.on('end', () => {
          received.push({ host: request.headers.host, authorization: request.headers.authorization, body });
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(`{"got":${JSON.stringify(body)}}`);
        });
      },
      { host: 'localhost' },
    );
    server.server.on('secureConnection', () => connections++);
  });
  afterAll(() => server.stop());

  it('sends signed requests for the host it asked, and reads their answers, on one connection', async () => {
    const endpoint = new URL(`https://localhost:${server.port}`);
    const requests = requestsTo(() => endpoint, certificate.cert);
    for (const body of ['one', 'two ✓']) {
      const got = await requests.send(put(endpoint, body), policy);
      expect(Buffer.from(got.body).toString()).toBe(`{"got":"${body}"}`);
      expect(got.headers.get('content-type')).toBe('application/json');
    }
    expect(received.map((r) => r.body)).toEqual(['one', 'two ✓']);
    expect(received[0]?.host).toBe(`localhost:${server.port}`);
    expect(received[0]?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/example\//,
    );
    expect(connections).toBe(1);
  });

  it('trusts no certificate Node does not', async () => {
    const endpoint = new URL(`https://localhost:${server.port}`);
    const error = await requestsTo(() => endpoint)
      .send(put(endpoint), { ...policy, attempts: 1 })
      .catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^Example PutThing: no answer \(.*certificate/);
  });
});

describe('over HTTP', () => {
  const requests = requestsTo(() => aws.endpoint);

  it("hands over an answer's bytes as sent, a Content-Encoding not undone", async () => {
    const gzipped = gzipSync('unpacked by fetch');
    aws.answers = [answer(200, gzipped, { 'content-encoding': 'gzip' })];
    const got = await requests.send(put(aws.endpoint), policy);
    expect(Buffer.from(got.body)).toEqual(gzipped);
    expect(got.body).toBeInstanceOf(Uint8Array);
  });

  it('tries again a try whose answer stopped coming half-way', async () => {
    aws.answers = [
      (response) => {
        response.writeHead(200, { 'content-length': '10' });
        response.write('abc', () => setTimeout(() => response.socket?.destroy(), 20));
      },
      answer(200, 'whole'),
    ];
    const got = await requests.send(put(aws.endpoint), policy);
    expect(Buffer.from(got.body).toString()).toBe('whole');
    expect(aws.received).toHaveLength(2);

    aws.received = [];
    aws.answers = [1, 2].map(() => (response) => {
      response.writeHead(200, { 'content-length': '10' });
      response.write('abc', () => setTimeout(() => response.socket?.destroy(), 20));
    });
    const error = await requests.send(put(aws.endpoint), { ...policy, attempts: 2 }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^Example PutThing: no answer \(.+\) \(2 tries\)$/);
  });

  it('takes a new connection where the service closed an idle one, without a failed try', async () => {
    aws.answers = [
      (response) => response.end('first', () => setTimeout(() => response.socket?.destroy(), 10)),
    ];
    await requests.send(put(aws.endpoint), policy);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const seen: (number | undefined)[] = [];
    const observed = signedRequests({
      service: 'example',
      name: 'Example',
      target: () => ({ endpoint: aws.endpoint, region: 'eu-west-1', credentials }),
      errorOf: xmlErrorCodeOf,
      observe: () => (ended) => seen.push(ended.status),
    });
    await observed.send(put(aws.endpoint), policy);
    expect(seen).toEqual([200]);
  });

  it("leaves nothing on its caller's signal once a call is done, a streamed body once it is read", async () => {
    const caller = new AbortController();
    for (let i = 0; i < 20; i++) await requests.send(put(aws.endpoint), policy, caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);

    aws.answers = [answer(200, 'streamed')];
    const opened = await requests.open(put(aws.endpoint), policy, caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    expect(await new Response(opened.body).text()).toBe('streamed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('sends nothing for a caller that has given up already', async () => {
    const error = await requests.send(put(aws.endpoint), policy, AbortSignal.abort()).catch((e: Error) => e);
    expect((error as Error).message).toBe('Example PutThing: given up by its caller');
    expect(aws.received).toHaveLength(0);
  });
});
