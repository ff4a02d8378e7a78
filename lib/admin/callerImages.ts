import { BadRequestError, CallerFileError, DependencyError } from '../errors';
import type { FetchFile } from '../outbound/mediaUpload';
import { isJpgOrPng } from './imageInput';

const NETWORK_FAILURES: Readonly<Record<string, string>> = {
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'its host name did not resolve',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
};

function cause(error: unknown): string {
  if (!(error instanceof DependencyError)) return (error as Error).message;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return error.message;
  return NETWORK_FAILURES[code] ?? `${error.message} (${code})`;
}

/**
 * The files an admin command is given are images (avatars) and the caller's input, and the caller is waiting:
 * one that cannot be read (missing, an unknown or refusing host, an internal address, no answer in time) or is
 * no JPG or PNG is theirs to fix, said with its cause, not "temporarily unavailable" as for the sender, whose
 * retries may outlast a host's hiccup. An S3 failure other than a missing object stays a dependency failure:
 * the bucket is the deployment's own.
 */
export function callerImageFetcher(fetchFile: FetchFile): FetchFile {
  return async (source, limit, signal) => {
    const where = source.url ?? `s3://${source.s3?.bucket}/${source.s3?.key}`;
    let fetched: Awaited<ReturnType<FetchFile>>;
    try {
      fetched = await fetchFile(source, limit, signal);
    } catch (error) {
      // The size refusal is already said in the caller's words.
      if (error instanceof BadRequestError && error.message === limit.tooLarge) throw error;
      if (source.s3 && !(error instanceof BadRequestError)) throw error;
      throw new CallerFileError(`${where} could not be fetched: ${cause(error)}`, { cause: error });
    }
    if (!isJpgOrPng(fetched.data)) throw new CallerFileError(`${where} is not a JPG or PNG image`);
    return fetched;
  };
}
