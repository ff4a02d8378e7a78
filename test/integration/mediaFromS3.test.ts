import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { s3Objects } from '../../lib/aws/s3';
import { BadRequestError, DependencyError } from '../../lib/errors';
import { safeFetcher } from '../../lib/http/safeFetch';
import { fileFetcher } from '../../lib/outbound/mediaUpload';
import { freePort } from '../../local/stack';
import { localS3Objects, s3Client } from '../support/aws';

const limit = { maxBytes: 64, tooLarge: "image media is over 64 B, WeCom's limit" };
const fetchFile = fileFetcher({ s3: localS3Objects(), safeFetch: safeFetcher() });

it('reads a file given as an S3 object: its bytes, its type, its name', async () => {
  const key = `from-s3-${Date.now()}/相册/photo 1.png`;
  const body = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
  await s3Client().send(
    new PutObjectCommand({ Bucket: 'mediabucket', Key: key, Body: body, ContentType: 'image/png' }),
  );

  const fetched = await fetchFile({ s3: { bucket: 'mediabucket', key } }, limit);

  expect(fetched).toEqual({ data: body, contentType: 'image/png', name: 'photo 1.png' });
});

it("refuses an S3 object past the limit, or one that is not there, as the caller's mistake", async () => {
  const key = `from-s3-${Date.now()}/poster.png`;
  await s3Client().send(new PutObjectCommand({ Bucket: 'mediabucket', Key: key, Body: Buffer.alloc(65) }));

  await expect(fetchFile({ s3: { bucket: 'mediabucket', key } }, limit)).rejects.toThrow(
    new BadRequestError(limit.tooLarge),
  );
  await expect(fetchFile({ s3: { bucket: 'mediabucket', key: `${key}.gone` } }, limit)).rejects.toThrow(
    new BadRequestError(`no S3 object mediabucket/${key}.gone`),
  );
});

it('says S3 could not be read when it does not answer: a passing fault', async () => {
  const nowhere = new URL(`http://127.0.0.1:${await freePort()}`);
  const unreachable = fileFetcher({
    s3: s3Objects(
      () => ({
        endpoint: nowhere,
        region: 'ap-southeast-1',
        credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }),
        local: true,
      }),
      { policy: { baseDelayMs: 1 } },
    ),
    safeFetch: safeFetcher(),
  });
  const error = await unreachable({ s3: { bucket: 'mediabucket', key: 'k.png' } }, limit).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DependencyError);
  expect((error as Error).message).toBe('could not read media from S3');
});
