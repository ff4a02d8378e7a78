import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { DependencyError, KfBridgeError } from '../errors';
import type { Log } from '../logger';
import type { QueueClient } from './queueClient';

export interface FifoConsumerDeps {
  readonly log: Log;
  /** Sets how long a failed record stays invisible: its back-off before SQS delivers it again. */
  readonly retryIn: (record: SQSRecord, seconds: number) => Promise<void>;
}

/** The handler did not try the record (too little time left in the invocation): it is released at once. */
export class NotTriedError extends DependencyError {}

/** 1, 2, 4 … 60 s between attempts; SQS redrives to the DLQ after the queue's maxReceiveCount. */
export function backoffSeconds(receiveCount: number): number {
  return Math.min(2 ** Math.max(0, receiveCount - 1), 60);
}

/**
 * Processes a FIFO batch and reports partial failures. Message groups run side by side, at most `concurrency`
 * at once (default 1); records of one group run in order. Errors are never swallowed: each failure is logged and
 * left to SQS. A retryable one is backed off, and every later record of its group is reported failed unprocessed
 * and released with the same back-off, so a customer's order holds and the group comes back together (a record
 * not tried at all comes back at once). A poison one (a retry cannot help) goes straight back, on its way to the
 * DLQ, and the rest of its group goes on: it will never be processed, so nothing overtakes it, and the records
 * behind it do not spend their receives.
 */
export async function consumeFifo(
  records: SQSRecord[],
  handle: (record: SQSRecord) => Promise<void>,
  deps: FifoConsumerDeps & { readonly concurrency?: number },
): Promise<SQSBatchResponse> {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    groups.set(group, [...(groups.get(group) ?? []), record]);
  }
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const runGroup = async ([group, members]: [string, SQSRecord[]]) => {
    for (const [index, record] of members.entries()) {
      try {
        await handle(record);
      } catch (error) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        const seconds = reportFailure(record, group, error, deps.log);
        await retryIn(record, seconds, deps);
        if (!isRetryable(error)) continue;
        // Lambda hands several of a group's records to one invocation: those not reached would otherwise stay in
        // flight for the queue's whole visibility timeout. Released with the failed one's back-off, none
        // overtakes it.
        const skipped = members.slice(index + 1);
        for (const later of skipped) batchItemFailures.push({ itemIdentifier: later.messageId });
        await Promise.all(skipped.map((later) => retryIn(later, seconds, deps)));
        return;
      }
    }
  };
  const queue = [...groups];
  const workers = Array.from(
    { length: Math.max(1, Math.min(deps.concurrency ?? 1, queue.length)) },
    async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await runGroup(next);
    },
  );
  await Promise.all(workers);
  return { batchItemFailures };
}

// An error outside the hierarchy may be a passing fault too: retry it, the DLQ catches repeats.
const isRetryable = (error: unknown) => !(error instanceof KfBridgeError) || error.retryable;

/** Logs a failure; the seconds before the record is delivered again. */
function reportFailure(record: SQSRecord, group: string, error: unknown, log: Log): number {
  const retryable = isRetryable(error);
  const attempt = Number(record.attributes.ApproximateReceiveCount ?? 1);
  const reason = error instanceof KfBridgeError ? error.message : 'unexpected error';
  if (retryable)
    log.warn('record failed; will retry', { messageId: record.messageId, group, attempt, reason, error });
  else
    log.error('record failed and cannot succeed as is; it will reach the DLQ', {
      messageId: record.messageId,
      group,
      attempt,
      reason,
    });
  return retryable && !(error instanceof NotTriedError) ? backoffSeconds(attempt) : 0;
}

async function retryIn(record: SQSRecord, seconds: number, deps: FifoConsumerDeps): Promise<void> {
  try {
    await deps.retryIn(record, seconds);
  } catch (visibilityError) {
    deps.log.warn('could not set the retry back-off', {
      messageId: record.messageId,
      error: visibilityError,
    });
  }
}

/** `retryIn` for a queue: the record's back-off becomes its visibility timeout. */
export function visibilityBackoff(sqs: QueueClient, queueUrl: string): FifoConsumerDeps['retryIn'] {
  return async (record, seconds) => {
    await sqs.changeMessageVisibility({
      QueueUrl: queueUrl,
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: seconds,
    });
  };
}
