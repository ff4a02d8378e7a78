import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { HeldMessages, HOLD_SECONDS, holding } from '../dlq/heldMessages';
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

/** Receives per queue: each waits at most 1 s, inside the admin function's 15 s. */
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
    const held = new HeldMessages(sqs, url, queue);
    const { result, unreleased } = await holding(held, async () => {
      const found: Message[] = [];
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const batch = await held.next();
        if (batch.length === 0) break;
        found.push(...batch);
      }
      return found;
    });
    if (unreleased > 0)
      throw new DependencyError(
        `${unreleased} of the ${queue} dead letters could not be put back in sight: they come back within ${HOLD_SECONDS} s`,
      );
    for (const message of result) letters.push(deadLetter(queue, message));
  }
  return letters;
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
