import { createHash } from 'node:crypto';
import dns from 'node:dns';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { s3Objects } from '../../../lib/aws/s3';
import { AwsRequestError, type ServiceTarget } from '../../../lib/aws/signedRequest';
import { BadRequestError } from '../../../lib/errors';
import { awsStandInForTheseTests, type ReceivedRequest } from '../../support/awsStandIn';
import { expectedSignature } from '../../support/sigv4';

/** A stand-in for S3. */
const s3 = awsStandInForTheseTests();

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const credentials = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: SECRET,
  sessionToken: 'session-token-1',
});
const local = (): ServiceTarget => ({ endpoint: s3.endpoint, region: 'eu-west-1', credentials, local: true });
/** Fast enough for tests. */
const policy = { baseDelayMs: 5, attemptTimeoutMs: 1_000, callTimeoutMs: 5_000 };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A key's path as S3 wants it, worked out byte by byte: RFC 3986's unreserved characters and `/` stay. */
const encodedKey = (key: string) =>
  [...Buffer.from(key, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9\-._~/]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

const xmlError = (status: number, code: string) => (response: ServerResponse) =>
  response
    .writeHead(status, { 'content-type': 'application/xml' })
    .end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>The key private/wecom-kf-secret does not exist</Message><Key>private/wecom-kf-secret</Key><RequestId>R1</RequestId></Error>`,
    );

const AWKWARD_KEYS = [
  'inbound/2024-05-01/a b.png',
  'médias/中文 文件(1).jpg',
  'plus+sign/100%/done?.txt',
  'quotes\'"!*~/semi;colon=&#hash',
  'deep//double/slash',
  'not/%2e/a/dot/%2E%2e',
  'trailing/',
];

describe('putObject', () => {
  it('PUTs the body path-style on the local stack, signed with its SHA-256 as S3 requires', async () => {
    const body = Buffer.from([0, 1, 2, 250, 251, 252, 0x0d, 0x0a]);
    await s3Objects(local, { policy }).putObject('mediabucket', 'inbound/x.bin', body, 'image/png');

    const [request] = s3.received as [ReceivedRequest];
    expect(request).toMatchObject({ method: 'PUT', path: '/mediabucket/inbound/x.bin' });
    expect(request.bytes.equals(body)).toBe(true);
    expect(request.headers).toMatchObject({
      'content-type': 'image/png',
      'x-amz-content-sha256': sha256(body),
      'x-amz-security-token': 'session-token-1',
      'content-length': String(body.length),
    });
    const authorization = String(request.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, /,
    );
    expect(/SignedHeaders=(\S+),/.exec(authorization)?.[1]?.split(';')).toEqual(
      expect.arrayContaining([
        'content-type',
        'host',
        'x-amz-content-sha256',
        'x-amz-date',
        'x-amz-security-token',
      ]),
    );
    expect(authorization.endsWith(`Signature=${expectedSignature(request, SECRET)}`)).toBe(true);
  });

  it('puts every byte of a key in the path as S3 reads it, and signs that path as sent', async () => {
    const client = s3Objects(local, { policy });
    for (const key of AWKWARD_KEYS) {
      s3.received = [];
      await client.putObject('mediabucket', key, 'x', 'text/plain');
      const [request] = s3.received as [ReceivedRequest];
      expect(request.path, key).toBe(`/mediabucket/${encodedKey(key)}`);
      expect(decodeURIComponent(request.path.slice('/mediabucket/'.length)), key).toBe(key);
      expect(String(request.headers.authorization), key).toContain(
        `Signature=${expectedSignature(request, SECRET)}`,
      );
    }
  });

  it("refuses a key fetch's URL rules would rewrite, and an empty one, sending nothing", async () => {
    const client = s3Objects(local, { policy });
    for (const key of [
      'a/../b',
      'a/./b',
      '..',
      'a/%2e%2E/b'.replaceAll('%2e', '.').replaceAll('%2E', '.'),
      '',
    ])
      await expect(client.putObject('mediabucket', key, 'x', 'text/plain'), key).rejects.toThrow(
        BadRequestError,
      );
    for (const bucket of ['media/bucket', '..', '.hidden', ''])
      await expect(client.putObject(bucket, 'k', 'x', 'text/plain')).rejects.toThrow(
        new BadRequestError(`'${bucket}' is not an S3 bucket name`),
      );
    expect(s3.received).toHaveLength(0);
  });

  it('tries again what S3 says may pass (SlowDown, 500, 503), and not a refusal, naming only its code', async () => {
    const client = s3Objects(local, { policy });
    s3.answers = [xmlError(503, 'SlowDown'), xmlError(500, 'InternalError')];
    await client.putObject('mediabucket', 'k', 'x', 'text/plain');
    expect(s3.received).toHaveLength(3);
    for (const request of s3.received)
      expect(String(request.headers.authorization)).toContain(
        `Signature=${expectedSignature(request, SECRET)}`,
      );

    for (const [status, code] of [
      [403, 'AccessDenied'],
      [404, 'NoSuchBucket'],
    ] as const) {
      s3.received = [];
      s3.answers = [xmlError(status, code)];
      const error = await client.putObject('mediabucket', 'k', 'x', 'text/plain').catch((e: unknown) => e);
      expect(error, code).toBeInstanceOf(AwsRequestError);
      expect(error, code).toMatchObject({ message: `S3 PutObject: HTTP ${status} ${code}`, errorType: code });
      expect(inspect(error, { depth: null }), code).not.toContain('wecom-kf-secret');
      expect(s3.received, code).toHaveLength(1);
    }

    s3.received = [];
    s3.answers = [1, 2, 3].map(() => xmlError(503, 'SlowDown'));
    await expect(client.putObject('mediabucket', 'k', 'x', 'text/plain')).rejects.toThrow(
      'S3 PutObject: HTTP 503 SlowDown (3 tries)',
    );
  });
});

describe('where an object is on AWS', () => {
  // AWS's names resolve to the stand-in's loopback address here, as a hosts file would make them, and its port is
  // the endpoint's: each request goes over the client's own transport to the host an AWS endpoint gives, and the
  // stand-in sees the Host it was sent with and signed for. Every other name resolves as it would.
  const lookup = dns.lookup;
  beforeAll(() => {
    vi.spyOn(dns, 'lookup').mockImplementation(((hostname: string, ...rest: unknown[]) => {
      if (!/\.amazonaws\.com(\.cn)?$/.test(hostname)) return Reflect.apply(lookup, dns, [hostname, ...rest]);
      const answer = rest.at(-1) as (...args: unknown[]) => void;
      const all = (rest[0] as dns.LookupOptions).all === true;
      process.nextTick(() =>
        all ? answer(null, [{ address: '127.0.0.1', family: 4 }]) : answer(null, '127.0.0.1', 4),
      );
    }) as typeof dns.lookup);
  });
  afterAll(() => vi.mocked(dns.lookup).mockRestore());

  /** Where each request came: the Host it was sent with, and its path. */
  const sentTo = () => s3.received.map((request) => `${request.headers.host}${request.path}`);
  const toAws = (region: string) =>
    s3Objects(
      () => ({
        endpoint: new URL(
          `http://s3.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}:${s3.endpoint.port}`,
        ),
        region,
        credentials,
      }),
      { policy },
    );

  it('is on the bucket’s own host (virtual-hosted style), in China under its own domain', async () => {
    await toAws('eu-west-1').putObject('kf-media-123', 'inbound/a b.png', 'x', 'image/png');
    const port = s3.endpoint.port;
    expect(sentTo()).toEqual([`kf-media-123.s3.eu-west-1.amazonaws.com:${port}/inbound/a%20b.png`]);
    const [request] = s3.received as [ReceivedRequest];
    expect(String(request.headers.authorization)).toContain(
      `Signature=${expectedSignature(request, SECRET)}`,
    );

    s3.received = [];
    await toAws('cn-north-1').putObject('kf-media', 'k', 'x', 'text/plain');
    expect(sentTo()).toEqual([`kf-media.s3.cn-north-1.amazonaws.com.cn:${port}/k`]);
  });

  it('is under the bucket’s name in the path when the name has a dot (no TLS certificate covers it) or is not a DNS name', async () => {
    const client = toAws('eu-west-1');
    await client.putObject('media.example.com', 'k', 'x', 'text/plain');
    await client.putObject('Legacy_Bucket', 'k', 'x', 'text/plain');
    const port = s3.endpoint.port;
    expect(sentTo()).toEqual([
      `s3.eu-west-1.amazonaws.com:${port}/media.example.com/k`,
      `s3.eu-west-1.amazonaws.com:${port}/Legacy_Bucket/k`,
    ]);
    const [request] = s3.received as [ReceivedRequest];
    expect(String(request.headers.authorization)).toContain(
      `Signature=${expectedSignature(request, SECRET)}`,
    );
  });
});

describe('getObject', () => {
  it('GETs the object, signed, and reads its bytes and content type', async () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2, 3]);
    s3.answers = [(response) => response.writeHead(200, { 'content-type': 'image/jpeg' }).end(bytes)];

    const object = await s3Objects(local, { policy }).getObject('mediabucket', 'médias/a+b.jpg', {
      maxBytes: bytes.length,
    });

    expect(object).toEqual({ data: bytes, contentType: 'image/jpeg' });
    const [request] = s3.received as [ReceivedRequest];
    expect(request).toMatchObject({ method: 'GET', path: `/mediabucket/${encodedKey('médias/a+b.jpg')}` });
    expect(request.headers['x-amz-content-sha256']).toBe(sha256(''));
    expect(String(request.headers.authorization)).toContain(
      `Signature=${expectedSignature(request, SECRET)}`,
    );
  });

  it('refuses an object S3 says is larger than maxBytes before reading it, and closes its connection', async () => {
    let closed: Promise<boolean> | undefined;
    s3.answers = [
      (response) => {
        closed = new Promise((resolve) => response.on('close', () => resolve(response.writableFinished)));
        response.writeHead(200, { 'content-length': String(20 * 1024 * 1024) }).write(Buffer.alloc(1024));
      },
    ];
    const object = await s3Objects(local, { policy }).getObject('mediabucket', 'big.mp4', { maxBytes: 1024 });
    expect(object).toEqual({ tooLarge: true });
    // Closed before S3 finished sending: the rest is not read.
    expect(await closed).toBe(false);
  });

  it('stops reading once more than maxBytes arrived, when no length was said', async () => {
    let closed: Promise<boolean> | undefined;
    s3.answers = [
      (response) => {
        closed = new Promise((resolve) => response.on('close', () => resolve(response.writableFinished)));
        // Chunked: more than the limit, and an end that never comes.
        response.writeHead(200).write(Buffer.alloc(3000, 7));
      },
    ];
    const started = Date.now();
    const object = await s3Objects(local, { policy }).getObject('mediabucket', 'endless', { maxBytes: 2048 });
    expect(object).toEqual({ tooLarge: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await closed).toBe(false);
  });

  it('reads an object stored with a Content-Encoding as stored, and counts those bytes against maxBytes', async () => {
    // S3 serves the bytes as stored, naming their Content-Encoding; fetch would unpack them (1 MB here).
    const packed = gzipSync(Buffer.alloc(1024 * 1024));
    const answer = (response: ServerResponse) =>
      response
        .writeHead(200, {
          'content-type': 'application/gzip',
          'content-encoding': 'gzip',
          'content-length': String(packed.length),
        })
        .end(packed);
    s3.answers = [answer, answer];
    expect(packed.length).toBeLessThan(2048);
    const client = s3Objects(local, { policy });
    expect(await client.getObject('mediabucket', 'packed.gz', { maxBytes: 2048 })).toEqual({
      data: packed,
      contentType: 'application/gzip',
    });
    expect(await client.getObject('mediabucket', 'packed.gz', { maxBytes: packed.length - 1 })).toEqual({
      tooLarge: true,
    });
  });

  it("names the call's deadline when it ends a GetObject whose bytes were still coming", async () => {
    s3.answers = [(response) => void response.writeHead(200).write(Buffer.alloc(100))];
    const objects = s3Objects(local, { policy: { ...policy, callTimeoutMs: 300 } });
    const error = await objects.getObject('mediabucket', 'k', { maxBytes: 2048 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect((error as Error).message).toBe(
      "S3 GetObject: the object's bytes did not all come within 300 ms, the call's deadline",
    );
  });

  it('fails as an S3 error when the bytes stop coming: a dropped connection, its caller giving up', async () => {
    s3.answers = [
      (response) => {
        response.writeHead(200).write(Buffer.alloc(100));
        setTimeout(() => response.socket?.destroy(), 50);
      },
    ];
    const client = s3Objects(local, { policy });
    const dropped = await client.getObject('mediabucket', 'k', { maxBytes: 2048 }).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(AwsRequestError);
    expect(dropped).toMatchObject({
      message: expect.stringMatching(/^S3 GetObject: the object's bytes stopped coming/),
    });

    s3.answers = [(response) => void response.writeHead(200).write(Buffer.alloc(100))];
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const abandoned = await client
      .getObject('mediabucket', 'k', { maxBytes: 2048, signal: caller.signal })
      .catch((e: unknown) => e);
    expect(abandoned).toBeInstanceOf(AwsRequestError);
  });

  it('takes an object of exactly maxBytes', async () => {
    s3.answers = [(response) => response.writeHead(200).end(Buffer.alloc(2048, 1))];
    const object = await s3Objects(local, { policy }).getObject('mediabucket', 'k', { maxBytes: 2048 });
    expect(object).toMatchObject({ data: Buffer.alloc(2048, 1) });
  });

  it('says NoSuchKey by its code, without trying again', async () => {
    s3.answers = [xmlError(404, 'NoSuchKey')];
    const error = await s3Objects(local, { policy })
      .getObject('mediabucket', 'private/wecom-kf-secret', { maxBytes: 10 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ errorType: 'NoSuchKey', message: 'S3 GetObject: HTTP 404 NoSuchKey' });
    expect(s3.received).toHaveLength(1);
  });
});
