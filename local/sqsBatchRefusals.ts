import {
  BatchRequestTooLong,
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SendMessageBatchResult,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** How SQS answers an entry of a SendMessageBatch call that it does not take (a BatchResultErrorEntry). */
export type EntryRefusal = Required<Pick<BatchResultErrorEntry, 'Code' | 'SenderFault' | 'Message'>>;

/** Decides one entry: a refusal, or undefined to pass it on to the queue. */
export type RefusalRule = (entry: SendMessageBatchRequestEntry, queueUrl: string) => EntryRefusal | undefined;

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

const bytes = (entry: SendMessageBatchRequestEntry) => Buffer.byteLength(entry.MessageBody ?? '', 'utf8');

export interface SqsBatchRefusals {
  /** Every entry refused so far, in the order SQS answered. */
  readonly refused: { queueUrl: string; groupId?: string; deduplicationId?: string; refusal: EntryRefusal }[];
  /** The message groups of every SendMessageBatch call, as the caller made it. */
  readonly calls: { queueUrl: string; groupIds: (string | undefined)[] }[];
  /** Gives the client its own `send` back. */
  restore(): void;
}

/**
 * Makes an SQS client answer SendMessageBatch the way AWS does where the local queue is kinder: entries over
 * `maxMessageBytes` and content outside SQS's character set are refused one by one (the rest of the call goes
 * through), a call whose entries add up to more than `maxMessageBytes` fails whole (BatchRequestTooLong), and
 * `rules` add refusals of their own (transient ones, or a permanent one for chosen entries). Other commands pass
 * untouched.
 */
export function refuseBatchEntries(
  sqs: SQSClient,
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
    (entry) =>
      OUTSIDE_SQS_CHARACTERS.test(entry.MessageBody ?? '') ? SQS_REFUSALS.invalidContents : undefined,
    ...(options.rules ?? []),
  ];
  const refused: SqsBatchRefusals['refused'] = [];
  const calls: SqsBatchRefusals['calls'] = [];
  const original = sqs.send;
  const send = original.bind(sqs) as (command: unknown, options?: unknown) => Promise<unknown>;

  const answerLikeAws = async (command: unknown, sendOptions?: unknown): Promise<unknown> => {
    if (!(command instanceof SendMessageBatchCommand)) return send(command, sendOptions);
    const queueUrl = command.input.QueueUrl ?? '';
    const entries = command.input.Entries ?? [];
    calls.push({ queueUrl, groupIds: entries.map((entry) => entry.MessageGroupId) });
    const total = entries.reduce((sum, entry) => sum + bytes(entry), 0);
    if (total > maxBytes)
      throw new BatchRequestTooLong({
        $metadata: { httpStatusCode: 400 },
        message: `Batch requests cannot be longer than ${maxBytes} bytes. You have sent ${total} bytes.`,
      });
    const failed: BatchResultErrorEntry[] = [];
    const passed: SendMessageBatchRequestEntry[] = [];
    for (const entry of entries) {
      const refusal = rules.map((rule) => rule(entry, queueUrl)).find((answer) => answer !== undefined);
      if (!refusal) {
        passed.push(entry);
        continue;
      }
      failed.push({ Id: entry.Id, ...refusal });
      refused.push({
        queueUrl,
        ...(entry.MessageGroupId && { groupId: entry.MessageGroupId }),
        ...(entry.MessageDeduplicationId && { deduplicationId: entry.MessageDeduplicationId }),
        refusal,
      });
    }
    const answer: SendMessageBatchResult =
      passed.length > 0
        ? ((await send(
            new SendMessageBatchCommand({ ...command.input, Entries: passed }),
            sendOptions,
          )) as SendMessageBatchResult)
        : { Successful: [], Failed: [] };
    return { ...answer, Successful: answer.Successful ?? [], Failed: [...(answer.Failed ?? []), ...failed] };
  };

  sqs.send = answerLikeAws as SQSClient['send'];
  return {
    refused,
    calls,
    restore: () => {
      sqs.send = original;
    },
  };
}
