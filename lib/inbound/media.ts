import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/config';
import type { InboundMessage } from '../contracts/inbound';
import { DependencyError, PlatformError } from '../errors';
import type { Log } from '../logger';
import type { PlatformDownload } from '../platform/client';

export type ArchiveMedia = (message: InboundMessage, signal?: AbortSignal) => Promise<InboundMessage>;

const MEDIA_TYPES = new Set(['image', 'voice', 'video', 'file']);
// WeCom keeps media 3 days; leave an hour's margin rather than ask for what is about to vanish.
const MEDIA_LIFETIME_MS = 3 * 24 * 3600_000 - 3600_000;
const INVALID_MEDIA_ID = 40007;

/**
 * Copies the file of an image, voice, video or file message from `media/get` into the media bucket, and
 * adds where it went to the message. Media past WeCom's 3 days is not there to fetch: the message goes on
 * without it, and the log says so.
 */
export function mediaArchiver(deps: {
  config: Config;
  bucket: string;
  download: PlatformDownload;
  s3: S3Client;
  now: () => number;
  log: Log;
}): ArchiveMedia {
  return async (message, signal) => {
    const body = message.message;
    if (!MEDIA_TYPES.has(body.type) || !('mediaId' in body) || !body.mediaId) return message;
    const app = deps.config.apps.get(message.app);
    if (!app) return message;
    if (deps.now() - message.sentAt * 1000 > MEDIA_LIFETIME_MS) {
      deps.log.warn('media too old to fetch; published without it', { app: message.app, msgid: message.id });
      return message;
    }
    let file: Awaited<ReturnType<PlatformDownload>>;
    try {
      file = await deps.download(app, 'wecom', {
        path: '/cgi-bin/media/get',
        query: { media_id: body.mediaId },
        ...(signal && { signal }),
      });
    } catch (error) {
      if (error instanceof PlatformError && error.errcode === INVALID_MEDIA_ID) {
        deps.log.warn('media no longer available; published without it', {
          app: message.app,
          msgid: message.id,
        });
        return message;
      }
      throw error;
    }
    const name = (file.filename ?? body.mediaId).replace(/[^\w.-]/g, '_');
    const key = `media/${message.app}/${message.account}/${message.id}/${name}`;
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.bucket,
          Key: key,
          Body: file.data,
          ContentType: file.contentType,
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw new DependencyError(`could not archive media to ${deps.bucket}`, { cause: error });
    }
    return {
      ...message,
      media: { bucket: deps.bucket, key, contentType: file.contentType, bytes: file.data.length },
    };
  };
}
