import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { internalKind } from '../../lib/http/internalAddress';
import { safeFetcher } from '../../lib/http/safeFetch';

/** A self-signed certificate for the given host names, made at test time: kf-bridge trusts it only when told to. */
export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

// The few DER shapes an X.509 certificate needs (ITU-T X.690).
const length = (n: number) =>
  n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
const der = (tag: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...parts: Buffer[]) => der(0x30, ...parts);
const oid = (dotted: string) => {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const base128 = (value: number) => {
    const bytes = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) bytes.unshift((v & 0x7f) | 0x80);
    return bytes;
  };
  return der(0x06, Buffer.from([first * 40 + second, ...rest.flatMap(base128)]));
};
const utcTime = (date: Date) =>
  der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`));
const commonName = (name: string) =>
  sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(name)))));

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const SUBJECT_ALT_NAME = '2.5.29.17';

export function testCertificate(hosts: readonly string[]): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const name = commonName('kf-bridge test');
  const altNames = sequence(...hosts.map((host) => der(0x82, Buffer.from(host))));
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.concat([Buffer.from([1]), randomBytes(8)])),
    ECDSA_WITH_SHA256,
    name,
    sequence(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 24 * 3600_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, sequence(sequence(oid(SUBJECT_ALT_NAME), der(0x04, altNames)))),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.from([0]), signature));
  const base64 = certificate
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n');
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`,
  };
}

/** An https server with the certificate, on loopback unless told otherwise, and the port it listens on. */
export async function httpsServer(
  certificate: TestCertificate,
  listener: RequestListener,
  { host = '127.0.0.1', port = 0 } = {},
): Promise<{ server: Server; port: number; stop(): Promise<void> }> {
  const server = createServer(certificate, listener);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * An https host the fetcher treats as public though it listens on loopback: `hostname` resolves to 127.0.0.1,
 * 127.0.0.1 counts as public, and the host's certificate is trusted. Every other name is unknown and every
 * other address judged as in production, so a redirect elsewhere meets the real checks.
 */
export async function publicHost(listener: RequestListener, hostname = 'example.invalid') {
  const certificate = testCertificate([hostname]);
  const server = await httpsServer(certificate, listener);
  const safeFetch = safeFetcher({
    resolve: async (name) => {
      if (name === hostname) return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error(`no ${name}`), { code: 'ENOTFOUND' });
    },
    internalKind: (address) => (address === '127.0.0.1' ? undefined : internalKind(address)),
    ca: certificate.cert,
  });
  return { ...server, safeFetch, url: (path: string) => `https://${hostname}:${server.port}${path}` };
}
