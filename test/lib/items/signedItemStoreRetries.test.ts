import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ServiceTarget } from '../../../lib/aws/signedRequest';
import { DynamoReplayGuard } from '../../../lib/callback/replayGuard';
import { DependencyError, UnauthorizedError } from '../../../lib/errors';
import { documentClientItemStore } from '../../../lib/items/documentClientItemStore';
import type { ItemStore } from '../../../lib/items/itemStore';
import { signedItemStore } from '../../../lib/items/signedItemStore';

type Reply = { status: number; headers?: Record<string, string>; body: string };
let server: Server;
let endpoint: URL;
let replies: Reply[] = [];
let tries = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      tries++;
      const reply = replies.shift() ?? { status: 200, body: '{}' };
      response
        .writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0', ...reply.headers })
        .end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
afterEach(() => {
  vi.restoreAllMocks();
  replies = [];
  tries = 0;
});

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const signed = (): ItemStore =>
  signedItemStore({
    target: (): ServiceTarget => ({ endpoint, region: 'us-east-1', credentials: async () => credentials }),
    policy: { baseDelayMs: 5 },
  });
const sdk = (): ItemStore =>
  documentClientItemStore(
    DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: endpoint.href,
        region: 'us-east-1',
        credentials,
        maxAttempts: 3,
        retryStrategy: undefined,
      }),
    ),
  );

const push = { app: 'default', timestamp: '1', nonce: '2', signature: 'abc', body: 'x' };
/** What the callback makes of a claim: its answer, 401 (MP drops after three) or 503 (MP retries). */
async function claimOutcome(items: ItemStore, script: Reply[]): Promise<string> {
  replies = [...script];
  tries = 0;
  try {
    return `${await new DynamoReplayGuard(items, 'state').claim(push, 100)} after ${tries}`;
  } catch (error) {
    if (error instanceof UnauthorizedError) return `401 after ${tries}`;
    if (error instanceof DependencyError) return `503 after ${tries}`;
    return `other ${String(error)}`;
  }
}

const typed = (status: number, type: string, headers?: Record<string, string>): Reply => ({
  status,
  ...(headers && { headers }),
  body: JSON.stringify({ __type: type, message: 'm' }),
});
const OLD = {
  status: 200,
  body: JSON.stringify({ Attributes: { bodyHash: { S: 'h' }, processed: { BOOL: true } } }),
};

const scenarios: [string, Reply[]][] = [
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
  it.each(scenarios)('%s', async (_, script) => {
    const viaSdk = await claimOutcome(sdk(), script);
    const viaSigned = await claimOutcome(signed(), script);
    expect(viaSigned).toBe(viaSdk);
  });
});

describe('throttling backoff', () => {
  it('rides out a 500 ms throttling burst within the call budget (the SDK waits up to 1 s, then 2 s)', async () => {
    // The backoff is random within its bound (full jitter): drawn at the bound here, so the case does not hang on luck.
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    // The table throttles every request in the first 500 ms, then takes them; the call's own budget is 2 s.
    const throttle = typed(400, 'com.amazonaws.dynamodb.v20120810#ThrottlingException');
    replies = Array.from({ length: 50 }, () => throttle);
    const started = Date.now();
    const timer = setTimeout(() => {
      replies = [];
    }, 500);
    let outcome: string;
    try {
      outcome = await new DynamoReplayGuard(signed(), 'state').claim(push, 100);
    } catch (error) {
      outcome = `${(error as Error).constructor.name} after ${Date.now() - started} ms, ${tries} tries`;
    } finally {
      clearTimeout(timer);
    }
    expect(outcome).toBe('new');
  });
});
