import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { awsClientConfig } from '../../lib/aws/clientConfig';
import { type S3Objects, s3ObjectsFor } from '../../lib/aws/s3';
import { serviceTarget } from '../../lib/aws/signedRequest';
import { documentClientItemStore } from '../../lib/items/documentClientItemStore';
import type { ItemStore } from '../../lib/items/itemStore';
import { itemStoreFor } from '../../lib/items/signedItemStore';
import type { QueueClient } from '../../lib/queue/queueClient';
import { signedQueueClient } from '../../lib/queue/signedQueueClient';

export const localStack = () => inject('localStack');

export function sqsClient(): SQSClient {
  const stack = localStack();
  return new SQSClient({ region: stack.region, ...awsClientConfig('sqs', stack.env) });
}

/** kf-bridge's own SQS calls, as the functions make them, on the local stack. */
export function queueClient(): QueueClient {
  return signedQueueClient({ target: () => serviceTarget('sqs', localStack().env) });
}

export function documentClient(): DynamoDBDocumentClient {
  const stack = localStack();
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: stack.region, ...awsClientConfig('dynamodb', stack.env) }),
  );
}

/**
 * The state table's item calls both ways kf-bridge makes them: over our own signed requests (the functions) and
 * over the SDK's DocumentClient (local tools). A store's tests run with each.
 */
export function itemStores(): { readonly sdk: ItemStore; readonly signed: ItemStore } {
  const stack = localStack();
  return {
    sdk: documentClientItemStore(documentClient()),
    signed: itemStoreFor(stack.env),
  };
}

/** kf-bridge's own S3 client, as the functions build it, on the local stack. */
export function localS3Objects(): S3Objects {
  return s3ObjectsFor(localStack().env);
}

/** The SDK's S3 client, for seeding and checking the local stack's buckets independently of kf-bridge's. */
export function s3Client(): S3Client {
  const stack = localStack();
  return new S3Client({ region: stack.region, ...awsClientConfig('s3', stack.env) });
}

/**
 * Consumes everything currently deliverable, deleting as it goes like a real consumer: FIFO holds back a
 * group's next message while the previous one is in flight.
 */
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
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

export async function purge(sqs: SQSClient, ...queueUrls: string[]) {
  for (const QueueUrl of queueUrls) await sqs.send(new PurgeQueueCommand({ QueueUrl }));
}
