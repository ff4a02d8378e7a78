import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DependencyError } from './errors';

/** Writes one object; a failure is a passing fault that names what was being written, never its content. */
export async function putObject(
  s3: S3Client,
  object: { bucket: string; key: string; body: string | Buffer; contentType: string; what: string },
  signal?: AbortSignal,
): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType,
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    throw new DependencyError(`${object.what} failed`, { cause: error });
  }
}
