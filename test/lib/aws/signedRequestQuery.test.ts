import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RetryPolicy, signedRequests, xmlErrorCodeOf } from '../../../lib/aws/signedRequest';
import { KfBridgeError } from '../../../lib/errors';

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}
let received: Received[] = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    received.push({
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks),
    });
    response.writeHead(200).end('ok');
  });
});
let endpoint: URL;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
afterEach(() => {
  received = [];
});

const SECRET = 'secret';
const policy: RetryPolicy = { attempts: 3, baseDelayMs: 5, attemptTimeoutMs: 300, callTimeoutMs: 1_000 };
const core = () =>
  signedRequests({
    service: 'example',
    name: 'Example',
    target: () => ({
      endpoint,
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: SECRET }),
    }),
    errorOf: xmlErrorCodeOf,
  });

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The signature per AWS's SigV4 documentation ("Create a canonical request"), not by the signer under test: the
 * canonical query string is every parameter of the query as sent, each name and value URI-encoded, sorted by name
 * then value.
 */
function expectedSignature(request: Received): string {
  const authorization = String(request.headers.authorization);
  const [, scope = '', signedHeaders = ''] =
    /Credential=[^/]+\/(\S+), SignedHeaders=(\S+), Signature=/.exec(authorization) ?? [];
  const [date = '', region = '', service = ''] = scope.split('/');
  const [path = '', query = ''] = request.path.split('?');
  const params = query
    ? query
        .split('&')
        .map((pair) => pair.split('=').map((part) => enc(decodeURIComponent(part))) as [string, string])
        .map(([name, value = '']) => `${name}=${value}`)
        .sort()
    : [];
  const canonical = [
    request.method,
    path,
    params.join('&'),
    ...signedHeaders.split(';').map((name) => `${name}:${String(request.headers[name]).trim()}`),
    '',
    signedHeaders,
    sha256(request.body),
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', request.headers['x-amz-date'], scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${SECRET}`, date), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex');
}

const send = (path: string) =>
  core().send({ operation: 'ListThings', method: 'GET', url: new URL(path, endpoint) }, policy);

describe('a signed query', () => {
  it('of single parameters is signed as sent (control for the reckoning here)', async () => {
    await send('/things?tag=a%20b&x=1');
    const [request] = received as [Received];
    expect(String(request.headers.authorization)).toContain(`Signature=${expectedSignature(request)}`);
  });

  it('is signed as sent when a parameter repeats (SigV4: every parameter, sorted by name then value)', async () => {
    await send('/things?tag=b&tag=a&flag&x=%2F');
    const [request] = received as [Received];
    expect(request.path).toBe('/things?tag=b&tag=a&flag&x=%2F');
    expect(String(request.headers.authorization)).toContain(`Signature=${expectedSignature(request)}`);
  });

  it("is refused, sending nothing, with a '+' whose meaning (plus or space) the service may read otherwise", async () => {
    const error = await send('/things?q=a+b').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KfBridgeError);
    expect((error as Error).message).toBe(
      "Example ListThings: the query parameter 'q' cannot be signed as sent",
    );
    expect(received).toHaveLength(0);
  });
});
