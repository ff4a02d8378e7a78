import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DependencyError } from '../errors';

export interface FifoMessage {
  readonly body: string;
  readonly groupId: string;
  readonly deduplicationId: string;
}

export type Publish = (queueUrl: string, message: FifoMessage, signal?: AbortSignal) => Promise<void>;

/** Publishes to an SQS FIFO queue; a failure is retryable, so the platform's retry brings the message back. */
export function sqsPublisher(sqs: SQSClient): Publish {
  return async (queueUrl, message, signal) => {
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: message.body,
          MessageGroupId: message.groupId,
          MessageDeduplicationId: message.deduplicationId,
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw new DependencyError(`could not enqueue to ${queueName(queueUrl)}`, { cause: error });
    }
  };
}

function queueName(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

export type PublishBatch = (queueUrl: string, messages: FifoMessage[], signal?: AbortSignal) => Promise<void>;

/**
 * Publishes in SendMessageBatch calls of 10, in order. Any failed entry fails the whole call, and nothing
 * after it is sent, so a retry resends from there and FIFO deduplication absorbs what did get through.
 */
export function sqsBatchPublisher(sqs: SQSClient): PublishBatch {
  return async (queueUrl, messages, signal) => {
    for (let i = 0; i < messages.length; i += 10) {
      const batch = messages.slice(i, i + 10);
      let failed: number;
      try {
        const answer = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((message, index) => ({
              Id: String(index),
              MessageBody: message.body,
              MessageGroupId: message.groupId,
              MessageDeduplicationId: message.deduplicationId,
            })),
          }),
          { abortSignal: signal },
        );
        failed = answer.Failed?.length ?? 0;
      } catch (error) {
        throw new DependencyError(`could not enqueue to ${queueName(queueUrl)}`, { cause: error });
      }
      if (failed > 0)
        throw new DependencyError(
          `${failed} of ${batch.length} messages were not enqueued to ${queueName(queueUrl)}`,
        );
    }
  };
}
