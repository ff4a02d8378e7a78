import {
  ChangeMessageVisibilityBatchCommand,
  type ChangeMessageVisibilityBatchRequestEntry,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DependencyError } from '../errors';

/**
 * Long enough to outlast one admin call (the admin function's timeout is 15 s), short enough that messages held
 * by a call that died are back in sight soon.
 */
export const HOLD_SECONDS = 30;

/**
 * Reads a FIFO dead-letter queue without consuming it (dlq list/show/redrive, trace). SQS has no peek: a received message is out of sight
 * until released, and a FIFO queue hands out none of a group's later messages while earlier ones are out, so
 * every message received stays held until `release`, which puts back (visibility 0) all that were not removed.
 * Holding them is what makes the walk end: a receive that finds nothing means every group is either held or
 * done. Order is untouched, as visibility changes do not reorder a group; each receive adds one to a message's
 * ApproximateReceiveCount.
 */
export class HeldMessages {
  private readonly held = new Map<string, string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly queue: string,
  ) {}

  /** The next batch: each group's messages in order, a group only after its earlier messages were removed. */
  async next(): Promise<Message[]> {
    const { Messages = [] } = await this.call('read', () =>
      this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: HOLD_SECONDS,
          // Long polling asks every SQS server, so an empty answer means nothing is deliverable, not a miss.
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      ),
    );
    for (const message of Messages)
      if (message.MessageId && message.ReceiptHandle) this.held.set(message.MessageId, message.ReceiptHandle);
    return Messages;
  }

  /** Deletes a held message from the queue. */
  async remove(messageId: string): Promise<void> {
    const handle = this.held.get(messageId);
    if (!handle) throw new Error(`message ${messageId} is not held`);
    await this.call('delete from', () =>
      this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: handle })),
    );
    this.held.delete(messageId);
  }

  /**
   * Puts every held message back in sight, where it was in its group, trying again once those SQS did not; how
   * many are still held (out of sight until their hold ends).
   */
  async release(): Promise<number> {
    let entries: ChangeMessageVisibilityBatchRequestEntry[] = [...this.held.values()].map(
      (handle, index) => ({
        Id: String(index),
        ReceiptHandle: handle,
        VisibilityTimeout: 0,
      }),
    );
    this.held.clear();
    for (let tries = 0; tries < 2 && entries.length > 0; tries++) entries = await this.putBack(entries);
    return entries.length;
  }

  /** The entries not put back: those SQS answered Failed, and every one of a batch whose call failed. */
  private async putBack(
    entries: ChangeMessageVisibilityBatchRequestEntry[],
  ): Promise<ChangeMessageVisibilityBatchRequestEntry[]> {
    const left: ChangeMessageVisibilityBatchRequestEntry[] = [];
    for (let start = 0; start < entries.length; start += 10) {
      const batch = entries.slice(start, start + 10);
      try {
        const { Failed = [] } = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries: batch }),
        );
        const failed = new Set(Failed.map((entry) => entry.Id));
        left.push(...batch.filter((entry) => failed.has(entry.Id)));
      } catch {
        left.push(...batch);
      }
    }
    return left;
  }

  private async call<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw new DependencyError(`could not ${what} the ${this.queue} dead-letter queue`, { cause: error });
    }
  }
}

/**
 * Runs `work` with the queue's messages held, and releases what it did not remove, whatever happens;
 * `unreleased`: how many are still held.
 */
export async function holding<T>(
  held: HeldMessages,
  work: () => Promise<T>,
): Promise<{ result: T; unreleased: number }> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await held.release();
    throw error;
  }
  return { result, unreleased: await held.release() };
}
