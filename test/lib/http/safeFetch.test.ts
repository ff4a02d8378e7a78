import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { internalKind } from '../../../lib/http/internalAddress';
import { type ResolvedAddress, safeFetcher } from '../../../lib/http/safeFetch';
import { httpsServer, testCertificate } from '../../support/tls';

const MB = 1024 * 1024;
const LIMIT = { maxBytes: MB, tooLarge: 'media is over 1 MB' };
const PNG = Buffer.from('89504e470d0a1a0a-a-public-picture');
const SECRET = 'internal: the body no caller may see';
const certificate = testCertificate(['files.example', 'internal.example']);

/** The public host of these tests; the internal one listens on 127.0.0.2, at the same port. */
let files: Awaited<ReturnType<typeof httpsServer>>;
let internal: Awaited<ReturnType<typeof httpsServer>>;
let plainInternal: ReturnType<typeof createServer>;
let internalRequests = 0;
/** Resolves when the client hangs up on an endless body. */
let hungUp: Promise<void>;

let sawEncoding: string | string[] | undefined;

function publicFiles(request: IncomingMessage, response: ServerResponse) {
  const internalHttps = `https://127.0.0.2:${files.port}/secret`;
  const internalHttp = `http://127.0.0.1:${(plainInternal.address() as AddressInfo).port}/secret`;
  const redirects: Record<string, string> = {
    '/moved': '/photo.png',
    '/to-http': internalHttp,
    '/to-loopback': internalHttps,
    '/to-internal-name': `https://internal.example:${files.port}/secret`,
    '/to-metadata': 'https://169.254.169.254/latest/meta-data/',
    '/loop': '/loop',
  };
  const location = redirects[request.url ?? ''];
  if (location) return void response.writeHead(302, { location }).end();
  if (request.url === '/photo.png')
    return void response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
  if (request.url === '/announced')
    return void response
      .writeHead(200, { 'content-type': 'image/png', 'content-length': String(50 * MB) })
      .write(Buffer.alloc(64 * 1024));
  if (request.url === '/gzipped') {
    // Asked for the file as it is, the server compresses it anyway.
    sawEncoding = request.headers['accept-encoding'];
    return void response
      .writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip' })
      .end(gzipSync(PNG));
  }
  if (request.url === '/endless') {
    // Past the limit, then nothing more and no end: only a reader that counts as it goes can answer.
    hungUp = new Promise((resolve) => response.on('close', resolve));
    return void response.writeHead(200, { 'content-type': 'image/png' }).write(Buffer.alloc(MB + 64 * 1024));
  }
  response.writeHead(404).end();
}

const answers: Record<string, ResolvedAddress[]> = {
  'files.example': [{ address: '127.0.0.1', family: 4 }],
  'internal.example': [{ address: '127.0.0.2', family: 4 }],
};
const resolve = async (hostname: string) => {
  const found = answers[hostname];
  if (!found) throw Object.assign(new Error(`no ${hostname}`), { code: 'ENOTFOUND' });
  return found;
};
/** This test's public host is 127.0.0.1; every other address is judged as in production. */
const fetchFile = safeFetcher({
  resolve,
  internalKind: (address) => (address === '127.0.0.1' ? undefined : internalKind(address)),
  ca: certificate.cert,
});
const refused = (message: string) => ({ name: 'BadRequestError', message });
const url = (path: string, host = 'files.example') => `https://${host}:${files.port}${path}`;

beforeAll(async () => {
  files = await httpsServer(certificate, publicFiles);
  internal = await httpsServer(
    certificate,
    (_, response) => {
      internalRequests++;
      response.end(SECRET);
    },
    { host: '127.0.0.2', port: files.port },
  );
  plainInternal = createServer((_, response) => {
    internalRequests++;
    response.end(SECRET);
  });
  await new Promise<void>((resolve) => plainInternal.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await files.stop();
  await internal.stop();
  plainInternal.closeAllConnections();
  plainInternal.close();
});
beforeEach(() => {
  internalRequests = 0;
});

describe('safeFetcher', () => {
  it('reads a file from a public https URL, following its redirect', async () => {
    expect(await fetchFile(url('/moved'), LIMIT)).toEqual({ data: PNG, contentType: 'image/png' });
  });

  it('refuses a URL that is not https', async () => {
    await expect(fetchFile(`http://127.0.0.1:${files.port}/photo.png`, LIMIT)).rejects.toMatchObject(
      refused('media URL is not https'),
    );
  });

  it('refuses a redirect to plain http on loopback without fetching the internal body', async () => {
    await expect(fetchFile(url('/to-http'), LIMIT)).rejects.toMatchObject(
      refused('media URL redirects to a URL that is not https'),
    );
    expect(internalRequests).toBe(0);
  });

  it('refuses a redirect to an internal address, written out or by a name, without connecting to it', async () => {
    await expect(fetchFile(url('/to-loopback'), LIMIT)).rejects.toMatchObject(
      refused('media URL redirects to 127.0.0.2, which is an internal address (loopback)'),
    );
    await expect(fetchFile(url('/to-internal-name'), LIMIT)).rejects.toMatchObject(
      refused('media URL redirects to internal.example, which resolves to an internal address (loopback)'),
    );
    await expect(fetchFile(url('/to-metadata'), LIMIT)).rejects.toMatchObject(
      refused('media URL redirects to 169.254.169.254, which is an internal address (instance metadata)'),
    );
    expect(internalRequests).toBe(0);
  });

  it('refuses a name that resolves to loopback, IPv6 loopback or the instance metadata address', async () => {
    const names: Record<string, ResolvedAddress[]> = {
      'v4.example': [{ address: '127.0.0.1', family: 4 }],
      'v6.example': [{ address: '::1', family: 6 }],
      'mapped.example': [{ address: '::ffff:127.0.0.1', family: 6 }],
      'metadata.example': [{ address: '169.254.169.254', family: 4 }],
      'mixed.example': [
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.8', family: 4 },
      ],
    };
    let connections = 0;
    const production = safeFetcher({
      resolve: async (hostname) => {
        connections++;
        return names[hostname] ?? [];
      },
      ca: certificate.cert,
    });
    const refusal = (host: string, kind: string) =>
      expect(production(`https://${host}:${files.port}/photo.png`, LIMIT)).rejects.toMatchObject(
        refused(`media URL host ${host} resolves to an internal address (${kind})`),
      );
    await refusal('v4.example', 'loopback');
    await refusal('v6.example', 'loopback');
    await refusal('mapped.example', 'loopback');
    await refusal('metadata.example', 'instance metadata');
    await refusal('mixed.example', 'private');
    expect(connections).toBe(5);
  });

  it('refuses an internal address written in the URL, however it is spelt', async () => {
    const production = safeFetcher({ ca: certificate.cert });
    const refusal = (host: string, address: string, kind: string) =>
      expect(production(`https://${host}/photo.png`, LIMIT)).rejects.toMatchObject(
        refused(`media URL host ${address} is an internal address (${kind})`),
      );
    await refusal('127.0.0.1', '127.0.0.1', 'loopback');
    await refusal('2130706433', '127.0.0.1', 'loopback');
    await refusal('0x7f.1', '127.0.0.1', 'loopback');
    await refusal('[::1]', '::1', 'loopback');
    await refusal('[::ffff:127.0.0.1]', '::ffff:7f00:1', 'loopback');
    await refusal('169.254.169.254', '169.254.169.254', 'instance metadata');
    await refusal('[fd00:ec2::254]', 'fd00:ec2::254', 'instance metadata');
  });

  it('connects to the address it checked: a name that answers differently the next time does not get through', async () => {
    let lookups = 0;
    const rebinding = safeFetcher({
      // Public the first time, the internal host (same port) ever after.
      resolve: async () => [{ address: lookups++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }],
      internalKind: (address) => (address === '127.0.0.1' ? undefined : internalKind(address)),
      ca: certificate.cert,
    });
    expect((await rebinding(url('/photo.png'), LIMIT)).data).toEqual(PNG);
    expect(lookups).toBe(1);
    expect(internalRequests).toBe(0);
  });

  it('refuses a body announced over the limit', async () => {
    await expect(fetchFile(url('/announced'), LIMIT)).rejects.toMatchObject(refused('media is over 1 MB'));
  });

  it('refuses a body past the limit as its bytes arrive, and hangs up without waiting for the rest', async () => {
    await expect(fetchFile(url('/endless'), LIMIT)).rejects.toMatchObject(refused('media is over 1 MB'));
    await hungUp;
  });

  it('asks for the file as it is, and refuses a compressed answer rather than take it for the file', async () => {
    await expect(fetchFile(url('/gzipped'), LIMIT)).rejects.toMatchObject(
      refused('media URL answered in gzip, not the file itself'),
    );
    expect(sawEncoding).toBe('identity');
  });

  it('follows at most 5 redirects', async () => {
    await expect(fetchFile(url('/loop'), LIMIT)).rejects.toMatchObject(
      refused('media URL redirects more than 5 times'),
    );
  });

  it('answers a network failure as one a retry may fix', async () => {
    await expect(fetchFile('https://nowhere.example/photo.png', LIMIT)).rejects.toMatchObject({
      name: 'DependencyError',
      message: 'could not fetch media from nowhere.example',
      retryable: true,
    });
  });
});
