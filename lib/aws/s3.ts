import { BadRequestError } from '../errors';
import {
  AwsRequestError,
  type RequestObserver,
  type RetryPolicy,
  type ServiceTarget,
  serviceTarget,
  signedRequests,
  xmlErrorCodeOf,
} from './signedRequest';

/** An object read whole, or the news that it is larger than the reader takes. */
export type S3Read = { readonly data: Buffer; readonly contentType?: string } | { readonly tooLarge: true };

/**
 * The two S3 operations kf-bridge makes, without the S3 SDK client (~135 KB minified) in its bundles. An object's
 * bytes are read as S3 keeps them, whatever Content-Encoding it was stored with.
 */
export interface S3Objects {
  putObject(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    contentType: string,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * The object's bytes, unless it is larger than maxBytes: then its bytes are left unread (or no more of them
   * read) and its connection closed.
   */
  getObject(
    bucket: string,
    key: string,
    options: { readonly maxBytes: number; readonly signal?: AbortSignal },
  ): Promise<S3Read>;
}

/**
 * As the SDK's standard retry strategy: 3 tries, a longer backoff after SlowDown. A try (connect, send the body,
 * get the answer's head) of an object kf-bridge writes or reads (media up to WeCom's 20 MB, a day's reports) takes
 * well under a second in the function's region; a try that has had no answer for 10 s is on a dead connection.
 */
const POLICY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 100,
  throttledBaseDelayMs: 500,
  attemptTimeoutMs: 10_000,
  callTimeoutMs: 30_000,
};

/** A bucket name that can be a DNS label under S3's TLS certificate (`*.s3.<region>.amazonaws.com`): no dots. */
const VIRTUAL_HOSTABLE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** What S3 has allowed as bucket names, legacy ones (capitals, underscores) included: never a path of its own. */
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;

/** RFC 3986 escaping of one path segment: encodeURIComponent leaves !'()* as they are, and S3 wants them escaped. */
const escapeSegment = (segment: string) =>
  encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/** An IPv4 or IPv6 address: no bucket can be a label of it. */
const IP_HOST = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/i;

/**
 * The object's URL: virtual-hosted style on AWS (`https://<bucket>.s3.<region>.amazonaws.com/<key>`) and under an
 * endpoint URL setting, path style where the bucket's name cannot be a host name under S3's certificate or the
 * endpoint is an IP address (as the SDK), and always on the local stack (as `forcePathStyle` did). The key is
 * escaped byte by byte and sent and signed as it stands.
 */
function objectUrl(target: ServiceTarget, bucket: string, key: string): URL {
  if (!BUCKET_NAME.test(bucket)) throw new BadRequestError(`'${bucket}' is not an S3 bucket name`);
  if (!key) throw new BadRequestError(`S3 object in ${bucket} has no key`);
  const segments = key.split('/');
  // new URL, as any WHATWG URL parser, resolves these (escaped as %2E or not) and would ask for another object.
  if (segments.some((segment) => segment === '.' || segment === '..'))
    throw new BadRequestError(`S3 key ${key} has a '.' or '..' segment, which kf-bridge cannot ask for`);
  const path = segments.map(escapeSegment).join('/');
  const { endpoint } = target;
  if (target.local || !VIRTUAL_HOSTABLE.test(bucket) || IP_HOST.test(endpoint.hostname))
    return new URL(`/${bucket}/${path}`, endpoint);
  return new URL(`${endpoint.protocol}//${bucket}.${endpoint.host}/${path}`);
}

export interface S3ObjectsOptions {
  /** Changes to the retry policy (tests make it faster). */
  readonly policy?: Partial<RetryPolicy>;
  /** Told of every try (local metering counts them, and records them as IAM sees them). */
  readonly observe?: RequestObserver;
}

/** S3 for this process (see serviceTarget); the target is looked up at the first request. */
export function s3ObjectsFor(env: NodeJS.ProcessEnv, options: S3ObjectsOptions = {}): S3Objects {
  return s3Objects(() => serviceTarget('s3', env), options);
}

export function s3Objects(target: () => ServiceTarget, options: S3ObjectsOptions = {}): S3Objects {
  const policy = { ...POLICY, ...options.policy };
  const s3 = signedRequests({
    service: 's3',
    name: 'S3',
    target,
    errorOf: xmlErrorCodeOf,
    // S3 signs the path as sent, not escaped a second time, and wants the payload's SHA-256 in a header.
    signing: { uriEscapePath: false, applyChecksum: true },
    ...(options.observe && { observe: options.observe }),
  });
  return {
    async putObject(bucket, key, body, contentType, signal) {
      await s3.send(
        {
          operation: 'PutObject',
          method: 'PUT',
          url: objectUrl(s3.target(), bucket, key),
          headers: { 'content-type': contentType },
          body,
          input: { Bucket: bucket, Key: key },
        },
        policy,
        signal,
      );
    },

    async getObject(bucket, key, { maxBytes, signal }) {
      const answer = await s3.open(
        {
          operation: 'GetObject',
          method: 'GET',
          url: objectUrl(s3.target(), bucket, key),
          input: { Bucket: bucket, Key: key },
        },
        policy,
        signal,
      );
      const contentType = answer.headers.get('content-type') ?? undefined;
      const read = (data: Buffer): S3Read => ({ data, ...(contentType && { contentType }) });
      if (!answer.body) return read(Buffer.alloc(0));
      // S3 states an object's size exactly: a larger one is refused before its bytes are read, and its
      // connection closed rather than drained.
      if (Number(answer.headers.get('content-length') ?? 0) > maxBytes) {
        await answer.body.cancel().catch(() => {});
        return { tooLarge: true };
      }
      // What arrives is counted too: the stated size may be missing (a chunked answer) or not what is sent.
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      try {
        for await (const chunk of answer.body) {
          bytes += chunk.byteLength;
          // Leaving the loop cancels the body, which closes its connection.
          if (bytes > maxBytes) return { tooLarge: true };
          chunks.push(chunk);
        }
      } catch (error) {
        // The call's deadline (a TimeoutError, as AbortSignal.timeout's) bounds the reading of the body too.
        const why = signal?.aborted
          ? 'given up by its caller'
          : (error as Error).name === 'TimeoutError'
            ? `the object's bytes did not all come within ${policy.callTimeoutMs} ms, the call's deadline`
            : `the object's bytes stopped coming (${(error as Error).message})`;
        throw new AwsRequestError(
          `S3 GetObject: ${why}`,
          { service: 's3', operation: 'GetObject' },
          { cause: error },
        );
      }
      return read(Buffer.concat(chunks));
    },
  };
}
