import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AppConfig } from '../config/config';
import { dynamo } from '../dynamo';
import { BadRequestError, DependencyError } from '../errors';
import type { PlatformUpload } from '../platform/client';

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
/** WeCom's largest media is a 20 MB file. */
const MAX_BYTES = 20 * 1024 * 1024;
const tooLarge = () => new BadRequestError('media is over 20 MB');
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
) => Promise<string>;

/** Reading a file, its bytes included; the caller's signal (its invocation's deadline) may end it sooner. */
const FETCH_TIMEOUT_MS = 15_000;

const withinFetchTime = (signal?: AbortSignal) =>
  signal
    ? AbortSignal.any([signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)])
    : AbortSignal.timeout(FETCH_TIMEOUT_MS);

async function fetchUrl(url: string, signal?: AbortSignal): Promise<FetchedFile> {
  const host = new URL(url).host;
  const within = withinFetchTime(signal);
  try {
    const response = await fetch(url, { signal: within });
    if (!response.ok) throw new BadRequestError(`media URL answered HTTP ${response.status}`);
    if (Number(response.headers.get('content-length')) > MAX_BYTES) {
      await response.body?.cancel();
      throw tooLarge();
    }
    // A slow file is cut off while its bytes arrive, not only while waiting for the answer.
    const data = Buffer.from(await response.arrayBuffer());
    return {
      data,
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      name: new URL(url).pathname.split('/').pop() || 'media',
    };
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    throw new DependencyError(
      within.aborted ? `media from ${host} did not arrive in time` : `could not fetch media from ${host}`,
      { cause: error },
    );
  }
}

async function fetchS3(
  s3: S3Client,
  source: { bucket: string; key: string },
  signal?: AbortSignal,
): Promise<FetchedFile> {
  const within = withinFetchTime(signal);
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }), {
      abortSignal: within,
    });
    if ((object.ContentLength ?? 0) > MAX_BYTES) throw tooLarge();
    const data = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    return {
      data,
      contentType: object.ContentType ?? 'application/octet-stream',
      name: source.key.split('/').pop() || 'media',
    };
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    if ((error as Error).name === 'NoSuchKey' || (error as Error).name === 'NoSuchBucket')
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

/** The bytes of a file given by its https URL or S3 object. */
export function fetchFile(
  s3: S3Client,
  source: { url?: string; s3?: { bucket: string; key: string } },
  signal?: AbortSignal,
): Promise<FetchedFile> {
  if (source.url) return fetchUrl(source.url, signal);
  if (source.s3) return fetchS3(s3, source.s3, signal);
  throw new BadRequestError('the file has no url or s3 source');
}

/**
 * The media_id of a file: as given, or uploaded once from its https URL or S3 object and reused from the
 * state table while the platform keeps it (3 days), so a file sent to many customers is uploaded once.
 */
export function mediaResolver(deps: {
  db: DynamoDBDocumentClient;
  table: string;
  s3: S3Client;
  upload: PlatformUpload;
  now: () => number;
}): ResolveMedia {
  return async (app, platform, file, signal) => {
    if (file.mediaId) return file.mediaId;
    const source = file.url ? `url:${file.url}` : `s3:${file.s3?.bucket}/${file.s3?.key}`;
    const key = {
      pk: `MEDIA#${app.name}#${platform}`,
      sk: createHash('sha256').update(`${file.type}#${source}`).digest('hex'),
    };
    const { Item } = await dynamo('media cache read', () =>
      deps.db.send(new GetCommand({ TableName: deps.table, Key: key })),
    );
    // Earlier versions cached an MP thumbnail's missing id as the text 'undefined': never reuse such an entry.
    const cached =
      Item && typeof Item.mediaId === 'string' && Item.mediaId !== 'undefined' ? Item.mediaId : '';
    if (cached && Number(Item?.expiresAt) - deps.now() > REUSE_MARGIN_MS) return cached;
    const fetched = await fetchFile(deps.s3, file, signal);
    if (fetched.data.length > MAX_BYTES) throw tooLarge();
    const extension = EXTENSIONS[fetched.contentType.split(';')[0]?.trim() ?? ''];
    const filename = fetched.name.includes('.') || !extension ? fetched.name : `${fetched.name}.${extension}`;
    const uploaded = await deps.upload(app, platform, {
      type: file.type,
      file: { data: fetched.data, filename, contentType: fetched.contentType },
      ...(signal && { signal }),
    });
    const expiresAt = uploaded.createdAt + MEDIA_LIFETIME_MS;
    await dynamo('media cache write', () =>
      deps.db.send(
        new PutCommand({
          TableName: deps.table,
          Item: { ...key, mediaId: uploaded.mediaId, expiresAt, ttl: Math.floor(expiresAt / 1000) },
        }),
      ),
    );
    return uploaded.mediaId;
  };
}
