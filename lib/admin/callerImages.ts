import { BadRequestError, CallerFileError, CallerFileUnavailableError, DependencyError } from '../errors';
import type { FetchFile } from '../outbound/mediaUpload';
import { isJpgOrPng } from './imageInput';

/** Network failures that say the URL is wrong: the caller's to fix. */
const CALLERS_FAILURES: Readonly<Record<string, string>> = {
  ENOTFOUND: 'no such host',
  ECONNREFUSED: 'the connection was refused',
};

/** Network failures on kf-bridge's side or on the way, which pass: the caller may simply try again. */
const PASSING_FAILURES: Readonly<Record<string, string>> = {
  EAI_AGAIN: 'its host name did not resolve',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
};

/** A host whose certificate is expired, self-signed or for another name: its owner's to fix, not a hiccup. */
const isCertificateFailure = (code: string) => code.includes('CERT');

/** Why a fetch failed, in words, and whether trying again may help. */
function failure(error: unknown): { cause: string; passes: boolean } {
  if (!(error instanceof DependencyError)) return { cause: (error as Error).message, passes: false };
  const { name, code } = (error.cause ?? {}) as { name?: unknown; code?: unknown };
  // kf-bridge's own deadline (the fetch's limit or the invocation's) ran out first.
  if (name === 'TimeoutError' || name === 'AbortError')
    return { cause: 'it did not arrive in time', passes: true };
  // The file's own server failed (HTTP 5xx): not an outage of kf-bridge, but one that passes like one, so the
  // caller is told to try again rather than to fix the URL.
  if (typeof code !== 'string') return { cause: error.message, passes: true };
  const callers = CALLERS_FAILURES[code];
  if (callers) return { cause: callers, passes: false };
  if (isCertificateFailure(code)) return { cause: `its certificate is not valid (${code})`, passes: false };
  return { cause: PASSING_FAILURES[code] ?? `${error.message} (${code})`, passes: true };
}

/**
 * A URL as the caller may be shown it and the logs may keep it: its origin and path. The user:password in it and
 * its query (a presigned URL's token and signature) are credentials.
 */
function urlShown(url: string): string {
  try {
    const { origin, pathname } = new URL(url);
    return `${origin}${pathname}`;
  } catch {
    return 'the URL';
  }
}

/**
 * The files an admin command is given are images (avatars) and the caller's input, and the caller is waiting:
 * one that cannot be read (missing, an unknown or refusing host, an internal address) or is no JPG or PNG is
 * theirs to fix, said with its cause. One that failed in a way that passes (a resolver or network hiccup, the
 * file's server failing, no answer before kf-bridge's deadline) is said with its cause as temporarily
 * unavailable. An S3 failure other than a missing object stays a dependency failure: the bucket is the
 * deployment's own.
 */
export function callerImageFetcher(fetchFile: FetchFile): FetchFile {
  return async (source, limit, signal) => {
    const where = source.url ? urlShown(source.url) : `s3://${source.s3?.bucket}/${source.s3?.key}`;
    let fetched: Awaited<ReturnType<FetchFile>>;
    try {
      fetched = await fetchFile(source, limit, signal);
    } catch (error) {
      // The size refusal is already said in the caller's words.
      if (error instanceof BadRequestError && error.message === limit.tooLarge) throw error;
      if (source.s3 && !(error instanceof BadRequestError)) throw error;
      const { cause, passes } = failure(error);
      if (passes)
        throw new CallerFileUnavailableError(`${where} is temporarily unavailable: ${cause}`, {
          cause: error,
        });
      throw new CallerFileError(`${where} could not be fetched: ${cause}`, { cause: error });
    }
    if (!isJpgOrPng(fetched.data)) throw new CallerFileError(`${where} is not a JPG or PNG image`);
    return fetched;
  };
}
