import { ContractError, DependencyError } from '../errors';
import type { Log } from '../logger';
import type { BatchEntryFailure, QueueClient } from './queueClient';
import { SQS_MAX_MESSAGE_BYTES, sqsBody } from './sqsBody';

export interface FifoMessage {
  /** JSON text: every body kf-bridge publishes is one. */
  readonly body: string;
  readonly groupId: string;
  readonly deduplicationId: string;
}

export type Publish = (queueUrl: string, message: FifoMessage, signal?: AbortSignal) => Promise<void>;

/** Publishes to an SQS FIFO queue; a failure is retryable, so the platform's retry brings the message back. */
export function sqsPublisher(sqs: QueueClient): Publish {
  return async (queueUrl, message, signal) => {
    const body = sqsBody(message.body);
    if (body.length > SQS_MAX_MESSAGE_BYTES)
      throw new ContractError(`message is ${body.length} bytes as sent, over SQS's ${SQS_MAX_MESSAGE_BYTES}`);
    try {
      await sqs.sendMessage(
        {
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: message.groupId,
          MessageDeduplicationId: message.deduplicationId,
        },
        signal && { signal },
      );
    } catch (error) {
      throw new DependencyError(`could not enqueue to ${queueName(queueUrl)}`, { cause: error });
    }
  };
}

function queueName(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

/** Why SQS will never take a message as it is. */
export interface Refusal {
  /** Over SQS's size before sending, or refused by SQS for what it is (`code` says how). */
  readonly reason: 'too_large' | 'refused';
  readonly code?: string;
  /** Its size as sent. */
  readonly bytes: number;
}

/**
 * Keeps a message SQS will never take, and returns what to publish in its place: the same group and
 * deduplication id, so the group's consumer learns of it in order and a repeat is still absorbed.
 */
export type Quarantine = (
  message: FifoMessage,
  refusal: Refusal,
  signal?: AbortSignal,
) => Promise<FifoMessage>;

export type PublishBatch = (queueUrl: string, messages: FifoMessage[], signal?: AbortSignal) => Promise<void>;

/** Some messages did not reach the queue, for a reason a retry may fix; `published` holds the deduplication ids of those that did. */
export class PartlyPublishedError extends DependencyError {
  constructor(
    message: string,
    readonly published: ReadonlySet<string>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const MAX_BATCH_ENTRIES = 10;

/**
 * The codes by which SQS refuses a message for what it is (its content, its size). A quarantine cannot be
 * undone, so every other refusal (throttling, the queue's KMS key, a code not known here) is retried, and one
 * that lasts reaches the dead-letter queue and its alarm.
 */
const REFUSES_THE_MESSAGE = new Set(['InvalidMessageContents', 'InvalidParameterValue']);

const refusesForGood = ({ Code }: BatchEntryFailure) => REFUSES_THE_MESSAGE.has(Code);

interface Pending {
  readonly message: FifoMessage;
  readonly body: string;
  /** A quarantine's stand-in: never quarantined in turn. */
  readonly standIn: boolean;
}

/**
 * Publishes to a FIFO queue in SendMessageBatch calls that carry at most one message per group. SQS accepts or
 * refuses each entry on its own, so two messages of one group in a call could land out of order; one each, a
 * group's messages go in order, and a group stops at its first failure. A call takes the next message of up
 * to 10 groups, the groups with most left first (the fewest calls), within SQS's byte limits.
 *
 * A message SQS will never take (over the size limit, or refused for good) goes to the queue's quarantine,
 * when it has one, and its stand-in takes its place in the group; without one, its group stops there. After
 * the rest went through, any stop throws a retryable PartlyPublishedError: a retry resends from there, and
 * FIFO deduplication absorbs what did get through.
 */
export function sqsBatchPublisher(
  sqs: QueueClient,
  quarantines?: { readonly byQueueUrl: Readonly<Record<string, Quarantine>>; readonly log: Log },
): PublishBatch {
  return async (queueUrl, messages, signal) => {
    const queue = queueName(queueUrl);
    const quarantine = quarantines?.byQueueUrl[queueUrl];
    const groups = new Map<string, Pending[]>();
    for (const message of messages) {
      const pending = { message, body: sqsBody(message.body), standIn: false };
      const group = groups.get(message.groupId);
      if (group) group.push(pending);
      else groups.set(message.groupId, [pending]);
    }
    const published = new Set<string>();
    const stops: string[] = [];
    const stop = (group: string, why: string) => {
      groups.delete(group);
      stops.push(why);
    };
    /** Puts the group's next message in quarantine and its stand-in in its place; or says why it cannot. */
    const setAside = async (group: string, refusal: Refusal): Promise<string | undefined> => {
      const pending = groups.get(group);
      const next = pending?.[0];
      if (!pending || !next) return 'nothing to set aside';
      if (next.standIn) return 'its quarantine stand-in was refused as well';
      if (!quarantine) return 'the queue has no quarantine';
      let standIn: FifoMessage;
      try {
        standIn = await quarantine(next.message, refusal, signal);
      } catch (error) {
        return `its quarantine failed (${(error as Error).message})`;
      }
      // The log line is the record of the message: where it went and why, never what it says.
      quarantines?.log.error('message quarantined', {
        queue,
        group,
        deduplicationId: next.message.deduplicationId,
        ...refusal,
      });
      pending[0] = { message: standIn, body: sqsBody(standIn.body), standIn: true };
      return undefined;
    };

    while (groups.size > 0) {
      const call: [string, Pending][] = [];
      let bytes = 0;
      for (const [group, pending] of [...groups].sort(([, a], [, b]) => b.length - a.length)) {
        if (call.length === MAX_BATCH_ENTRIES) break;
        const size = pending[0]?.body.length ?? 0;
        if (size > SQS_MAX_MESSAGE_BYTES) {
          const cannot = await setAside(group, { reason: 'too_large', bytes: size });
          if (cannot) {
            stop(group, `a message of ${size} bytes is over SQS's limit and ${cannot}`);
            continue;
          }
        }
        const next = pending[0];
        if (!next || bytes + next.body.length > SQS_MAX_MESSAGE_BYTES) continue;
        call.push([group, next]);
        bytes += next.body.length;
      }
      if (call.length === 0) continue;

      let failed: BatchEntryFailure[];
      try {
        const answer = await sqs.sendMessageBatch(
          {
            QueueUrl: queueUrl,
            Entries: call.map(([group, { message, body }], index) => ({
              Id: String(index),
              MessageBody: body,
              MessageGroupId: group,
              MessageDeduplicationId: message.deduplicationId,
            })),
          },
          signal && { signal },
        );
        failed = [...answer.Failed];
        // An entry the answer names neither way did not reach the queue as far as anyone can tell.
        const answered = new Set([...answer.Successful, ...failed].map((entry) => entry.Id));
        for (const index of call.keys())
          if (!answered.has(String(index)))
            failed.push({ Id: String(index), Code: 'NotAnswered', SenderFault: false });
      } catch (error) {
        // Whether any of the call got through is unknown: FIFO deduplication absorbs it when the retry resends.
        throw new PartlyPublishedError(`could not enqueue to ${queue}`, published, { cause: error });
      }
      const failures = new Map(failed.map((entry) => [entry.Id, entry]));
      for (const [index, [group, { message, body }]] of call.entries()) {
        const failure = failures.get(String(index));
        if (!failure) {
          published.add(message.deduplicationId);
          const pending = groups.get(group);
          pending?.shift();
          if (!pending?.length) groups.delete(group);
          continue;
        }
        const code = failure.Code;
        if (!refusesForGood(failure)) {
          stop(group, `SQS answered ${code}`);
          continue;
        }
        const cannot = await setAside(group, { reason: 'refused', code, bytes: body.length });
        if (cannot) stop(group, `SQS refused a message for good (${code}) and ${cannot}`);
      }
    }
    if (stops.length > 0)
      throw new PartlyPublishedError(
        `${stops.length} message group(s) stopped short of ${queue}: ${[...new Set(stops)].join('; ')}`,
        published,
      );
  };
}
