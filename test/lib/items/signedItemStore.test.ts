import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AwsRequestError, type ObservedRequest, type ServiceTarget } from '../../../lib/aws/signedRequest';
import { DynamoReplayGuard } from '../../../lib/callback/replayGuard';
import { conditional, isConditionFailure } from '../../../lib/dynamo';
import { DependencyError, UnauthorizedError } from '../../../lib/errors';
import { UnsupportedValueError } from '../../../lib/items/attributeValues';
import { signedItemStore } from '../../../lib/items/signedItemStore';
import { answer, awsStandInForTheseTests, drop, hang, type ReceivedRequest } from '../../support/awsStandIn';
import { expectedSignature } from '../../support/sigv4';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const target = (): ServiceTarget => ({
  endpoint: dynamo.endpoint,
  region: 'ap-southeast-1',
  credentials: async () => ({
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: SECRET,
    sessionToken: 'session-1',
  }),
});
/** Fast enough for tests; the shapes of the limits are what matter. */
const policy = { baseDelayMs: 5, attemptTimeoutMs: 300, callTimeoutMs: 2_000 };
const store = (observe?: (request: ObservedRequest) => undefined) =>
  signedItemStore({ target, policy, ...(observe && { observe }) });

/** An answer of DynamoDB's JSON 1.0 protocol. */
const dynamoAnswer = (status: number, body: string) =>
  answer(status, body, { 'content-type': 'application/x-amz-json-1.0' });
const ok = (body: object) => dynamoAnswer(200, JSON.stringify(body));
const refusal = (status: number, type: string, extra: object = {}) =>
  dynamoAnswer(
    status,
    JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'said', ...extra }),
  );

/** A stand-in for DynamoDB: unless a test says otherwise, it answers each call with no item. */
const dynamo = awsStandInForTheseTests(ok({}));

/** The replay guard's claim, as it asks it. */
const CLAIM = {
  TableName: 'kf-bridge-state',
  Key: { pk: 'PUSH#default', sk: 'c0ffee' },
  UpdateExpression: 'SET bodyHash = :body, #ttl = :ttl',
  ConditionExpression: 'attribute_not_exists(bodyHash) OR bodyHash = :body',
  ExpressionAttributeNames: { '#ttl': 'ttl' },
  ExpressionAttributeValues: { ':body': 'beef', ':ttl': 1_800_000_301 },
  ReturnValues: 'ALL_OLD',
} as const;

/** Everything an error carries that a log line could show: message, stack, properties, causes. */
const everything = (error: unknown) => `${inspect(error, { depth: null })} ${JSON.stringify(error)}`;

describe('item calls over signed requests', () => {
  it("send an UpdateItem of DynamoDB's JSON 1.0 protocol, signed for dynamodb, and read its old attributes as plain values", async () => {
    dynamo.answers = [
      ok({
        Attributes: {
          pk: { S: 'PUSH#default' },
          bodyHash: { S: 'beef' },
          ttl: { N: '1800000301' },
          processed: { BOOL: true },
        },
      }),
    ];

    const { Attributes } = await store().update(CLAIM);

    expect(Attributes).toEqual({ pk: 'PUSH#default', bodyHash: 'beef', ttl: 1_800_000_301, processed: true });
    const [request] = dynamo.received as [ReceivedRequest];
    expect(request).toMatchObject({ method: 'POST', path: '/' });
    expect(request.headers).toMatchObject({
      'x-amz-target': 'DynamoDB_20120810.UpdateItem',
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-security-token': 'session-1',
      host: dynamo.endpoint.host,
    });
    expect(JSON.parse(request.body)).toEqual({
      TableName: 'kf-bridge-state',
      Key: { pk: { S: 'PUSH#default' }, sk: { S: 'c0ffee' } },
      UpdateExpression: 'SET bodyHash = :body, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(bodyHash) OR bodyHash = :body',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':body': { S: 'beef' }, ':ttl': { N: '1800000301' } },
      ReturnValues: 'ALL_OLD',
    });
    const authorization = String(request.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/ap-southeast-1\/dynamodb\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
    );
    expect(/SignedHeaders=(\S+),/.exec(authorization)?.[1]?.split(';')).toEqual(
      expect.arrayContaining(['content-type', 'host', 'x-amz-date', 'x-amz-security-token', 'x-amz-target']),
    );
    expect(authorization.endsWith(`Signature=${expectedSignature(request, SECRET)}`)).toBe(true);
  });

  it('answer an UpdateItem with no old attributes, and a GetItem of no item, with none', async () => {
    dynamo.answers = [ok({}), ok({})];
    expect(await store().update(CLAIM)).toEqual({});
    expect(await store().get({ TableName: 't', Key: { pk: 'a', sk: 'b' } })).toEqual({});
  });

  it('send a GetItem, consistent when asked, and read its item as plain values', async () => {
    dynamo.answers = [
      ok({
        Item: {
          sk: { S: 'oFollower' },
          repliesLeft: { N: '5' },
          session: { NULL: true },
          seen: { L: [{ S: 'a' }, { M: { at: { N: '1.5' } } }] },
        },
      }),
    ];

    const { Item } = await store().get({
      TableName: 'kf-bridge-state',
      Key: { pk: 'BUDGET#default#mp', sk: 'oFollower' },
      ConsistentRead: true,
    });

    expect(Item).toEqual({ sk: 'oFollower', repliesLeft: 5, session: null, seen: ['a', { at: 1.5 }] });
    const [request] = dynamo.received as [ReceivedRequest];
    expect(request.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(JSON.parse(request.body)).toEqual({
      TableName: 'kf-bridge-state',
      Key: { pk: { S: 'BUDGET#default#mp' }, sk: { S: 'oFollower' } },
      ConsistentRead: true,
    });
  });

  it('ask for the consumed capacity when told to, and hand it back', async () => {
    dynamo.answers = [ok({ ConsumedCapacity: { TableName: 'kf-bridge-state', CapacityUnits: 1 } })];
    const output = await store().update({ ...CLAIM, ReturnConsumedCapacity: 'TOTAL' });
    expect(output).toEqual({ ConsumedCapacity: { TableName: 'kf-bridge-state', CapacityUnits: 1 } });
    expect(JSON.parse(dynamo.received[0]?.body ?? '')).toMatchObject({ ReturnConsumedCapacity: 'TOTAL' });
  });

  it('throw a failed condition as one isConditionFailure knows, and do not try it again', async () => {
    dynamo.answers = [refusal(400, 'ConditionalCheckFailedException')];
    const error = await store()
      .update(CLAIM)
      .catch((e: unknown) => e);
    expect(isConditionFailure(error)).toBe(true);
    expect(error).toMatchObject({ errorType: 'ConditionalCheckFailedException', httpStatus: 400 });
    expect(dynamo.received).toHaveLength(1);

    // As the stores see it: conditional() says false, the replay guard that the push came with another body.
    dynamo.answers = [refusal(400, 'ConditionalCheckFailedException')];
    expect(await conditional('budget event', () => store().update(CLAIM))).toBe(false);
    dynamo.answers = [refusal(400, 'ConditionalCheckFailedException')];
    const push = { app: 'default', timestamp: '1', nonce: '2', signature: 'abc', body: 'x' };
    await expect(new DynamoReplayGuard(store(), 'state').claim(push, 100)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });

  it('tries again when DynamoDB throttles, answers 5xx or drops the connection, each try signed anew', async () => {
    dynamo.answers = [
      refusal(400, 'ProvisionedThroughputExceededException'),
      refusal(400, 'ThrottlingException'),
      ok({}),
      refusal(400, 'RequestLimitExceeded'),
      refusal(500, 'InternalServerError'),
      ok({}),
      dynamoAnswer(503, '<html>Service Unavailable</html>'),
      drop,
      ok({ Attributes: { processed: { BOOL: true } } }),
    ];
    expect(await store().update(CLAIM)).toEqual({});
    expect(await store().update(CLAIM)).toEqual({});
    expect(await store().update(CLAIM)).toEqual({ Attributes: { processed: true } });
    expect(dynamo.received).toHaveLength(9);
    for (const request of dynamo.received)
      expect(String(request.headers.authorization)).toContain(expectedSignature(request, SECRET));
  });

  it('gives up after 3 tries with a retryable error naming what DynamoDB said', async () => {
    dynamo.answers = [1, 2, 3].map(() => refusal(400, 'ProvisionedThroughputExceededException'));
    const error = await store()
      .update(CLAIM)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error).toMatchObject({
      retryable: true,
      message: 'DynamoDB UpdateItem: HTTP 400 ProvisionedThroughputExceededException (3 tries)',
    });
    expect(dynamo.received).toHaveLength(3);
  });

  it('does not try again what DynamoDB refused: a bad request, access denied, a missing table', async () => {
    for (const type of ['ValidationException', 'AccessDeniedException', 'ResourceNotFoundException']) {
      dynamo.received = [];
      dynamo.answers = [refusal(400, type)];
      const error = await store()
        .update(CLAIM)
        .catch((e: unknown) => e);
      expect(error, type).toBeInstanceOf(AwsRequestError);
      expect(isConditionFailure(error), type).toBe(false);
      expect((error as Error).message, type).toBe(`DynamoDB UpdateItem: HTTP 400 ${type}`);
      expect(dynamo.received, type).toHaveLength(1);
    }
  });

  it('ends a call with the signal it was given, so a slow table answers 503 in time rather than never', async () => {
    dynamo.answers = [1, 2, 3].map(() => hang);
    const started = Date.now();
    const guard = new DynamoReplayGuard(
      signedItemStore({ target, policy: { attemptTimeoutMs: 5_000 } }),
      'state',
    );
    const push = { app: 'default', timestamp: '1', nonce: '2', signature: 'abc', body: 'x' };
    await expect(guard.claim({ ...push, signal: AbortSignal.timeout(100) }, 100)).rejects.toMatchObject({
      name: 'DependencyError',
      status: 503,
    });
    await expect(guard.processed({ ...push, signal: AbortSignal.timeout(100) })).rejects.toBeInstanceOf(
      DependencyError,
    );
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(dynamo.received).toHaveLength(2);
  });

  it('bounds a call by its own budget when no signal ends it sooner', async () => {
    dynamo.answers = [1, 2, 3].map(() => hang);
    const started = Date.now();
    const error = await signedItemStore({ target, policy: { ...policy, callTimeoutMs: 400 } })
      .update(CLAIM)
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((error as Error).message).toBe('DynamoDB UpdateItem: no answer within 400 ms');
  });

  it('never puts an item value into its errors: neither what it was given nor what DynamoDB answered', async () => {
    const value = 'oSecretOpenid0123Zq9Xv';
    const cases: { status: number; body: string }[] = [
      // DynamoDB quotes what it was sent in some messages, and a failed condition may return the item.
      {
        status: 400,
        body: JSON.stringify({
          __type: 'com.amazon.coral.validate#ValidationException',
          message: `The parameter cannot be converted to a numeric value: ${value}`,
        }),
      },
      {
        status: 400,
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
          Item: { sk: { S: value } },
        }),
      },
      { status: 200, body: `{"Attributes":{"sk":{"S":"${value}"}` },
      { status: 200, body: `{"Attributes":{"sk":{"SS":["${value}"]}}}` },
      { status: 200, body: `{"Attributes":"${value}"}` },
      { status: 500, body: `<html>${value}</html>` },
      { status: 400, body: `{"__type":"Access ${value}"}` },
    ];
    for (const said of cases) {
      dynamo.answers = [1, 2, 3].map(() => dynamoAnswer(said.status, said.body));
      const error = await store()
        .update({ ...CLAIM, Key: { pk: 'BUDGET#default#mp', sk: value } })
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(said)).toBeInstanceOf(Error);
      expect(everything(error), JSON.stringify(said)).not.toMatch(/oSecretOpenid|Zq9Xv/);
    }

    dynamo.received = [];
    const refused = await store()
      .update({ ...CLAIM, ExpressionAttributeValues: { ':body': new Set([value]), ':ttl': 1 } })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnsupportedValueError);
    expect((refused as Error).message).toBe(
      'ExpressionAttributeValues.:body: a set is not supported (strings, numbers, booleans, null, lists, maps)',
    );
    expect(everything(refused)).not.toMatch(/oSecretOpenid|Zq9Xv/);
    expect(dynamo.received).toEqual([]);
  });

  it('tell an observer of each try, as the SDK names the operation and its parameters', async () => {
    const seen: string[] = [];
    dynamo.answers = [refusal(400, 'ThrottlingException'), ok({})];
    await store((request) => {
      seen.push(`${request.service}:${request.operation} ${JSON.stringify(request.input?.Key)}`);
      return undefined;
    }).update(CLAIM);
    const call = 'dynamodb:UpdateItem {"pk":{"S":"PUSH#default"},"sk":{"S":"c0ffee"}}';
    expect(seen).toEqual([call, call]);
  });
});
