import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { type Message, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DependencyError } from '../../lib/errors';
import { consumeFifo, visibilityBackoff } from '../../lib/queue/fifoConsumer';
import { createResources } from '../../local/resources';
import { queueClient, sqsClient } from '../support/aws';
import { recordingLog } from '../support/recording';

const sqs = sqsClient();
let queueUrl: string;

beforeAll(async () => {
  // The outbound queue's visibility timeout: what a record keeps if nothing releases it.
  const created = await createResources(
    {
      Work: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: `consumer-${Date.now().toString(36)}.fifo`,
          FifoQueue: true,
          VisibilityTimeout: 120,
        },
      },
    },
    { sqs, dynamodb: new DynamoDBClient({}), s3: new S3Client({}) },
  );
  queueUrl = created.queues.Work ?? '';
});

const receive = async (waitTimeSeconds: number): Promise<Message[]> =>
  (
    await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        WaitTimeSeconds: waitTimeSeconds,
      }),
    )
  ).Messages ?? [];

/** The messages back on the queue within a few seconds (up to `count` of them): the ones the consumer released. */
async function backWithin(seconds: number, count: number): Promise<string[]> {
  const back: string[] = [];
  const until = Date.now() + seconds * 1000;
  while (back.length < count && Date.now() < until) back.push(...(await receive(1)).map((m) => m.Body ?? ''));
  return back;
}

describe('consumeFifo on a real queue', () => {
  // Lambda hands several messages of one FIFO group to one invocation, as the local queue now returns them.
  it('releases the records skipped behind a failure with its back-off, not the queue visibility timeout', async () => {
    for (const body of ['first', 'second', 'third'])
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: 'customer',
          MessageDeduplicationId: `${body}-${Date.now()}`,
        }),
      );
    const inFlight = await receive(1);
    expect(inFlight.map((m) => m.Body)).toEqual(['first', 'second', 'third']);
    const batch = ['first', 'second', 'third'].map((body) => {
      const message = inFlight.find((m) => m.Body === body) as Message;
      return {
        messageId: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body,
        // A second delivery: a back-off of 2 s.
        attributes: { MessageGroupId: 'customer', ApproximateReceiveCount: '2' },
      } as unknown as SQSRecord;
    });
    const response = await consumeFifo(
      batch,
      async (record) => {
        if (record.body === 'first') throw new DependencyError('platform busy');
      },
      { log: recordingLog().log, retryIn: visibilityBackoff(queueClient(), queueUrl) },
    );
    expect(response.batchItemFailures).toHaveLength(3);
    // None overtakes the failed one: all wait out its back-off, then the group comes back together.
    expect(await receive(0)).toEqual([]);
    expect(await backWithin(8, 3)).toEqual(['first', 'second', 'third']);
  });
});
