import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServiceTarget } from '../../../lib/aws/signedRequest';
import { DynamoReplayGuard } from '../../../lib/callback/replayGuard';
import { DependencyError, UnauthorizedError } from '../../../lib/errors';
import { documentClientItemStore } from '../../../lib/items/documentClientItemStore';
import type { ItemStore } from '../../../lib/items/itemStore';
import { PUSH_ITEM_CALL_POLICY, signedItemStore } from '../../../lib/items/signedItemStore';
import { answer, awsStandInForTheseTests } from '../../support/awsStandIn';

/** One scripted DynamoDB answer. */
type Scripted = { status: number; headers?: Record<string, string>; body: string };
const JSON_1_0 = { 'content-type': 'application/x-amz-json-1.0' };
const standIn = awsStandInForTheseTests(answer(200, '{}', JSON_1_0));
const script = (answers: readonly Scripted[]) => {
  standIn.answers = answers.map(({ status, headers, body }) =>
    answer(status, body, { ...JSON_1_0, ...headers }),
  );
};
const tries = () => standIn.received.length;

afterEach(() => {
  vi.restoreAllMocks();
});

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const signed = (): ItemStore =>
  signedItemStore({
    target: (): ServiceTarget => ({
      endpoint: standIn.endpoint,
      region: 'us-east-1',
      credentials: async () => credentials,
    }),
    // The callback's: these are its replay guard's claims.
    policy: { ...PUSH_ITEM_CALL_POLICY, baseDelayMs: 5 },
  });
const sdk = (): ItemStore =>
  documentClientItemStore(
    DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: standIn.endpoint.href,
        region: 'us-east-1',
        credentials,
        maxAttempts: 3,
        retryStrategy: undefined,
      }),
    ),
  );

const push = { app: 'default', timestamp: '1', nonce: '2', signature: 'abc', body: 'x' };
/** What the callback makes of a claim: its answer, 401 (MP drops after three) or 503 (MP retries). */
async function claimOutcome(items: ItemStore, answers: Scripted[]): Promise<string> {
  standIn.reset();
  script(answers);
  try {
    return `${await new DynamoReplayGuard(items, 'state').claim(push, 100)} after ${tries()}`;
  } catch (error) {
    if (error instanceof UnauthorizedError) return `401 after ${tries()}`;
    if (error instanceof DependencyError) return `503 after ${tries()}`;
    return `other ${String(error)}`;
  }
}

const typed = (status: number, type: string, headers?: Record<string, string>): Scripted => ({
  status,
  ...(headers && { headers }),
  body: JSON.stringify({ __type: type, message: 'm' }),
});
const OLD = {
  status: 200,
  body: JSON.stringify({ Attributes: { bodyHash: { S: 'h' }, processed: { BOOL: true } } }),
};

const scenarios: [string, Scripted[]][] = [
  ['CCF with the prefix', [typed(400, 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException')]],
  ['CCF without the prefix', [typed(400, 'ConditionalCheckFailedException')]],
  [
    'CCF in x-amzn-errortype only',
    [
      {
        status: 400,
        headers: {
          'x-amzn-errortype':
            'ConditionalCheckFailedException:http://internal.amazon.com/coral/com.amazonaws.dynamodb.v20120810/',
        },
        body: '{}',
      },
    ],
  ],
  ['TransactionConflict', [typed(400, 'com.amazonaws.dynamodb.v20120810#TransactionConflictException')]],
  ['ValidationException', [typed(400, 'com.amazon.coral.validate#ValidationException')]],
  ['ResourceNotFound', [typed(400, 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException')]],
  ['400 with a non-JSON body', [{ status: 400, body: '<html>bad</html>' }]],
  [
    'throttled twice, then processed',
    [
      typed(400, 'com.amazonaws.dynamodb.v20120810#ThrottlingException'),
      typed(400, 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException'),
      OLD,
    ],
  ],
  ['5xx HTML, then new', [{ status: 503, body: '<html>down</html>' }]],
  [
    '5xx three times',
    [
      { status: 500, body: '<html/>' },
      { status: 502, body: '<html/>' },
      { status: 504, body: '<html/>' },
    ],
  ],
  [
    'ReplicatedWriteConflict (retryable in the SDK), then new',
    [typed(400, 'com.amazonaws.dynamodb.v20120810#ReplicatedWriteConflictException')],
  ],
];

describe('the replay guard claims the same through both item stores', () => {
  it.each(scenarios)('%s', async (_, answers) => {
    const viaSdk = await claimOutcome(sdk(), answers);
    const viaSigned = await claimOutcome(signed(), answers);
    expect(viaSigned).toBe(viaSdk);
  });
});

describe('throttling backoff', () => {
  it('rides out a 500 ms throttling burst within the call budget (the SDK waits up to 1 s, then 2 s)', async () => {
    // The backoff is random within its bound (full jitter): drawn at the bound here, so the case does not hang on luck.
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    // The table throttles every request in the first 500 ms, then takes them; the call's own budget is 2 s.
    const throttle = typed(400, 'com.amazonaws.dynamodb.v20120810#ThrottlingException');
    script(Array.from({ length: 50 }, () => throttle));
    const started = Date.now();
    const timer = setTimeout(() => {
      standIn.answers = [];
    }, 500);
    let outcome: string;
    try {
      outcome = await new DynamoReplayGuard(signed(), 'state').claim(push, 100);
    } catch (error) {
      outcome = `${(error as Error).constructor.name} after ${Date.now() - started} ms, ${tries()} tries`;
    } finally {
      clearTimeout(timer);
    }
    expect(outcome).toBe('new');
  });
});
