import { PurgeQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { awsClientConfig } from '../../lib/aws';

export const localStack = () => inject('localStack');

export function sqsClient(): SQSClient {
  const stack = localStack();
  return new SQSClient({ region: stack.region, ...awsClientConfig('sqs', stack.env) });
}

/** Reads everything currently visible on a queue (short polls until it comes back empty). */
export async function drain(sqs: SQSClient, queueUrl: string) {
  const messages = [];
  while (true) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}

export async function purge(sqs: SQSClient, ...queueUrls: string[]) {
  for (const QueueUrl of queueUrls) await sqs.send(new PurgeQueueCommand({ QueueUrl }));
}
