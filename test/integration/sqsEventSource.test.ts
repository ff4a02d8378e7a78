import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createResources } from '../../local/resources';
import { type EventSourceMapping, pollOnce, succeededMessageIds } from '../../local/sqsEventSource';
import { drain, localStack, sqsClient } from '../support/aws';

const stack = localStack();
const sqs = sqsClient();
let mapping: EventSourceMapping;
let dlqUrl: string;

beforeAll(async () => {
  const suffix = Date.now().toString(36);
  // A queue of the test's own, with a 1 s visibility timeout and 2 receives before redrive.
  const created = await createResources(
    {
      Work: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: `esm-${suffix}.fifo`,
          FifoQueue: true,
          VisibilityTimeout: 1,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['WorkDlq', 'Arn'] }, maxReceiveCount: 2 },
        },
      },
      WorkDlq: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: `esm-${suffix}-dlq.fifo`, FifoQueue: true },
      },
    },
    { sqs, dynamodb: new DynamoDBClient({}), s3: new S3Client({}) },
  );
  dlqUrl = created.queues.WorkDlq ?? '';
  mapping = {
    functionName: 'consumer',
    queueUrl: created.queues.Work ?? '',
    queueArn: created.queueArns.Work ?? '',
    batchSize: 10,
    reportBatchItemFailures: true,
  };
});

async function send(...bodies: string[]) {
  for (const [index, body] of bodies.entries()) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: mapping.queueUrl,
        MessageBody: body,
        MessageGroupId: `g${index}`,
        MessageDeduplicationId: `${body}-${Date.now()}-${index}`,
      }),
    );
  }
}

const poll = (invoke: (name: string, event: SQSEvent) => Promise<unknown>, lines: string[] = []) =>
  pollOnce(mapping, {
    sqs,
    invoke: (name, event) => invoke(name, event as SQSEvent),
    region: stack.region,
    log: (line) => lines.push(line),
    waitTimeSeconds: 1,
  });

describe('local SQS event-source mapping', () => {
  it('delivers an AWS-shaped batch and deletes only what was not reported failed', async () => {
    await send('ok-1', 'fail-2', 'ok-3');
    let seen: SQSEvent | undefined;
    await poll(async (name, event) => {
      expect(name).toBe('consumer');
      seen = event;
      return {
        batchItemFailures: event.Records.filter((r) => r.body.startsWith('fail')).map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    });
    expect(seen?.Records.map((r) => r.body)).toEqual(['ok-1', 'fail-2', 'ok-3']);
    expect(seen?.Records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: mapping.queueArn,
      awsRegion: stack.region,
      attributes: { MessageGroupId: 'g0', ApproximateReceiveCount: '1' },
    });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const redelivered: string[] = [];
    await poll(async (_, event) => {
      redelivered.push(...event.Records.map((r) => r.body));
      return {};
    });
    expect(redelivered).toEqual(['fail-2']);
  });

  it('retries the whole batch after a failed invocation, then redrives it to the DLQ', async () => {
    await send('poison');
    const lines: string[] = [];
    const failing = async () => {
      throw new Error('handler crashed');
    };
    await poll(failing, lines);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await poll(failing, lines);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await poll(async () => ({}))).toBe(0);
    expect(lines[0]).toContain('invocation failed');
    const dead = await drain(sqs, dlqUrl);
    expect(dead.map((m) => m.Body)).toEqual(['poison']);
  });

  it("delivers several in-order messages of one group in a batch, as SQS and Lambda's FIFO event source do", async () => {
    const stamp = Date.now();
    for (const [index, [group, body]] of [
      ['a', 'a-1'],
      ['b', 'b-1'],
      ['a', 'a-2'],
      ['a', 'a-3'],
      ['b', 'b-2'],
    ].entries())
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: mapping.queueUrl,
          MessageBody: body,
          MessageGroupId: group,
          MessageDeduplicationId: `${body}-${stamp}-${index}`,
        }),
      );
    let batch: SQSEvent['Records'] = [];
    await poll(async (_, event) => {
      batch = event.Records;
      return {};
    });
    const bodies = (group: string) =>
      batch.filter((r) => r.attributes.MessageGroupId === group).map((r) => r.body);
    expect(bodies('a')).toEqual(['a-1', 'a-2', 'a-3']);
    expect(bodies('b')).toEqual(['b-1', 'b-2']);
  });

  it('gives a group its messages back in order after they return, released or timed out', async () => {
    const stamp = Date.now();
    const sendGroup = async (group: string) => {
      for (const n of [1, 2, 3])
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: mapping.queueUrl,
            MessageBody: `${group}-${n}`,
            MessageGroupId: group,
            MessageDeduplicationId: `${group}-${n}-${stamp}`,
          }),
        );
    };
    const receive = async () =>
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: mapping.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        )
      ).Messages ?? [];
    // The queue redrives after 2 receives: each way back is tried on a group of its own.
    await sendGroup('released');
    for (const message of await receive())
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: mapping.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    const again = await receive();
    expect(again.map((m) => m.Body)).toEqual(['released-1', 'released-2', 'released-3']);
    for (const message of again)
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: mapping.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    await sendGroup('expired');
    await receive();
    // Their 1 s visibility runs out.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const back = await receive();
    expect(back.map((m) => m.Body)).toEqual(['expired-1', 'expired-2', 'expired-3']);
    for (const message of back)
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: mapping.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
  });

  it('treats a malformed batchItemFailures as a failure of the whole batch, as Lambda does', () => {
    const batch = [{ messageId: 'a' }, { messageId: 'b' }] as SQSEvent['Records'];
    expect(succeededMessageIds(mapping, batch, { batchItemFailures: [{ itemIdentifier: 'zzz' }] })).toEqual(
      [],
    );
    expect(succeededMessageIds(mapping, batch, { batchItemFailures: [{ itemIdentifier: 'b' }] })).toEqual([
      'a',
    ]);
    expect(succeededMessageIds(mapping, batch, { batchItemFailures: [] })).toEqual(['a', 'b']);
    expect(succeededMessageIds(mapping, batch, null)).toEqual(['a', 'b']);
    expect(
      succeededMessageIds({ ...mapping, reportBatchItemFailures: false }, batch, {
        batchItemFailures: [{ itemIdentifier: 'b' }],
      }),
    ).toEqual(['a', 'b']);
  });
});

describe('local stack resources', () => {
  it('creates the queues serverless.yml declares, FIFO, with their DLQ redrive', async () => {
    expect(Object.keys(stack.queues).sort()).toEqual([
      'InboundDlq',
      'InboundQueue',
      'OutboundDlq',
      'OutboundQueue',
      'SyncJobsDlq',
      'SyncJobsQueue',
    ]);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: stack.queues.SyncJobsQueue, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      VisibilityTimeout: '180',
    });
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: stack.queueArns.SyncJobsDlq,
      maxReceiveCount: 5,
    });
  });
});
