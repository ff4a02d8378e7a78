import * as v from 'valibot';
import { given, httpsUrl, mediaId, s3Object } from '../contracts/fields';
import { exactlyOneOf } from '../contracts/jsonSchema';
import { BadRequestError, CallerFileError, CallerFileUnavailableError } from '../errors';
import type { UploadFile } from '../platform/client';
import type { AdminContext } from './operation';

/** Avatars are small square images; 2 MB keeps a base64 body well inside Lambda's 6 MB request. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
export const ONE_IMAGE_SOURCE = 'exactly one of mediaId, url, s3 or data';
export const ONE_IMAGE_SOURCE_BUT_MEDIA_ID = 'exactly one of url, s3 or data';

const base64 = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
  v.maxLength(Math.ceil(MAX_IMAGE_BYTES / 3) * 4, 'at most 2 MB'),
);
const sources = {
  url: v.optional(v.pipe(httpsUrl, v.description('an https URL kf-bridge downloads'))),
  s3: v.optional(v.pipe(s3Object, v.description('an S3 object kf-bridge reads'))),
  data: v.optional(v.pipe(base64, v.description('the JPG or PNG image itself, base64'))),
};

/** A JPG or PNG image: an uploaded media_id, an https URL, an S3 object, or the bytes (base64). */
export const imageWithMediaId = v.pipe(
  v.strictObject({
    mediaId: v.optional(v.pipe(mediaId, v.description('a media_id already uploaded (image)'))),
    ...sources,
  }),
  v.check((f) => given(f.mediaId, f.url, f.s3, f.data) === 1, ONE_IMAGE_SOURCE),
);

/** A JPG image the platform takes as bytes (MP's uploadheadimg): no media_id. */
export const imageBytesOnly = v.pipe(
  v.strictObject({
    ...sources,
    data: v.optional(v.pipe(base64, v.description('the JPG image itself, base64'))),
  }),
  v.check((f) => given(f.url, f.s3, f.data) === 1, ONE_IMAGE_SOURCE_BUT_MEDIA_ID),
);

export const IMAGE_RULES = {
  [ONE_IMAGE_SOURCE]: exactlyOneOf(['mediaId', 'url', 's3', 'data']),
  [ONE_IMAGE_SOURCE_BUT_MEDIA_ID]: exactlyOneOf(['url', 's3', 'data']),
};

const isJpg = (bytes: Buffer) => bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]));
const isPng = (bytes: Buffer) => bytes.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
/** WeCom's image media are JPG or PNG: anything else is said here rather than relayed as its 40005. */
export const isJpgOrPng = (bytes: Buffer) => isJpg(bytes) || isPng(bytes);

type Image = v.InferOutput<typeof imageBytesOnly> & { mediaId?: string };

function inlineImage(data: string, field: string): UploadFile {
  const bytes = Buffer.from(data, 'base64');
  if (isPng(bytes)) return { data: bytes, filename: 'avatar.png', contentType: 'image/png' };
  if (isJpg(bytes)) return { data: bytes, filename: 'avatar.jpg', contentType: 'image/jpeg' };
  throw new BadRequestError(`${field}.data is not a JPG or PNG image`);
}

/** A file that could not be fetched, named by the caller's field: `avatar https://… could not be fetched: …`. */
async function named<T>(field: string, fetching: Promise<T>): Promise<T> {
  try {
    return await fetching;
  } catch (error) {
    if (error instanceof CallerFileError)
      throw new BadRequestError(`${field} ${error.message}`, { cause: error });
    if (error instanceof CallerFileUnavailableError)
      throw new CallerFileUnavailableError(`${field} ${error.message}`, { cause: error });
    throw error;
  }
}

/** The media_id of an image, uploaded with `media/upload` unless it is one already. */
export async function imageMediaId(context: AdminContext, image: Image, field: string): Promise<string> {
  const { app, signal } = context;
  if (image.mediaId) return image.mediaId;
  if (image.data) {
    const file = inlineImage(image.data, field);
    return (await context.upload(app, 'wecom', { type: 'image', file, ...(signal && { signal }) })).mediaId;
  }
  return named(field, context.resolveMedia(app, 'wecom', { type: 'image', ...image }, signal));
}

/**
 * The bytes of a JPG image, fetched when given by URL or S3 object: the Official Account takes JPG avatars only
 * (40005 otherwise), and knows the format by the file's name.
 */
export async function jpgBytes(context: AdminContext, image: Image, field: string): Promise<UploadFile> {
  const tooLarge = `${field} is over 2 MB`;
  const data = image.data
    ? Buffer.from(image.data, 'base64')
    : (await named(field, context.fetchFile(image, { maxBytes: MAX_IMAGE_BYTES, tooLarge }, context.signal)))
        .data;
  if (data.length > MAX_IMAGE_BYTES) throw new BadRequestError(tooLarge);
  if (!isJpg(data))
    throw new BadRequestError(`${field} is not a JPG image (the Official Account takes JPG avatars only)`);
  return { data, filename: `${field}.jpg`, contentType: 'image/jpeg' };
}
