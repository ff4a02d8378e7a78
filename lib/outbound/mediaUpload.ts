import { createHash } from 'node:crypto';
import type { S3Objects } from '../aws/s3';
import { AwsRequestError } from '../aws/signedRequest';
import type { AppConfig } from '../config/config';
import { dynamo } from '../dynamo';
import { BadRequestError, DependencyError } from '../errors';
import type { SafeFetch, SizeLimit } from '../http/safeFetch';
import type { ItemStore } from '../items/itemStore';
import type { Log } from '../logger';
import type { PlatformUpload } from '../platform/client';
import { MEDIA_MAX_BYTES, sizeText } from '../platform/mediaLimits';
import type { Platform } from '../tokens/platformToken';

/** A file to send, by one of its three sources, and the media type it is uploaded as. */
export interface MediaFile {
  readonly type: string;
  readonly mediaId?: string;
  readonly url?: string;
  readonly s3?: { readonly bucket: string; readonly key: string };
}

/** Both platforms keep uploaded media 3 days; stop reusing a media_id an hour before that. */
const MEDIA_LIFETIME_MS = 3 * 24 * 3600_000;
const REUSE_MARGIN_MS = 3600_000;
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'audio/amr': 'amr',
  'audio/mpeg': 'mp3',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
};

export type ResolveMedia = (
  app: AppConfig,
  platform: Platform,
  file: MediaFile,
  signal?: AbortSignal,
  /** The caller's log, for the upload's lines. */
  log?: Log,
) => Promise<string>;

/** Reading an S3 object, its bytes included; the caller's signal (its invocation's deadline) may end it sooner. */
const S3_READ_TIMEOUT_MS = 15_000;

/** What S3 says of an object that is not there: the caller named it wrong. */
const NOT_THERE = new Set(['NoSuchKey', 'NoSuchBucket']);

async function fetchS3(
  s3: S3Objects,
  source: { bucket: string; key: string },
  limit: SizeLimit,
  signal?: AbortSignal,
): Promise<FetchedFile> {
  const within = signal
    ? AbortSignal.any([signal, AbortSignal.timeout(S3_READ_TIMEOUT_MS)])
    : AbortSignal.timeout(S3_READ_TIMEOUT_MS);
  try {
    // A larger object is refused by the size S3 states, before its bytes are read, or as they arrive past the limit.
    const object = await s3.getObject(source.bucket, source.key, {
      maxBytes: limit.maxBytes,
      signal: within,
    });
    if ('tooLarge' in object) throw new BadRequestError(limit.tooLarge);
    return {
      data: object.data,
      contentType: object.contentType ?? 'application/octet-stream',
      name: source.key.split('/').pop() || 'media',
    };
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    if (error instanceof AwsRequestError && NOT_THERE.has(error.errorType ?? ''))
      throw new BadRequestError(`no S3 object ${source.bucket}/${source.key}`);
    throw new DependencyError(
      within.aborted ? 'media from S3 did not arrive in time' : 'could not read media from S3',
      { cause: error },
    );
  }
}

export interface FetchedFile {
  readonly data: Buffer;
  readonly contentType: string;
  readonly name: string;
}

/** The bytes of a file given by its https URL or S3 object, refused past the limit. */
export type FetchFile = (
  source: { url?: string; s3?: { bucket: string; key: string } },
  limit: SizeLimit,
  signal?: AbortSignal,
) => Promise<FetchedFile>;

export function fileFetcher(deps: { s3: S3Objects; safeFetch: SafeFetch }): FetchFile {
  return async (source, limit, signal) => {
    if (source.url) {
      const fetched = await deps.safeFetch(source.url, limit, signal);
      return { ...fetched, name: new URL(source.url).pathname.split('/').pop() || 'media' };
    }
    if (source.s3) return fetchS3(deps.s3, source.s3, limit, signal);
    throw new BadRequestError('the file has no url or s3 source');
  };
}

/** What the platform takes of a media type, and what a caller is told of a larger file. */
function mediaLimit(platform: Platform, type: string): SizeLimit {
  const maxBytes = MEDIA_MAX_BYTES[platform][type];
  const name = platform === 'wecom' ? 'WeCom' : 'the Official Account';
  if (maxBytes === undefined) throw new BadRequestError(`${name} takes no ${type} media`);
  return { maxBytes, tooLarge: `${type} media is over ${sizeText(maxBytes)}, ${name}'s limit` };
}

/**
 * The media_id of a file: as given, or uploaded once from its https URL or S3 object and reused from the
 * state table while the platform keeps it (3 days), so a file sent to many customers is uploaded once.
 */
export function mediaResolver(deps: {
  items: ItemStore;
  table: string;
  fetchFile: FetchFile;
  upload: PlatformUpload;
  now: () => number;
}): ResolveMedia {
  return async (app, platform, file, signal, log) => {
    if (file.mediaId) return file.mediaId;
    const source = file.url ? `url:${file.url}` : `s3:${file.s3?.bucket}/${file.s3?.key}`;
    const key = {
      pk: `MEDIA#${app.name}#${platform}`,
      sk: createHash('sha256').update(`${file.type}#${source}`).digest('hex'),
    };
    const { Item } = await dynamo('media cache read', () =>
      deps.items.get({ TableName: deps.table, Key: key }),
    );
    // Earlier versions cached an MP thumbnail's missing id as the text 'undefined': never reuse such an entry.
    const cached =
      Item && typeof Item.mediaId === 'string' && Item.mediaId !== 'undefined' ? Item.mediaId : '';
    if (cached && Number(Item?.expiresAt) - deps.now() > REUSE_MARGIN_MS) return cached;
    const fetched = await deps.fetchFile(file, mediaLimit(platform, file.type), signal);
    const extension = EXTENSIONS[fetched.contentType.split(';')[0]?.trim() ?? ''];
    const filename = fetched.name.includes('.') || !extension ? fetched.name : `${fetched.name}.${extension}`;
    const uploaded = await deps.upload(app, platform, {
      type: file.type,
      file: { data: fetched.data, filename, contentType: fetched.contentType },
      ...(signal && { signal }),
      ...(log && { log }),
    });
    const expiresAt = uploaded.createdAt + MEDIA_LIFETIME_MS;
    await dynamo('media cache write', () =>
      deps.items.put({
        TableName: deps.table,
        Item: { ...key, mediaId: uploaded.mediaId, expiresAt, ttl: Math.floor(expiresAt / 1000) },
      }),
    );
    return uploaded.mediaId;
  };
}
