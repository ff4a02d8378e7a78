import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueClient } from './queueClient';

/** The queue calls over the SDK's SQSClient: for code that has one already (the admin tools, the example bot). */
export function sdkQueueClient(sqs: SQSClient): QueueClient {
  return {
    async sendMessage(input, options) {
      const { MessageId } = await sqs.send(new SendMessageCommand(input), { abortSignal: options?.signal });
      return MessageId === undefined ? {} : { MessageId };
    },
    async sendMessageBatch(input, options) {
      const answer = await sqs.send(new SendMessageBatchCommand({ ...input, Entries: [...input.Entries] }), {
        abortSignal: options?.signal,
      });
      return {
        Successful: (answer.Successful ?? []).map(({ Id = '', MessageId }) => ({
          Id,
          ...(MessageId !== undefined && { MessageId }),
        })),
        Failed: (answer.Failed ?? []).map(({ Id = '', Code = 'unknown', SenderFault = false }) => ({
          Id,
          Code,
          SenderFault,
        })),
      };
    },
    async changeMessageVisibility(input, options) {
      await sqs.send(new ChangeMessageVisibilityCommand(input), { abortSignal: options?.signal });
    },
  };
}
