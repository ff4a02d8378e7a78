import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DependencyError } from '../errors';

/** kf-bridge's dead-letter queues, by the queue they catch for. */
export type DeadLetterQueue = 'syncJobs' | 'inbound' | 'outbound';

export interface DeadLetter {
  readonly queue: DeadLetterQueue;
  readonly messageId: string;
  /** When it was first sent to its queue (epoch ms). */
  readonly sentAt?: number;
  /** The body as JSON, or as the text it is when it is not JSON. */
  readonly body: unknown;
}

/** A peek holds the messages this long, so one round of receives sees each once; they are put back right after. */
const PEEK_SECONDS = 10;
const MAX_ROUNDS = 10;

/**
 * Reads the dead letters without consuming them. FIFO queues hold back a message group while one of its messages
 * is in flight, so a peek sees at most one batch (10) of each group.
 */
export async function peekDeadLetters(
  sqs: SQSClient,
  queues: Partial<Record<DeadLetterQueue, string>>,
): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (const [queue, url] of Object.entries(queues) as [DeadLetterQueue, string][]) {
    const seen = new Map<string, Message>();
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: PEEK_SECONDS,
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
        );
        const fresh = Messages.filter((message) => !seen.has(message.MessageId ?? ''));
        if (fresh.length === 0) break;
        for (const message of fresh) seen.set(message.MessageId ?? '', message);
      }
    } finally {
      await putBack(sqs, url, [...seen.values()]);
    }
    for (const message of seen.values()) letters.push(deadLetter(queue, message));
  }
  return letters;
}

async function putBack(sqs: SQSClient, url: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    const { Failed = [] } = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
    // Not put back, they come back on their own after the peek's hold.
    if (Failed.length > 0)
      throw new DependencyError(
        `dead letters not put back at once: ${Failed[0]?.Message ?? Failed[0]?.Code}`,
      );
  }
}

function deadLetter(queue: DeadLetterQueue, message: Message): DeadLetter {
  const sent = Number(message.Attributes?.SentTimestamp);
  let body: unknown = message.Body ?? '';
  try {
    body = JSON.parse(String(body));
  } catch {
    // A body that is not JSON is shown as it is.
  }
  return {
    queue,
    messageId: message.MessageId ?? '',
    ...(Number.isFinite(sent) && { sentAt: sent }),
    body,
  };
}
