import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../lib/aws/clientConfig';
import { AwsRequestError, serviceTarget } from '../../lib/aws/signedRequest';
import type { BatchEntry, QueueClient } from '../../lib/queue/queueClient';
import { queueClientFor, signedQueueClient } from '../../lib/queue/signedQueueClient';
import { actingAs, createAwsCallLog, recordSignedCalls } from '../../local/metering';
import { drain, localStack } from '../support/aws';
import { type MotoServer, startMotoServer } from '../support/moto';
import { describeWithPythonTools } from '../support/pythonTools';

const unique = () => Math.random().toString(36).slice(2);

/** What the functions ask of SQS, against one implementation of it: `queue` the client under test, `sdk` the checker. */
function queueCalls(
  setup: () => {
    queue: QueueClient;
    sdk: SQSClient;
    endpoint: string;
    /** A queue, and an entry it refuses on its own in a batch (each implementation refuses other things so). */
    refused: (sdk: SQSClient) => Promise<{ queueUrl: string; entry: BatchEntry }>;
  },
) {
  let queueUrl: string;
  const fifo = async () => {
    const { sdk } = setup();
    const { QueueUrl } = await sdk.send(
      new CreateQueueCommand({
        QueueName: `signed-${unique()}.fifo`,
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
      }),
    );
    return QueueUrl ?? '';
  };
  beforeAll(async () => {
    queueUrl = await fifo();
  });

  it('sends one message and a batch, in order per group, bodies as sent', async () => {
    const { queue, sdk } = setup();
    const { MessageId } = await queue.sendMessage({
      QueueUrl: queueUrl,
      MessageBody: '{"text":"\\u4f60\\u597d"}',
      MessageGroupId: 'g1',
      MessageDeduplicationId: unique(),
    });
    expect(MessageId).toEqual(expect.any(String));
    const answer = await queue.sendMessageBatch({
      QueueUrl: queueUrl,
      Entries: ['a', 'b'].map((text, i) => ({
        Id: String(i),
        MessageBody: JSON.stringify({ text }),
        MessageGroupId: `g${i + 2}`,
        MessageDeduplicationId: unique(),
      })),
    });
    expect(answer.Failed).toEqual([]);
    expect(answer.Successful.map((entry) => entry.Id).sort()).toEqual(['0', '1']);
    const bodies = (await drain(sdk, queueUrl)).map((m) => m.Body).sort();
    expect(bodies).toEqual(['{"text":"\\u4f60\\u597d"}', '{"text":"a"}', '{"text":"b"}']);
  });

  it('answers an entry the queue refuses as Failed and takes the others', async () => {
    const { queue, sdk, refused } = setup();
    const target = await refused(sdk);
    const answer = await queue.sendMessageBatch({
      QueueUrl: target.queueUrl,
      Entries: [
        { Id: 'ok', MessageBody: '{"n":1}', MessageGroupId: 'g', MessageDeduplicationId: unique() },
        { ...target.entry, Id: 'refused' },
      ],
    });
    expect(answer.Successful.map((entry) => entry.Id)).toEqual(['ok']);
    expect(answer.Failed).toEqual([{ Id: 'refused', Code: 'InvalidParameterValue', SenderFault: true }]);
    expect((await drain(sdk, target.queueUrl)).map((m) => m.Body)).toEqual(['{"n":1}']);
  });

  it('changes the visibility of a received message', async () => {
    const { queue, sdk } = setup();
    await queue.sendMessage({
      QueueUrl: queueUrl,
      MessageBody: '{}',
      MessageGroupId: 'v',
      MessageDeduplicationId: unique(),
    });
    const receive = async (): Promise<Message[]> =>
      (await sdk.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }))).Messages ?? [];
    const [message] = await receive();
    await queue.changeMessageVisibility({
      QueueUrl: queueUrl,
      ReceiptHandle: message?.ReceiptHandle ?? '',
      VisibilityTimeout: 0,
    });
    expect((await receive()).map((m) => m.MessageId)).toEqual([message?.MessageId]);
    await drain(sdk, queueUrl);
  });

  it('fails a call to a queue that does not exist with its type and query code, and no body', async () => {
    const { queue, endpoint } = setup();
    const missing = `${endpoint}/000000000000/absent-${unique()}.fifo`;
    const error = await queue
      .sendMessage({
        QueueUrl: missing,
        MessageBody: '{"secret":"never quoted"}',
        MessageGroupId: 'g',
        MessageDeduplicationId: unique(),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect((error as AwsRequestError).errorType).toMatch(/QueueDoesNotExist|NonExistentQueue/);
    expect((error as AwsRequestError).message).not.toContain('never quoted');
  });
}

describe('signed SQS calls against fauxqs (the local stack)', () => {
  let sdk: SQSClient;
  beforeAll(() => {
    const stack = localStack();
    sdk = new SQSClient({ region: stack.region, ...awsClientConfig('sqs', stack.env) });
  });
  afterAll(() => sdk?.destroy());
  queueCalls(() => ({
    queue: signedQueueClient({ target: () => serviceTarget('sqs', localStack().env) }),
    sdk,
    endpoint: localStack().endpoints.sqs,
    // fauxqs refuses an entry over the queue's MaximumMessageSize alone, as SQS does.
    refused: async (client) => {
      const { QueueUrl = '' } = await client.send(
        new CreateQueueCommand({
          QueueName: `signed-small-${unique()}.fifo`,
          Attributes: { FifoQueue: 'true', MaximumMessageSize: '1024' },
        }),
      );
      const entry = {
        Id: '',
        MessageBody: JSON.stringify({ n: 'x'.repeat(2000) }),
        MessageGroupId: 'h',
        MessageDeduplicationId: unique(),
      };
      return { queueUrl: QueueUrl, entry };
    },
  }));

  it('records each call as IAM authorises it: the action, on the queue its URL names', async () => {
    const stack = localStack();
    const log = createAwsCallLog({
      accountId: '000000000000',
      region: stack.region,
      physicalIds: {},
      partitionKey: 'pk',
    });
    const queue = queueClientFor(stack.env, { observe: recordSignedCalls(log) });
    const queueUrl = stack.queues.SyncJobsQueue ?? '';
    await actingAs('callback', () =>
      queue.sendMessageBatch({
        QueueUrl: queueUrl,
        Entries: [{ Id: '0', MessageBody: '{}', MessageGroupId: 'iam', MessageDeduplicationId: unique() }],
      }),
    );
    const name = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
    expect(log.calls).toEqual([
      {
        functionName: 'callback',
        action: 'sqs:SendMessage',
        resource: expect.stringMatching(
          new RegExp(`^arn:aws:sqs:${stack.region}:\\d+:${name.replace('.', '\\.')}$`),
        ),
      },
    ]);
    await drain(sdk, queueUrl);
  });
});

describeWithPythonTools('signed SQS calls against moto', () => {
  const REGION = 'ap-southeast-1';
  let moto: MotoServer;
  let sdk: SQSClient;
  beforeAll(async () => {
    moto = await startMotoServer(REGION);
    sdk = new SQSClient(moto.clientConfig);
  }, 60_000);
  afterAll(async () => {
    sdk?.destroy();
    await moto?.stop();
  });
  queueCalls(() => ({
    queue: signedQueueClient({
      target: () =>
        serviceTarget('sqs', { AWS_REGION: REGION, KF_BRIDGE_LOCAL_ENDPOINTS: `sqs=${moto.endpoint}` }),
    }),
    sdk,
    endpoint: moto.endpoint,
    // moto fails a call with an entry over the size limit whole; alone it refuses an entry's DelaySeconds over
    // 900, which kf-bridge never sends: sent here as it stands, to see a per-entry refusal read.
    refused: async (client) => {
      const { QueueUrl = '' } = await client.send(
        new CreateQueueCommand({ QueueName: `signed-std-${unique()}` }),
      );
      const entry = { Id: '', MessageBody: '{"n":2}', DelaySeconds: 1800 } as BatchEntry;
      return { queueUrl: QueueUrl, entry };
    },
  }));
});
