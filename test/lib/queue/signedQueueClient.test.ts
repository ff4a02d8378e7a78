import { createHash } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { AwsRequestError, type ServiceTarget } from '../../../lib/aws/signedRequest';
import type { QueueClient } from '../../../lib/queue/queueClient';
import { signedQueueClient } from '../../../lib/queue/signedQueueClient';
import { answer, awsStandInForTheseTests, drop, hang, type Reply } from '../../support/awsStandIn';
import { expectedSignature } from '../../support/sigv4';

const SECRET = 'secret';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET };
const JSON_1_0 = { 'content-type': 'application/x-amz-json-1.0' };
const sqs = awsStandInForTheseTests(answer(500, '{}', JSON_1_0));
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/sync-jobs.fifo';
const BODY = '{"secret":"never quoted"}';
const MESSAGE = {
  QueueUrl: QUEUE_URL,
  MessageBody: BODY,
  MessageGroupId: 'g',
  MessageDeduplicationId: 'd',
};

const client = (policy = {}): QueueClient =>
  signedQueueClient({
    target: (): ServiceTarget => ({
      endpoint: sqs.endpoint,
      region: 'us-east-1',
      credentials: async () => credentials,
    }),
    policy: { baseDelayMs: 5, throttledBaseDelayMs: 5, ...policy },
  });
/** The SDK's own client on the same stand-in: what its answers to the same scripts are held against. */
const sdk = () =>
  new SQSClient({
    endpoint: sqs.endpoint.href,
    region: 'us-east-1',
    credentials,
    retryStrategy: undefined,
  });

const ok = (body: object): Reply => answer(200, JSON.stringify(body), JSON_1_0);
const sent = ok({ MessageId: 'm1', MD5OfMessageBody: md5(BODY) });
/** An SQS JSON error as SQS sends it: the type in the body, the query code in x-amzn-query-error. */
const refusal = (status: number, type: string, code: string, fault = 'Sender'): Reply =>
  answer(status, JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message: `about ${BODY}` }), {
    ...JSON_1_0,
    'x-amzn-query-error': `${code};${fault}`,
  });

/** How a SendMessage ended, and after how many tries: the signed client's or the SDK's. */
async function outcome(send: () => Promise<unknown>, replies: Reply[]): Promise<string> {
  sqs.reset();
  sqs.answers = [...replies];
  try {
    await send();
    return `sent after ${sqs.received.length}`;
  } catch {
    return `failed after ${sqs.received.length}`;
  }
}

describe('signed SQS calls', () => {
  it('send SendMessage over the JSON 1.0 protocol to the service endpoint, signed, the queue URL in the body', async () => {
    sqs.answers = [sent];
    expect(await client().sendMessage(MESSAGE)).toEqual({ MessageId: 'm1' });
    const [request] = sqs.received;
    expect(request).toMatchObject({ method: 'POST', path: '/' });
    expect(request?.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.SendMessage',
    });
    expect(JSON.parse(request?.body ?? '')).toEqual(MESSAGE);
    expect(String(request?.headers.authorization)).toContain(`/us-east-1/sqs/aws4_request`);
    expect(String(request?.headers.authorization)).toContain(expectedSignature(request as never, SECRET));
  });

  it.each([
    [
      'throttling (RequestThrottled) then success',
      [refusal(403, 'RequestThrottled', 'RequestThrottled'), sent],
    ],
    [
      'a throttling the model does not know, named by its query code',
      [refusal(400, 'Unknown', 'ThrottlingException'), sent],
    ],
    ['5xx twice then success', [answer(500, '{}', JSON_1_0), answer(503, '', JSON_1_0), sent]],
    ['a dropped connection then success', [drop, sent]],
    ['5xx three times', [500, 502, 503].map((status) => answer(status, '{}', JSON_1_0))],
    [
      'a queue that does not exist',
      [refusal(400, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')],
    ],
    ['KMS throttling (the SDK does not retry it)', [refusal(400, 'KmsThrottled', 'KMS.ThrottlingException')]],
    ['a wrong MD5OfMessageBody', [ok({ MessageId: 'm1', MD5OfMessageBody: md5('other') })]],
  ])('end as the SDK ends: %s', async (_, replies) => {
    const ours = await outcome(() => client().sendMessage(MESSAGE), replies);
    const theirs = await outcome(() => sdk().send(new SendMessageCommand(MESSAGE)), replies);
    expect(ours).toBe(theirs);
  });

  it('fail a call to a queue that does not exist with its type and code, quoting nothing of the body', async () => {
    sqs.answers = [refusal(400, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')];
    const error = (await client()
      .sendMessage(MESSAGE)
      .catch((e: unknown) => e)) as AwsRequestError;
    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error).toMatchObject({ errorType: 'QueueDoesNotExist', httpStatus: 400 });
    expect(error.refusal?.details).toEqual({
      code: 'AWS.SimpleQueueService.NonExistentQueue',
      fault: 'Sender',
    });
    expect(error.message).not.toContain('never quoted');
    expect(sqs.received).toHaveLength(1);
  });

  it('fail a SendMessage whose answer has another MD5 than the body as sent, quoting nothing of the body', async () => {
    sqs.answers = [ok({ MessageId: 'm1', MD5OfMessageBody: md5('other') })];
    const error = (await client()
      .sendMessage(MESSAGE)
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ retryable: true, message: expect.stringContaining('MD5OfMessageBody') });
    expect(error.message).not.toContain('never quoted');
  });

  it('answer per entry: taken, refused, and one whose MD5 is wrong as not taken', async () => {
    sqs.answers = [
      ok({
        Successful: [
          { Id: '0', MessageId: 'a', MD5OfMessageBody: md5('{"n":0}') },
          { Id: '2', MessageId: 'c', MD5OfMessageBody: md5('tampered') },
        ],
        Failed: [{ Id: '1', Code: 'InvalidMessageContents', SenderFault: true, Message: 'about {"n":1}' }],
      }),
    ];
    const answerOf = await client().sendMessageBatch({
      QueueUrl: QUEUE_URL,
      Entries: [0, 1, 2].map((n) => ({ Id: String(n), MessageBody: `{"n":${n}}`, MessageGroupId: `g${n}` })),
    });
    expect(answerOf).toEqual({
      Successful: [{ Id: '0', MessageId: 'a' }],
      Failed: [
        { Id: '2', Code: 'MD5OfMessageBodyMismatch', SenderFault: false },
        { Id: '1', Code: 'InvalidMessageContents', SenderFault: true },
      ],
    });
    expect(sqs.received[0]?.headers['x-amz-target']).toBe('AmazonSQS.SendMessageBatch');
  });

  it('send ChangeMessageVisibility and take its empty answer', async () => {
    sqs.answers = [answer(200, '', JSON_1_0)];
    await client().changeMessageVisibility({ QueueUrl: QUEUE_URL, ReceiptHandle: 'r', VisibilityTimeout: 4 });
    expect(sqs.received[0]?.headers['x-amz-target']).toBe('AmazonSQS.ChangeMessageVisibility');
    expect(JSON.parse(sqs.received[0]?.body ?? '')).toEqual({
      QueueUrl: QUEUE_URL,
      ReceiptHandle: 'r',
      VisibilityTimeout: 4,
    });
  });

  it('abandon a try with no answer and fail after its tries, within the call timeout', async () => {
    sqs.answers = [hang, hang, hang];
    const started = Date.now();
    const error = await client({ attemptTimeoutMs: 100, callTimeoutMs: 2_000 })
      .sendMessage(MESSAGE)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      retryable: true,
      message: expect.stringContaining('no answer within 100 ms'),
    });
    expect(sqs.received).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stop when its caller gives up', async () => {
    sqs.answers = [hang];
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 50);
    const error = await client()
      .sendMessage(MESSAGE, { signal: caller.signal })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ message: expect.stringContaining('given up by its caller') });
    expect(sqs.received).toHaveLength(1);
  });
});
