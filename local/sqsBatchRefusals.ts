import { AwsRequestError } from '../lib/aws/signedRequest';
import type { BatchEntry, BatchEntryFailure, QueueClient } from '../lib/queue/queueClient';

/** How SQS answers an entry of a SendMessageBatch call that it does not take (a BatchResultErrorEntry). */
export type EntryRefusal = Omit<BatchEntryFailure, 'Id'> & { readonly Message: string };

/** Decides one entry: a refusal, or undefined to pass it on to the queue. */
export type RefusalRule = (entry: BatchEntry, queueUrl: string) => EntryRefusal | undefined;

/** The per-message and per-call limit of queues that leave MaximumMessageSize at its default. */
export const AWS_DEFAULT_MAX_MESSAGE_BYTES = 262_144;

/** Answers SQS gives per entry (SendMessage / SendMessageBatch API reference; BatchResultErrorEntry). */
export const SQS_REFUSALS = {
  /** Content outside the characters SQS accepts: refused whatever the retry. */
  invalidContents: {
    Code: 'InvalidMessageContents',
    SenderFault: true,
    Message: 'The message contains characters outside the allowed set.',
  },
  /** SQS's own failure: the same entry may go through on a retry. */
  internalError: {
    Code: 'InternalError',
    SenderFault: false,
    Message: 'We encountered an internal error. Please try again.',
  },
} as const satisfies Record<string, EntryRefusal>;

// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF: emoji are accepted, U+FFFF and
// lone surrogates are not (fauxqs refuses every character above U+FFFF as well).
const OUTSIDE_SQS_CHARACTERS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const bytes = (entry: BatchEntry) => Buffer.byteLength(entry.MessageBody, 'utf8');

export interface SqsBatchRefusals {
  /** Every entry refused so far, in the order SQS answered. */
  readonly refused: { queueUrl: string; groupId?: string; deduplicationId?: string; refusal: EntryRefusal }[];
  /** The message groups of every SendMessageBatch call, as the caller made it. */
  readonly calls: { queueUrl: string; groupIds: (string | undefined)[] }[];
  /** Gives the client its own `sendMessageBatch` back. */
  restore(): void;
}

/**
 * Makes a queue client answer SendMessageBatch the way AWS does where the local queue is kinder: entries over
 * `maxMessageBytes` and content outside SQS's character set are refused one by one (the rest of the call goes
 * through), a call whose entries add up to more than `maxMessageBytes` fails whole (BatchRequestTooLong), and
 * `rules` add refusals of their own (transient ones, or a permanent one for chosen entries). Other commands pass
 * untouched.
 */
export function refuseBatchEntries(
  sqs: QueueClient,
  options: { maxMessageBytes?: number; rules?: RefusalRule[] } = {},
): SqsBatchRefusals {
  const maxBytes = options.maxMessageBytes ?? AWS_DEFAULT_MAX_MESSAGE_BYTES;
  const rules: RefusalRule[] = [
    (entry) =>
      bytes(entry) > maxBytes
        ? {
            Code: 'InvalidParameterValue',
            SenderFault: true,
            Message: `One or more parameters are invalid. Reason: Message must be shorter than ${maxBytes} bytes.`,
          }
        : undefined,
    (entry) => (OUTSIDE_SQS_CHARACTERS.test(entry.MessageBody) ? SQS_REFUSALS.invalidContents : undefined),
    ...(options.rules ?? []),
  ];
  const refused: SqsBatchRefusals['refused'] = [];
  const calls: SqsBatchRefusals['calls'] = [];
  const original = sqs.sendMessageBatch;
  const send = original.bind(sqs);

  const answerLikeAws: QueueClient['sendMessageBatch'] = async (input, sendOptions) => {
    const queueUrl = input.QueueUrl;
    const entries = input.Entries;
    calls.push({ queueUrl, groupIds: entries.map((entry) => entry.MessageGroupId) });
    const total = entries.reduce((sum, entry) => sum + bytes(entry), 0);
    if (total > maxBytes)
      throw new AwsRequestError('SQS SendMessageBatch: HTTP 400 BatchRequestTooLong', {
        service: 'sqs',
        operation: 'SendMessageBatch',
        refusal: {
          status: 400,
          type: 'BatchRequestTooLong',
          details: { code: 'AWS.SimpleQueueService.BatchRequestTooLong', fault: 'Sender' },
        },
      });
    const failed: BatchEntryFailure[] = [];
    const passed: BatchEntry[] = [];
    for (const entry of entries) {
      const refusal = rules.map((rule) => rule(entry, queueUrl)).find((answer) => answer !== undefined);
      if (!refusal) {
        passed.push(entry);
        continue;
      }
      failed.push({ Id: entry.Id, Code: refusal.Code, SenderFault: refusal.SenderFault });
      refused.push({
        queueUrl,
        ...(entry.MessageGroupId && { groupId: entry.MessageGroupId }),
        ...(entry.MessageDeduplicationId && { deduplicationId: entry.MessageDeduplicationId }),
        refusal,
      });
    }
    const answer =
      passed.length > 0
        ? await send({ ...input, Entries: passed }, sendOptions)
        : { Successful: [], Failed: [] };
    return { Successful: answer.Successful, Failed: [...answer.Failed, ...failed] };
  };

  sqs.sendMessageBatch = answerLikeAws;
  return {
    refused,
    calls,
    restore: () => {
      sqs.sendMessageBatch = original;
    },
  };
}
