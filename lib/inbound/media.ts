import type { S3Objects } from '../aws/s3';
import type { Config } from '../config/config';
import type { InboundMessage } from '../contracts/inbound';
import { PlatformError } from '../errors';
import type { Log } from '../logger';
import type { PlatformDownload } from '../platform/client';
import { MEDIA_MAX_BYTES } from '../platform/mediaLimits';
import { putObject } from '../s3';

/** The time a pull can give one file, and whether it may leave the file to a later pull with more. */
export interface ArchiveTime {
  /** What the pull can spend on this file. */
  readonly timeLeftMs: number;
  /** False when nothing of the pull is published yet: deferring would not move the account forward. */
  readonly mayDefer: boolean;
}

/**
 * The message with its file copied (`media`) or the reason it is not (`mediaNotArchived`); undefined when the
 * file is left to a later pull that has more time for it.
 */
export type ArchiveMedia = (
  message: InboundMessage,
  time: ArchiveTime,
  signal?: AbortSignal,
  /** The caller's log, for the file's lines. */
  log?: Log,
) => Promise<InboundMessage | undefined>;

/** A download gets at most this long (20 MB at 2 MB/s); one that needs longer is not archived. */
export const MEDIA_DOWNLOAD_TIMEOUT_MS = 10_000;
/** Less time than this, and a download is not started: most files take a second, a pull's next run has more. */
export const MEDIA_DOWNLOAD_MIN_MS = 3_000;
// WeCom keeps media 3 days; leave an hour's margin rather than ask for what is about to vanish.
const MEDIA_LIFETIME_MS = 3 * 24 * 3600_000 - 3600_000;
const INVALID_MEDIA_ID = 40007;

type NotArchived = NonNullable<InboundMessage['mediaNotArchived']>['reason'];

/**
 * Copies the file of an image, voice, video or file message from `media/get` into the media bucket, and adds
 * where it went to the message. A file that cannot be copied (past WeCom's 3 days, gone, over its type's size,
 * or slower than a download may take) never holds the account up: the message goes on with the reason
 * instead, and the log says so. A download cut short by the pull's own time is left to the next pull.
 */
export function mediaArchiver(deps: {
  config: Config;
  bucket: string;
  download: PlatformDownload;
  s3: S3Objects;
  now: () => number;
  log: Log;
}): ArchiveMedia {
  const without = (message: InboundMessage, reason: NotArchived, log: Log): InboundMessage => {
    log.warn('media not archived; published without it', {
      app: message.app,
      msgid: message.id,
      reason,
    });
    return { ...message, mediaNotArchived: { reason } };
  };
  return async (message, time, signal, log = deps.log) => {
    const body = message.message;
    // A customer's file over WeCom's limit for its type reaches sync_msg as a text hint, not as media.
    const maxBytes = MEDIA_MAX_BYTES.wecom[body.type];
    if (maxBytes === undefined || !('mediaId' in body) || !body.mediaId) return message;
    const app = deps.config.apps.get(message.app);
    if (!app) return message;
    if (deps.now() - message.sentAt * 1000 > MEDIA_LIFETIME_MS) return without(message, 'expired', log);
    if (time.timeLeftMs < MEDIA_DOWNLOAD_MIN_MS) return undefined;

    const timeoutMs = Math.min(MEDIA_DOWNLOAD_TIMEOUT_MS, time.timeLeftMs);
    const timeout = AbortSignal.timeout(timeoutMs);
    let file: Awaited<ReturnType<PlatformDownload>>;
    try {
      file = await deps.download(app, 'wecom', {
        path: '/cgi-bin/media/get',
        query: { media_id: body.mediaId },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        log,
      });
    } catch (error) {
      if (timeout.aborted && !signal?.aborted) {
        // Cut short by the pull's time rather than the download's own allowance: a later pull tries again.
        if (timeoutMs < MEDIA_DOWNLOAD_TIMEOUT_MS && time.mayDefer) return undefined;
        return without(message, 'timeout', log);
      }
      if (error instanceof PlatformError && error.errcode === INVALID_MEDIA_ID)
        return without(message, 'unavailable', log);
      throw error;
    }
    if (file.data.length > maxBytes) return without(message, 'too_large', log);
    const name = (file.filename ?? body.mediaId).replace(/[^\w.-]/g, '_');
    const key = `media/${message.app}/${message.account}/${message.id}/${name}`;
    await putObject(
      deps.s3,
      {
        bucket: deps.bucket,
        key,
        body: file.data,
        contentType: file.contentType,
        what: `archiving media to ${deps.bucket}`,
      },
      signal,
    );
    return {
      ...message,
      media: { bucket: deps.bucket, key, contentType: file.contentType, bytes: file.data.length },
    };
  };
}
