import type { S3Objects } from '../aws/s3';
import { type InboundMessage, parseInboundMessage } from '../contracts/inbound';
import type { Meter } from '../metrics';
import type { Quarantine } from '../queue/publisher';
import { putObject } from '../s3';

/**
 * inbound.fifo's quarantine: the inbound message SQS will not take is kept whole in the media bucket under
 * `quarantine/`, and a `quarantined` message naming it is published in its place, with the original's other
 * fields (its file's copy included), group and deduplication id.
 */
export function inboundQuarantine(deps: { s3: S3Objects; bucket: string; meter: Meter }): Quarantine {
  return async (message, refusal, signal) => {
    const original = JSON.parse(message.body) as InboundMessage;
    const key = `quarantine/${original.app}/${original.account}/${message.deduplicationId}.json`;
    await putObject(
      deps.s3,
      {
        bucket: deps.bucket,
        key,
        body: message.body,
        contentType: 'application/json',
        what: `quarantining a message to ${deps.bucket}`,
      },
      signal,
    );
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
    deps.meter.record('InboundQuarantined', 1, { app: original.app, reason: refusal.reason });
    return { ...message, body: JSON.stringify(standIn) };
  };
}
