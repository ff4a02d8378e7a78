import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();

/**
 * The SigV4 signature of a received request (a query-less POST), computed from AWS's published algorithm rather
 * than by the signer under test: equal to the one sent only if the request was signed right.
 */
export function expectedSignature(
  request: { method: string; path: string; headers: IncomingHttpHeaders; body: string },
  secret: string,
): string {
  const authorization = String(request.headers.authorization);
  const [, scope = '', signedHeaders = ''] =
    /Credential=[^/]+\/(\S+), SignedHeaders=(\S+), Signature=/.exec(authorization) ?? [];
  const [date = '', region = '', service = ''] = scope.split('/');
  const canonical = [
    request.method,
    request.path,
    '',
    ...signedHeaders.split(';').map((name) => `${name}:${String(request.headers[name]).trim()}`),
    '',
    signedHeaders,
    sha256(request.body),
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', request.headers['x-amz-date'], scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex');
}
