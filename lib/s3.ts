import type { S3Objects } from './aws/s3';
import { DependencyError } from './errors';

/** Writes one object; a failure is a passing fault that names what was being written, never its content. */
export async function putObject(
  s3: S3Objects,
  object: { bucket: string; key: string; body: string | Buffer; contentType: string; what: string },
  signal?: AbortSignal,
): Promise<void> {
  try {
    await s3.putObject(object.bucket, object.key, object.body, object.contentType, signal);
  } catch (error) {
    throw new DependencyError(`${object.what} failed`, { cause: error });
  }
}
