import { FetchError, ofetch } from 'ofetch';
import type { AppConfig } from '../config/config';
import { DependencyError, NotFoundError, PlatformError, UncertainOutcomeError } from '../errors';
import type { Log } from '../logger';
import { errcodeRange, type Meter } from '../metrics';
import type { Platform } from '../tokens/platformToken';
import type { TokenProvider } from '../tokens/provider';
import { TOKEN_REJECTED, TRANSIENT } from './errcodes';
import { describeRefusal } from './refusals';

export interface PlatformRequest {
  readonly path: string;
  readonly method?: 'GET' | 'POST';
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /**
   * The call delivers a message to a customer (a send): only an errcode says whether it was carried out, so any
   * HTTP error status and any answer without an errcode leave its fate unknown.
   */
  readonly delivers?: boolean;
  /**
   * Where the call's lines go (its refusal, a token fetched for it): the caller's log, keyed by the record it
   * works on. The client's own log otherwise.
   */
  readonly log?: Log;
}

export interface PlatformAnswer {
  readonly errcode?: number;
  readonly errmsg?: string;
  readonly [field: string]: unknown;
}

export interface Download {
  readonly data: Buffer;
  readonly contentType: string;
  readonly filename?: string;
}

export type PlatformCall = (
  app: AppConfig,
  platform: Platform,
  request: PlatformRequest,
) => Promise<PlatformAnswer>;
export interface UploadFile {
  readonly data: Buffer;
  readonly filename: string;
  readonly contentType: string;
}
export type PlatformUpload = (
  app: AppConfig,
  platform: Platform,
  request: { type: string; file: UploadFile; signal?: AbortSignal; log?: Log },
) => Promise<{ mediaId: string; createdAt: number }>;
export type PlatformMultipart = (
  app: AppConfig,
  platform: Platform,
  request: {
    path: string;
    query?: Record<string, string>;
    file: UploadFile;
    signal?: AbortSignal;
    log?: Log;
  },
) => Promise<PlatformAnswer>;
export type PlatformDownload = (
  app: AppConfig,
  platform: Platform,
  request: PlatformRequest,
) => Promise<Download>;

function apiBase(app: AppConfig, platform: Platform): string {
  const base = platform === 'wecom' ? app.wecom?.apiBase : app.mp?.apiBase;
  if (!base)
    throw new NotFoundError(
      `app '${app.name}' has no ${platform === 'wecom' ? 'WeCom' : 'Official Account'} settings`,
    );
  return base;
}

/** Tokens for the calls, and the log and metrics where each refusal is recorded. */
export interface PlatformClientDeps {
  readonly tokens: TokenProvider;
  readonly log: Log;
  readonly meter: Meter;
}

type Attempt<T> = { ok: T } | { errcode: number };

/** A platform call's own time limit; a caller's signal (its invocation's deadline) may end it sooner. */
export const CALL_TIMEOUT_MS = 10_000;
/** An upload carries a file of up to 20 MB. */
export const UPLOAD_TIMEOUT_MS = 30_000;

/** The call's own limit and the caller's signal, whichever ends first: ofetch drops `timeout` once given a signal. */
const within = (ms: number, signal?: AbortSignal) =>
  signal ? AbortSignal.any([signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms);

/** The call was cut off, by its own limit or the caller's deadline, before an answer came. */
function cutOff(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause.name === 'TimeoutError' || cause.name === 'AbortError') return true;
  }
  return false;
}

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH']);

/** The connection was never made, so the request cannot have arrived. */
function neverSent(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (NOT_CONNECTED.has((cause as { code?: string }).code ?? '')) return true;
  }
  return false;
}

/** An answer with no errcode to read: whatever sent it, the platform's own answer is unknown. */
class UnreadableAnswer extends Error {}

/**
 * Runs one platform request with the app's access token. Both platforms answer HTTP 200 with an errcode: a
 * non-zero one becomes a PlatformError (retryable for -1, 45009, 45033); a rejected token is invalidated,
 * fetched once and the request retried once. Only an errcode, a 4xx or a connection never made say the call
 * was not carried out; a 5xx, no answer or an unreadable one leave its fate unknown (UncertainOutcomeError,
 * which reads retry and a send must not).
 */
async function withToken<T>(
  { tokens, meter, ...deps }: PlatformClientDeps,
  app: AppConfig,
  platform: Platform,
  request: PlatformRequest,
  send: (url: string, query: Record<string, string>) => Promise<Attempt<T>>,
): Promise<T> {
  const url = `${apiBase(app, platform)}${request.path}`;
  const log = request.log ?? deps.log;
  for (let attempt = 0; ; attempt++) {
    const token = await tokens.getToken(app, platform, { signal: request.signal, log });
    // A deadline that passed before the request left says nothing was sent: never an unknown outcome.
    if (request.signal?.aborted)
      throw new DependencyError(`${request.path} not sent for app '${app.name}': no time left`);
    let result: Attempt<T>;
    try {
      result = await send(url, { ...request.query, access_token: token });
    } catch (error) {
      // The failed URL carries the access token: report the path and status only.
      const status = error instanceof FetchError ? error.statusCode : undefined;
      const why = status
        ? ` with HTTP ${status}`
        : error instanceof UnreadableAnswer
          ? ' with no errcode'
          : cutOff(error)
            ? ' with no answer in time'
            : '';
      const message = `${request.path} failed${why} for app '${app.name}'`;
      // A 4xx is most likely a gateway refusing a call the platform never saw, but nothing publishes that: a
      // read may be retried on it, a delivery may not. A 5xx may come after the platform acted.
      const refusedBefore = (status !== undefined && status < 500 && !request.delivers) || neverSent(error);
      throw refusedBefore ? new DependencyError(message) : new UncertainOutcomeError(message);
    }
    if ('ok' in result) return result.ok;
    if (TOKEN_REJECTED.has(result.errcode) && attempt === 0) {
      await tokens.invalidate(app, platform, token, log);
      continue;
    }
    const refusal = describeRefusal(platform, result.errcode);
    log.warn('platform refused', { app: app.name, platform, path: request.path, errcode: result.errcode });
    meter.record('PlatformRefusals', 1, {
      errcodeRange: errcodeRange(result.errcode),
      platform,
      operation: request.path,
      errcode: String(result.errcode),
    });
    throw new PlatformError(
      `${request.path} refused for app '${app.name}': ${refusal.sentence} (errcode ${result.errcode})`,
      result.errcode,
      TRANSIENT.has(result.errcode),
      refusal.status,
    );
  }
}

const fetchOptions = (request: PlatformRequest, query: Record<string, string>) => ({
  method: request.method ?? (request.body === undefined ? 'GET' : 'POST'),
  query,
  ...(request.body !== undefined && { body: request.body as Record<string, unknown> }),
  retry: 0 as const,
  signal: within(CALL_TIMEOUT_MS, request.signal),
});

/**
 * A JSON object, whatever content type it came with (WeChat answers some JSON as text/plain). An answer without
 * an errcode is a success where the platform omits it (MP's reads and uploads), and unreadable for a delivery.
 */
function readAnswer(raw: unknown, errcodeRequired = false): Attempt<PlatformAnswer> {
  let answer = raw;
  if (typeof raw === 'string') {
    try {
      answer = JSON.parse(raw);
    } catch {
      throw new UnreadableAnswer();
    }
  }
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) throw new UnreadableAnswer();
  const errcode = (answer as PlatformAnswer).errcode ?? (errcodeRequired ? undefined : 0);
  if (errcode === undefined || !Number.isInteger(errcode)) throw new UnreadableAnswer();
  return errcode === 0 ? { ok: answer as PlatformAnswer } : { errcode };
}

export function createPlatformClient(deps: PlatformClientDeps): PlatformCall {
  return (app, platform, request) =>
    withToken<PlatformAnswer>(deps, app, platform, request, async (url, query) =>
      readAnswer(await ofetch<unknown>(url, fetchOptions(request, query)), request.delivers),
    );
}

/** Binary downloads (media/get): the file, or the errcode of the JSON answer WeCom sends instead. */
export function createPlatformDownload(deps: PlatformClientDeps): PlatformDownload {
  return (app, platform, request) =>
    withToken<Download>(deps, app, platform, request, async (url, query) => {
      const response = await ofetch.raw<ArrayBuffer, 'arrayBuffer'>(url, {
        ...fetchOptions(request, query),
        responseType: 'arrayBuffer',
      });
      const contentType = response.headers.get('content-type') ?? 'application/octet-stream';
      const data = Buffer.from(response._data ?? new ArrayBuffer(0));
      if (contentType.startsWith('application/json') || contentType.startsWith('text/plain')) {
        const answer = JSON.parse(data.toString('utf8')) as PlatformAnswer;
        return { errcode: answer.errcode ?? -1 };
      }
      const filename = /filename="?([^";]+)"?/i.exec(response.headers.get('content-disposition') ?? '')?.[1];
      return { ok: { data, contentType, ...(filename && { filename }) } };
    });
}

/** A multipart POST with the file in field `media`, as `media/upload` and MP's `uploadheadimg` take it. */
export function createPlatformMultipart(deps: PlatformClientDeps): PlatformMultipart {
  return (app, platform, { path, query, file, signal, log }) =>
    withToken<PlatformAnswer>(deps, app, platform, { path, signal, log }, async (url, auth) => {
      const form = new FormData();
      form.append('media', new Blob([new Uint8Array(file.data)], { type: file.contentType }), file.filename);
      return readAnswer(
        await ofetch<unknown>(url, {
          method: 'POST',
          query: { ...query, ...auth },
          body: form,
          retry: 0,
          signal: within(UPLOAD_TIMEOUT_MS, signal),
        }),
      );
    });
}

/**
 * `media/upload`. WeCom answers created_at as a string, MP as a number; MP names a thumb's id `thumb_media_id`
 * and gives it no `media_id`. An answer without the id is an error: a bad id must never be sent or cached.
 */
export function createPlatformUpload(deps: PlatformClientDeps): PlatformUpload {
  const multipart = createPlatformMultipart(deps);
  return async (app, platform, { type, file, signal, log }) => {
    const path = '/cgi-bin/media/upload';
    const answer = await multipart(app, platform, { path, query: { type }, file, signal, log });
    const idField = platform === 'mp' && type === 'thumb' ? 'thumb_media_id' : 'media_id';
    const mediaId = answer[idField];
    const createdAt = Number(answer.created_at);
    const without = (field: string) =>
      new DependencyError(`${path} answered without ${field} for app '${app.name}'`);
    if (typeof mediaId !== 'string' || mediaId === '') throw without(idField);
    if (!(createdAt > 0)) throw without('created_at');
    return { mediaId, createdAt: createdAt * 1000 };
  };
}
