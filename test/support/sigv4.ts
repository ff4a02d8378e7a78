import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
/** RFC 3986's encoding, as SigV4 wants each query name and value. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** SigV4's canonical query string: every parameter as sent, each name and value URI-encoded, by name then value. */
function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .map((pair) => {
      const [name = '', value = ''] = pair.split('=').map((part) => uriEncode(decodeURIComponent(part)));
      return [name, value] as const;
    })
    .sort(([a, x], [b, y]) => byCodePoint(a, b) || byCodePoint(x, y))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/**
 * The SigV4 signature of a received request, computed from AWS's published algorithm ("Create a canonical
 * request") rather than by the signer under test: equal to the one sent only if the request was signed right.
 * The path is taken as sent, not escaped again (S3's rule; the other services' paths here need no escaping); the
 * payload's hash is what `x-amz-content-sha256` states where S3's signer sent it, else the body's own.
 */
export function expectedSignature(
  request: { method: string; path: string; headers: IncomingHttpHeaders; body: string | Buffer },
  secret: string,
): string {
  const authorization = String(request.headers.authorization);
  const [, scope = '', signedHeaders = ''] =
    /Credential=[^/]+\/(\S+), SignedHeaders=(\S+), Signature=/.exec(authorization) ?? [];
  const [date = '', region = '', service = ''] = scope.split('/');
  const [path = '', query = ''] = request.path.split('?');
  const payloadHash = request.headers['x-amz-content-sha256'] ?? sha256(request.body);
  const canonical = [
    request.method,
    path,
    canonicalQuery(query),
    ...signedHeaders.split(';').map((name) => `${name}:${String(request.headers[name]).trim()}`),
    '',
    signedHeaders,
    String(payloadHash),
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', request.headers['x-amz-date'], scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex');
}
