import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
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
