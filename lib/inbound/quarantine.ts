import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type InboundMessage, parseInboundMessage } from '../contracts/inbound';
import { DependencyError } from '../errors';
import type { Quarantine } from '../queue/publisher';

/**
 * inbound.fifo's quarantine: the inbound message SQS will not take is kept whole in the media bucket under
 * `quarantine/`, and a `quarantined` message naming it is published in its place, with the original's other
 * fields (its file's copy included), group and deduplication id.
 */
export function inboundQuarantine(deps: { s3: S3Client; bucket: string }): Quarantine {
  return async (message, refusal, signal) => {
    const original = JSON.parse(message.body) as InboundMessage;
    const key = `quarantine/${original.app}/${original.account}/${message.deduplicationId}.json`;
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.bucket,
          Key: key,
          Body: message.body,
          ContentType: 'application/json',
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw new DependencyError(`could not quarantine a message to ${deps.bucket}`, { cause: error });
    }
    const { message: body, ...routing } = original;
    const standIn = parseInboundMessage({
      ...routing,
      message: {
        type: 'quarantined',
        originalType: body.type,
        reason: refusal.reason,
        ...(refusal.code && { code: refusal.code }),
        bytes: refusal.bytes,
        content: { bucket: deps.bucket, key },
      },
    });
    return { ...message, body: JSON.stringify(standIn) };
  };
}
