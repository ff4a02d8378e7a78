import * as crypto from 'node:crypto';

/**
 * AWS Signature Version 4 for headers, as @smithy/signature-v4 signs them (the SDK clients' signer, whose
 * signatures these equal: test/lib/aws/sigV4.test.ts compares them), with node:crypto directly. Smithy's signer
 * clones the request, hashes through its own classes and hex-encodes in JS, and HMACs the secret on every request
 * to key its signing-key cache: it cost a signed DynamoDB call about as much CPU as sending it.
 */

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SigV4Options {
  readonly service: string;
  readonly region: string;
  /** Asked at each signing (./lambdaCredentials.ts reads them from the environment each time). */
  readonly credentials: () => Promise<SigningCredentials>;
  /** Escape the path once more, after normalising its `.` and `..` segments (all but S3); true by default. */
  readonly uriEscapePath?: boolean;
  /** Send the payload's hash as `x-amz-content-sha256`; true by default, as smithy's. */
  readonly applyChecksum?: boolean;
}

export interface RequestToSign {
  readonly method: string;
  /** The path as sent (percent-encoded already). */
  readonly path: string;
  /** The query's names and values, decoded; a repeated name with each of its values. */
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /** Host included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

/** Signs a request at a time: its headers, with `x-amz-date`, the session token, the payload hash and `authorization`. */
export type SigV4Signer = (request: RequestToSign, signingDate: Date) => Promise<Record<string, string>>;

const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA256_HEADER = 'x-amz-content-sha256';
/** Headers the signer writes itself: any the request has are dropped. */
const GENERATED = new Set(['authorization', 'x-amz-date', 'date']);
/** Headers a proxy or the HTTP stack may change on the way, which smithy never signs. */
const UNSIGNABLE = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/** crypto.hash where Node has it (20.12 on): one call, no Hash object. */
const sha256Hex: (data: string | Uint8Array) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => crypto.createHmac('sha256', key).update(data).digest();
/** A header value SigV4 signs otherwise than sent: folded lines, runs of blanks, blanks around it. */
const UNTRIMMED = /[\r\n\t]| {2}|^ | $/;

/** RFC 3986's encoding, which SigV4 asks for: encodeURIComponent leaves `!'()*` as they are. */
const escapeUri = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function sigV4Signer(options: SigV4Options): SigV4Signer {
  const { service, region } = options;
  const uriEscapePath = options.uriEscapePath ?? true;
  const applyChecksum = options.applyChecksum ?? true;
  /**
   * The last signing key: one a day per secret, so one almost always. A KeyObject, not the Buffer: Node (24)
   * makes an HMAC with a Buffer key several times slower, checking and copying it each time.
   */
  let cached: { shortDate: string; secret: string; key: crypto.KeyObject } | undefined;
  const signingKey = (secret: string, shortDate: string) => {
    if (cached?.shortDate === shortDate && cached.secret === secret) return cached.key;
    let key = hmac(`AWS4${secret}`, shortDate);
    for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
    cached = { shortDate, secret, key: crypto.createSecretKey(key) };
    return cached.key;
  };

  return async (request, signingDate) => {
    const credentials = await options.credentials();
    if (
      typeof credentials !== 'object' ||
      typeof credentials?.accessKeyId !== 'string' ||
      typeof credentials.secretAccessKey !== 'string'
    )
      throw new Error('Resolved credential object is not valid');
    const longDate = signingDate
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z')
      .replace(/[-:]/g, '');
    const shortDate = longDate.slice(0, 8);
    const scope = `${shortDate}/${region}/${service}/aws4_request`;

    const headers: Record<string, string> = {};
    let payloadHash: string | undefined;
    for (const name in request.headers) {
      const lower = name.toLowerCase();
      if (GENERATED.has(lower)) continue;
      headers[name] = request.headers[name] as string;
      if (lower === SHA256_HEADER) payloadHash ??= headers[name];
    }
    headers['x-amz-date'] = longDate;
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
    if (payloadHash === undefined) {
      payloadHash = request.body === undefined ? EMPTY_HASH : sha256Hex(request.body);
      if (applyChecksum) headers[SHA256_HEADER] = payloadHash;
    }

    const canonical = new Map<string, string>();
    for (const name of Object.keys(headers).sort()) {
      const value = headers[name];
      if (value == null) continue;
      const lower = name.toLowerCase();
      if (UNSIGNABLE.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
      const text = String(value);
      canonical.set(
        lower,
        UNTRIMMED.test(text)
          ? text
              .replace(/[\r\n]/g, ' ')
              .replace(/[ \t]+/g, ' ')
              .replace(/^ | $/g, '')
          : text,
      );
    }
    const signedNames = [...canonical.keys()].sort();
    const canonicalRequest = [
      request.method,
      canonicalPath(request.path, uriEscapePath),
      canonicalQuery(request.query),
      ...signedNames.map((name) => `${name}:${canonical.get(name)}`),
      '',
      signedNames.join(';'),
      payloadHash,
    ].join('\n');
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = crypto
      .createHmac('sha256', signingKey(credentials.secretAccessKey, shortDate))
      .update(stringToSign)
      .digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedNames.join(';')}, Signature=${signature}`;
    return headers;
  };
}

/** The path, its `.` and `..` segments resolved and then escaped again, `/` kept (all services but S3). */
function canonicalPath(path: string, uriEscapePath: boolean): string {
  if (!uriEscapePath) return path;
  if (path === '/') return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalised).replace(/%2F/g, '/');
}

/** Each name and value escaped, sorted by name, a repeated name's pairs sorted among themselves. */
function canonicalQuery(query: RequestToSign['query']): string {
  const pairs: [string, string][] = [];
  for (const name in query) {
    if (name.toLowerCase() === 'x-amz-signature') continue;
    const value = query[name];
    const escaped = escapeUri(name);
    if (typeof value === 'string') pairs.push([escaped, `${escaped}=${escapeUri(value)}`]);
    else if (Array.isArray(value) && value.length > 0)
      pairs.push([
        escaped,
        value
          .map((one) => `${escaped}=${escapeUri(one)}`)
          .sort()
          .join('&'),
      ]);
  }
  return pairs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, pair]) => pair)
    .join('&');
}
