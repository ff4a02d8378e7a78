import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, DependencyError, KfBridgeError } from '../errors';
import { type AwsService, awsClientConfig } from './clientConfig';
import { awsEndpoint } from './endpoints';
import { lambdaCredentials } from './lambdaCredentials';
import { agents, bytesOf, dropIdleConnections, exchange, headersOf } from './nodeExchange';
import { type SigV4Signer, sigV4Signer } from './sigV4';

/**
 * One AWS request, SigV4-signed and sent over node:http(s) on kept-alive connections, tried again when AWS says
 * "later": what a service client of our own (SSM's GetParameters, SQS's sends, DynamoDB's item calls, S3's objects)
 * needs, signed with the role's credentials from Lambda's environment (./lambdaCredentials.ts), so no AWS SDK
 * client, nor the SDK's credential chain, has to be in a function's bundle. Its own signer and transport cost a
 * call less than half the CPU of the SDK's client: see ./sigV4.ts and ./nodeExchange.ts.
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Where a service answers, and who asks it. */
export interface ServiceTarget {
  readonly endpoint: URL;
  readonly region: string;
  /** Asked before each request: on Lambda they are read from the environment each time (./lambdaCredentials.ts). */
  readonly credentials: () => Promise<AwsCredentials>;
  /** The embedded stack's endpoint (`KF_BRIDGE_LOCAL_ENDPOINTS`) rather than AWS's own. */
  readonly local?: boolean;
}

/**
 * Where `service` answers for this process: on deployed stages the endpoint the SDK's clients would use (see
 * awsEndpoint: the endpoint URL settings, FIPS, dual-stack, the region's partition), signed with the function
 * role's credentials as Lambda puts them in the environment (./lambdaCredentials.ts); on the local stage
 * the endpoint `KF_BRIDGE_LOCAL_ENDPOINTS` names, with the local stack's credentials.
 */
export function serviceTarget(service: AwsService, env: NodeJS.ProcessEnv): ServiceTarget {
  const region = env.AWS_REGION?.trim();
  if (!region) throw new ConfigError(`AWS_REGION is not set: ${service} cannot be reached`);
  const { endpoint, credentials }: { endpoint?: string; credentials?: AwsCredentials } = awsClientConfig(
    service,
    env,
  );
  if (endpoint && credentials)
    return { endpoint: new URL(endpoint), region, credentials: async () => credentials, local: true };
  return { endpoint: awsEndpoint(service, region, env), region, credentials: lambdaCredentials(env) };
}

export interface SignedRequest {
  /** The operation as the service's API and IAM name it (`GetParameters`, `PutObject`): errors and observers say it. */
  readonly operation: string;
  readonly method: string;
  /**
   * Where it goes. Its path and query are sent and signed as they stand: percent-encoded already, as the service
   * wants them. A repeated query parameter is signed with each of its values; a `+` in the query is refused.
   */
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** The operation's parameters as the SDK names them (`{ Bucket, Key }`), for observers only: never sent. */
  readonly input?: Readonly<Record<string, unknown>>;
}

/** How often and how long one call may try. */
export interface RetryPolicy {
  /** Tries of one call, the first included; Infinity tries until callTimeoutMs (or the caller's signal) ends it. */
  readonly attempts: number;
  /** The backoff before try n+1 is random within baseDelayMs × 2^(n-1), and within what is left of callTimeoutMs. */
  readonly baseDelayMs: number;
  /**
   * The base after a throttling refusal instead (the SDK waits longer after one: a burst that was throttled
   * together spreads out over more time); baseDelayMs where not set.
   */
  readonly throttledBaseDelayMs?: number;
  /** A try without an answer by then is abandoned (and tried again). A streamed body is not part of the try. */
  readonly attemptTimeoutMs: number;
  /** The whole call: every try, every backoff, and the reading of a streamed body. */
  readonly callTimeoutMs: number;
  /** Whether a refusal may pass if tried again; by default 5xx, 429 and the throttling and timeout error types. */
  readonly retryable?: (refusal: Refusal) => boolean;
}

/** A non-2xx answer, as much of it as errors and retry decisions may use. */
export interface Refusal {
  readonly status: number;
  /** The service's error type (`ThrottlingException`, `NoSuchKey`), when it names a plain one. */
  readonly type?: string;
  /** The service's explanation, where its error format keeps one that holds no secret. */
  readonly message?: string;
  /**
   * Whatever else a service's error reader keeps for its callers (DynamoDB's CancellationReasons, say); never put
   * into an error's message.
   */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Reads a refusal's type (and explanation) from its body and headers; never quotes anything else of the body. */
export type ErrorReader = (body: string, headers: Headers) => Omit<Refusal, 'status'>;

/** A 2xx answer. */
export interface Answer<Body> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Body;
}

/** One try as an observer sees it, before it is sent: IAM authorises each attempt, whatever its outcome. */
export interface ObservedRequest {
  readonly service: string;
  readonly operation: string;
  readonly method: string;
  readonly url: URL;
  readonly input?: Readonly<Record<string, unknown>>;
}

/**
 * How a try ended: the answer's status, if there was one; `unsent` says why a try was never sent (its credentials
 * could not be had), which an observer that counts what reached AWS leaves out. The local stack's observers sign
 * with fixed credentials and never meet one.
 */
export interface TryEnd {
  readonly status?: number;
  readonly unsent?: string;
}

/** Told of each try before it is signed and sent; what it returns, if anything, is told when the try ended. */
export type RequestObserver = (request: ObservedRequest) => ((ended: TryEnd) => void) | undefined;

export interface SignedRequestsOptions {
  /** The signing name (`ssm`, `s3`). */
  readonly service: string;
  /** How errors name the service (`SSM`, `S3`). */
  readonly name: string;
  /** Looked up at the first request, so a process that never calls the service needs no region. */
  readonly target: () => ServiceTarget;
  readonly errorOf: ErrorReader;
  /** S3 signs the path as sent (no second escaping) and always sends `x-amz-content-sha256`. */
  readonly signing?: { readonly uriEscapePath?: boolean; readonly applyChecksum?: boolean };
  readonly observe?: RequestObserver;
  /** The only certificate authority trusted over HTTPS instead of Node's: a test's own, for its TLS server. */
  readonly ca?: string;
}

export interface SignedRequests {
  /** The service's target, resolved at first use. */
  target(): ServiceTarget;
  /** One call whose answer's body is read within the try. */
  send(request: SignedRequest, policy: RetryPolicy, signal?: AbortSignal): Promise<Answer<Uint8Array>>;
  /**
   * One call whose answer's body is handed over unread: the caller reads it (or cancels it) within the call's
   * timeout and its own signal, which keep applying to the body.
   */
  open(
    request: SignedRequest,
    policy: RetryPolicy,
    signal?: AbortSignal,
  ): Promise<Answer<ReadableStream<Uint8Array> | null>>;
}

/** A call that failed: what the service said (or that it did not answer), after how many tries. */
export class AwsRequestError extends DependencyError {
  readonly service: string;
  readonly operation: string;
  /** The refusal's HTTP status, when there was an answer. */
  readonly httpStatus?: number;
  readonly errorType?: string;
  /** The whole refusal, when there was an answer. */
  readonly refusal?: Refusal;

  constructor(
    message: string,
    details: { service: string; operation: string; refusal?: Refusal },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.service = details.service;
    this.operation = details.operation;
    if (details.refusal) {
      this.refusal = details.refusal;
      this.httpStatus = details.refusal.status;
    }
    if (details.refusal?.type) this.errorType = details.refusal.type;
  }
}

/** The error types the SDK's retry strategy reads as throttling: tried again, after a longer backoff. */
const THROTTLING_TYPES = new Set([
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

export const throttlingRefusal = (refusal: Refusal): boolean =>
  refusal.status === 429 || THROTTLING_TYPES.has(refusal.type ?? '');

/** Throttling, a 5xx, and the timeout error types: what the SDK's retry strategy tries again. */
export const passingRefusal = (refusal: Refusal): boolean =>
  refusal.status >= 500 ||
  throttlingRefusal(refusal) ||
  refusal.type === 'RequestTimeout' ||
  refusal.type === 'RequestTimeoutException';

/**
 * The refusals of a request signed at a time the service calls too far from its own (S3's RequestTimeTooSkewed,
 * "Signature expired" from the JSON services, …): the SDK's list. Taken as such only when the answer's Date header
 * says so too.
 */
const CLOCK_SKEW_TYPES = new Set([
  'AuthFailure',
  'InvalidSignatureException',
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
]);

/** A clock this far from the service's is corrected (the SDK's threshold; AWS refuses past 15 minutes). */
const CLOCK_SKEW_MS = 5 * 60_000;

/** An error type is kept only when it is a plain name: anything else in its place could be quoted content. */
const plainType = (type: string | undefined) =>
  type && /^[A-Za-z][A-Za-z0-9.]{0,127}$/.test(type) ? type : undefined;

/** How much of a service's own explanation (who may not do what) an error keeps. */
const MESSAGE_CHARS = 300;

/**
 * The error of the AWS JSON protocols (`{"__type": "com.amazonaws.ssm#ThrottlingException", "message": …}`, or the
 * type in `x-amzn-errortype`): its type and explanation; nothing else of the body is kept.
 */
export const jsonErrorOf: ErrorReader = (text, headers) => {
  let body: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    body = JSON.parse(text) ?? {};
  } catch {}
  const named = typeof body.__type === 'string' ? body.__type : (headers.get('x-amzn-errortype') ?? '');
  const type = plainType(named.split('#').pop()?.split(':')[0]?.trim());
  const message = typeof body.message === 'string' ? body.message : body.Message;
  return {
    ...(type && { type }),
    ...(typeof message === 'string' && message && { message: message.slice(0, MESSAGE_CHARS) }),
  };
};

/**
 * The code of an error of the AWS REST-XML protocols (`<Error><Code>NoSuchKey</Code>…`), and nothing else: S3's
 * messages and other fields may name keys and resources.
 */
export const xmlErrorCodeOf: ErrorReader = (text) => {
  const type = plainType(/<Error>[\s\S]*?<Code>([^<]*)<\/Code>/.exec(text)?.[1]?.trim());
  return type ? { type } : {};
};

/** A try's outcome: the answer, or why it failed and whether another try may succeed. */
type Outcome<Body> =
  | { readonly answer: Answer<Body> }
  | {
      readonly failure: string;
      readonly passing: boolean;
      readonly refusal?: Refusal;
      /** The service's clock when it refused, from the answer's Date header. */
      readonly serviceTime?: number;
      /** No answer came (a network failure, the try's timeout). */
      readonly unanswered?: true;
      readonly cause?: unknown;
    };

/** What a try got back over node:http. */
interface Reply {
  readonly status: number;
  /** One header's value, by its lower-case name. */
  header(name: string): string | null;
  /** All of them, made when asked for: most answers are read without. */
  headers(): Headers;
  text(): Promise<string>;
  bytes(): Promise<Uint8Array>;
  /** The body unread; the reply's exchange stays cancellable until the body has been read or cancelled. */
  stream(): ReadableStream<Uint8Array> | null;
}

/** Statuses whose answer has no body. */
const NO_BODY = new Set([204, 205, 304]);

const utf8 = new TextDecoder();

/** The reason the call's deadline ends it with: AbortSignal.timeout's, which readers of a streamed body know. */
const timeoutReason = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

export function signedRequests(options: SignedRequestsOptions): SignedRequests {
  let resolved: { target: ServiceTarget; sign: SigV4Signer } | undefined;
  const client = () => {
    if (!resolved) {
      const target = options.target();
      resolved = {
        target,
        sign: sigV4Signer({
          service: options.service,
          region: target.region,
          credentials: target.credentials,
          ...options.signing,
        }),
      };
    }
    return resolved;
  };
  /**
   * How far the service's clock is from ours, once a refusal has shown it: later requests are signed with the
   * corrected time, as the SDK signs them (a Lambda's clock is rarely off, a developer's machine's may be).
   */
  let clockOffsetMs = 0;
  const through = options.ca ? agents(options.ca) : undefined;

  async function call<Body>(
    request: SignedRequest,
    policy: RetryPolicy,
    signal: AbortSignal | undefined,
    streaming: boolean,
  ): Promise<Answer<Body>> {
    const { sign } = client();
    const label = `${options.name} ${request.operation}`;
    const query = queryOf(request.url, label);
    // The call's end as one controller, one timer and one listener on the caller's signal, released when the call
    // is done, rather than AbortSignal.timeout and AbortSignal.any per call and per try, whose timers run on after
    // it. A streamed body keeps them until it is read (see attempt), or until the deadline.
    const callEnd = new AbortController();
    const ended = callEnd.signal;
    const onCaller = () => endCall(signal?.reason);
    const deadline = setTimeout(() => endCall(timeoutReason()), policy.callTimeoutMs);
    deadline.unref();
    const release = () => {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onCaller);
    };
    function endCall(reason: unknown) {
      release();
      callEnd.abort(reason);
    }
    if (signal?.aborted) endCall(signal.reason);
    else signal?.addEventListener('abort', onCaller, { once: true });
    const endsAt = Date.now() + policy.callTimeoutMs;
    const details = { service: options.service, operation: request.operation };
    /** Why the last finished try failed, for the error of a call its deadline or its caller ended. */
    let last: Extract<Outcome<Body>, { failure: string }> | undefined;
    let failed = 0;
    const stopped = (cause: unknown) => {
      // Tries that had no answer either are what "no answer within" says already.
      const told = last && !last.unanswered ? last : undefined;
      const after = told
        ? ` (${failed} ${failed === 1 ? 'try' : 'tries'} failed, the last: ${told.failure})`
        : '';
      const error = (message: string) =>
        new AwsRequestError(
          message,
          { ...details, ...(last?.refusal && { refusal: last.refusal }) },
          { cause },
        );
      if (signal?.aborted) return error(`${label}: given up by its caller${after}`);
      return error(`${label}: ${told ? 'not done' : 'no answer'} within ${policy.callTimeoutMs} ms${after}`);
    };
    let clockCorrected = false;
    /** Whether the answer's streamed body keeps the call's end, which ends its reading too. */
    let kept = false;
    try {
      for (let tries = 1; ; tries++) {
        const outcome = await attempt<Body>(request, query, policy, sign, ended, streaming, release);
        if ('answer' in outcome) {
          kept = streaming && outcome.answer.body !== null;
          return outcome.answer;
        }
        if (ended.aborted) throw stopped(outcome.cause);
        last = outcome;
        failed++;
        const { failure, passing, refusal, serviceTime, cause } = outcome;
        // A request refused for its date is tried again at once, signed with the service's time (once a call).
        if (
          refusal &&
          serviceTime !== undefined &&
          !clockCorrected &&
          CLOCK_SKEW_TYPES.has(refusal.type ?? '')
        ) {
          const offset = serviceTime - Date.now();
          if (Math.abs(offset - clockOffsetMs) >= CLOCK_SKEW_MS) {
            clockOffsetMs = offset;
            clockCorrected = true;
            continue;
          }
        }
        const error = (suffix: string) =>
          new AwsRequestError(
            `${label}: ${failure}${suffix}`,
            { ...details, ...(refusal && { refusal }) },
            {
              cause,
            },
          );
        if (!passing) throw error('');
        if (tries >= policy.attempts) throw error(` (${tries} tries)`);
        const base =
          refusal && throttlingRefusal(refusal)
            ? (policy.throttledBaseDelayMs ?? policy.baseDelayMs)
            : policy.baseDelayMs;
        // Full jitter: a burst of callers that was throttled together does not come back together. A backoff is
        // drawn within what is left of the call, so a call that has time for another try makes it.
        const left = endsAt - Date.now();
        if (left <= 0) throw stopped(cause);
        await sleep(Math.random() * Math.min(base * 2 ** (tries - 1), left), undefined, {
          signal: ended,
        }).catch(() => {
          throw stopped(cause);
        });
      }
    } finally {
      if (!kept) release();
    }
  }

  async function attempt<Body>(
    request: SignedRequest,
    query: Record<string, string | string[]>,
    policy: RetryPolicy,
    sign: SigV4Signer,
    ended: AbortSignal,
    streaming: boolean,
    release: () => void,
  ): Promise<Outcome<Body>> {
    const { url } = request;
    const finished = options.observe?.({
      service: options.service,
      operation: request.operation,
      method: request.method,
      url,
      ...(request.input && { input: request.input }),
    });
    // The try ends at its own timeout or at the call's end, whichever comes first: what it waits for (the
    // credentials while signing, then the answer) is abandoned, and what it sent is cancelled. Its timer is
    // cleared once the try has what it keeps: a streamed body outlives the try, and the call's end still ends it.
    let abandon!: (reason: unknown) => void;
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    abandoned.catch(() => {});
    let cancel: ((reason: unknown) => void) | undefined;
    let timedOut = false;
    const endTry = (reason: unknown) => {
      abandon(reason);
      cancel?.(reason);
    };
    const onEnded = () => endTry(ended.reason);
    const timer = setTimeout(() => {
      timedOut = true;
      endTry(timeoutReason());
    }, policy.attemptTimeoutMs);
    if (ended.aborted) onEnded();
    else ended.addEventListener('abort', onEnded, { once: true });
    /** Once a streamed body is handed over, the call's end stays with it until it is read or cancelled. */
    let handedOver = false;
    const timedOutText = () => `within ${policy.attemptTimeoutMs} ms`;
    let status: number | undefined;
    let unsent: string | undefined;
    try {
      let signed: Record<string, string>;
      try {
        // Each try is signed anew: a retried request carries its own date and signature.
        signed = await Promise.race([
          sign(
            {
              method: request.method,
              path: url.pathname,
              query,
              headers: { ...request.headers, host: url.host },
              ...(request.body !== undefined && { body: request.body }),
            },
            new Date(Date.now() + clockOffsetMs),
          ),
          abandoned,
        ]);
      } catch (error) {
        unsent = 'credentials unavailable';
        return timedOut
          ? { failure: `credentials unavailable ${timedOutText()}`, passing: true, cause: error }
          : { failure: unsent, passing: false, cause: error };
      }
      const sent = exchange(url, request.method, signed, request.body, through);
      cancel = sent.cancel;
      const message = await sent.answer;
      const reply = nodeReply(message, request.method, () => {
        handedOver = true;
        message.once('close', () => {
          ended.removeEventListener('abort', onEnded);
          release();
        });
      });
      status = reply.status;
      if (status >= 200 && status < 300) {
        const body = (streaming ? reply.stream() : await reply.bytes()) as Body;
        return { answer: answerOf(status, reply, body) };
      }
      const text = await reply.text();
      const refusal = { status, ...options.errorOf(text, reply.headers()) };
      const serviceTime = Date.parse(reply.header('date') ?? '');
      return {
        failure: `HTTP ${status} ${refusal.type ?? 'with no error type'}${refusal.message ? `: ${refusal.message}` : ''}`,
        passing: (policy.retryable ?? passingRefusal)(refusal),
        refusal,
        ...(Number.isFinite(serviceTime) && { serviceTime }),
      };
    } catch (error) {
      dropIdleConnections(through);
      const reason = timedOut ? `no answer ${timedOutText()}` : `no answer (${describe(error)})`;
      return { failure: reason, passing: true, unanswered: true, cause: error };
    } finally {
      clearTimeout(timer);
      if (!handedOver) ended.removeEventListener('abort', onEnded);
      finished?.({ ...(status !== undefined && { status }), ...(unsent && { unsent }) });
    }
  }

  return {
    target: () => client().target,
    send: (request, policy, signal) => call<Uint8Array>(request, policy, signal, false),
    open: (request, policy, signal) => call<ReadableStream<Uint8Array> | null>(request, policy, signal, true),
  };
}

/** A 2xx answer; its headers made when first asked for. */
function answerOf<Body>(status: number, reply: Reply, body: Body): Answer<Body> {
  let headers: Headers | undefined;
  return {
    status,
    get headers() {
      headers ??= reply.headers();
      return headers;
    },
    body,
  };
}

function nodeReply(message: IncomingMessage, method: string, handOver: () => void): Reply {
  const status = message.statusCode ?? 0;
  return {
    status,
    header: (name) => {
      const value = message.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    headers: () => headersOf(message),
    text: async () => utf8.decode(await bytesOf(message)),
    bytes: () => bytesOf(message),
    stream: () => {
      if (method === 'HEAD' || NO_BODY.has(status)) {
        message.resume();
        return null;
      }
      handOver();
      return Readable.toWeb(message) as ReadableStream<Uint8Array>;
    },
  };
}

/**
 * The query of a URL as the signer wants it: each name with its value, or all its values where it repeats (SigV4
 * signs each). A `+` is refused: URLSearchParams would read it as a space and AWS may not, so the signature
 * could be for another query than the one sent.
 */
function queryOf(url: URL, label: string): Record<string, string | string[]> {
  const query = new Map<string, string | string[]>();
  for (const pair of url.search.slice(1).split('&')) {
    if (!pair) continue;
    const at = pair.includes('=') ? pair.indexOf('=') : pair.length;
    let name: string;
    let value: string;
    try {
      if (pair.includes('+')) throw new URIError('+');
      name = decodeURIComponent(pair.slice(0, at));
      value = decodeURIComponent(pair.slice(at + 1));
    } catch {
      throw new KfBridgeError(
        `${label}: the query parameter '${pair.slice(0, at)}' cannot be signed as sent`,
      );
    }
    const had = query.get(name);
    query.set(name, had === undefined ? value : [had, value].flat());
  }
  return Object.fromEntries(query);
}

/** A network failure in a few words: node:http says "socket hang up", its code says what. */
function describe(error: unknown): string {
  const { message, code } = error as { message?: string; code?: string };
  return code && !message?.includes(code) ? `${message}: ${code}` : String(message);
}
