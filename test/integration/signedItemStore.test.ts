import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../lib/aws/clientConfig';
import { BudgetStore } from '../../lib/budgets';
import { DynamoReplayGuard } from '../../lib/callback/replayGuard';
import { isConditionFailure } from '../../lib/dynamo';
import { UnauthorizedError } from '../../lib/errors';
import { CursorStore } from '../../lib/inbound/cursors';
import { MessageLedger } from '../../lib/inbound/ledger';
import { documentClientItemStore } from '../../lib/items/documentClientItemStore';
import type { ItemStore } from '../../lib/items/itemStore';
import { itemStoreFor } from '../../lib/items/signedItemStore';
import { ExportProgress } from '../../lib/reports/progress';
import {
  actingAs,
  createAwsCallLog,
  createMeter,
  type InvocationTrace,
  meterDynamoDb,
  meterItemStore,
  recordAwsCalls,
  recordSignedCalls,
  traced,
  traceSignedCalls,
} from '../../local/metering';
import { documentClient, itemStores, localStack } from '../support/aws';
import { motoStateTable } from '../support/motoStateTable';
import { describeWithPythonTools } from '../support/pythonTools';
import { testEnv } from '../support/wechat';

const unique = () => Math.random().toString(36).slice(2);
/** A signed push the replay guard has not seen. */
const freshPush = () => ({
  app: 'default',
  timestamp: '1800000000',
  nonce: unique(),
  signature: 'abc',
  body: '<xml/>',
});

/** Every kind of value the signed item calls write, as an item of the state table holds them. */
const VALUES = {
  ':s': 'oFollower你好',
  ':empty': '',
  ':n': 1_800_000_000_000,
  ':fraction': -0.25,
  ':yes': true,
  ':nothing': null,
  ':list': ['a', 1, false, null, [2]],
  ':map': { nested: { at: 7, id: 'm1' }, none: {} },
};
/** Each attribute by a name placeholder: some of these names are DynamoDB reserved words. */
const NAMES = Object.fromEntries(
  ['s', 'emptyText', 'n', 'fraction', 'yes', 'nothing', 'list', 'map'].map((name) => [`#${name}`, name]),
);
const SET_ALL = `SET ${Object.keys(NAMES)
  .map((name, i) => `${name} = ${Object.keys(VALUES)[i]}`)
  .join(', ')}`;
const WRITTEN = {
  s: 'oFollower你好',
  emptyText: '',
  n: 1_800_000_000_000,
  fraction: -0.25,
  yes: true,
  nothing: null,
  list: ['a', 1, false, null, [2]],
  map: { nested: { at: 7, id: 'm1' }, none: {} },
};

/** What the callback does with a table: a replay record claimed and finished, an MP budget's conditional writes. */
function callbackItemCalls(items: () => ItemStore, read: () => DynamoDBDocumentClient, table: () => string) {
  it("writes every kind of value it supports as the SDK's DocumentClient reads it, and reads it back the same", async () => {
    const Key = { pk: `ROUNDTRIP#${unique()}`, sk: 'item' };
    const { Attributes } = await items().update({
      TableName: table(),
      Key,
      UpdateExpression: SET_ALL,
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: VALUES,
      ReturnValues: 'ALL_NEW',
    });
    expect(Attributes).toEqual({ ...Key, ...WRITTEN });
    expect((await read().send(new GetCommand({ TableName: table(), Key }))).Item).toEqual({
      ...Key,
      ...WRITTEN,
    });
    expect((await items().get({ TableName: table(), Key, ConsistentRead: true })).Item).toEqual({
      ...Key,
      ...WRITTEN,
    });
    expect(await items().get({ TableName: table(), Key: { pk: Key.pk, sk: 'absent' } })).not.toHaveProperty(
      'Item',
    );
  });

  it('claims a push once, knows it finished, and refuses its signature with another body', async () => {
    const guard = new DynamoReplayGuard(items(), table());
    const push = freshPush();
    expect(await guard.claim(push, 1_800_000_301)).toBe('new');
    expect(await guard.claim(push, 1_800_000_301)).toBe('unfinished');
    await guard.processed(push);
    expect(await guard.claim(push, 1_800_000_301)).toBe('processed');
    await expect(guard.claim({ ...push, body: '<xml>forged</xml>' }, 1_800_000_301)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });

  it("applies an MP follower's message and event once, and an older one never overrides a newer", async () => {
    const budgets = new BudgetStore(items(), table());
    const key = { app: 'default', scope: 'mp', customer: `o${unique()}` };
    const T = 1_800_000_000_000;
    await budgets.apply({ ...key, lastCustomerMessageAt: T, lastCustomerMessageId: 'm1' });
    await budgets.spend(key, 'message');
    // MP repeats the push: no new replies. An older message changes nothing.
    await budgets.apply({ ...key, lastCustomerMessageAt: T, lastCustomerMessageId: 'm1' });
    await budgets.apply({ ...key, lastCustomerMessageAt: T - 1000, lastCustomerMessageId: 'm0' });
    await budgets.apply({ ...key, lastEventAt: T + 5000 });
    await budgets.apply({ ...key, lastEventAt: T + 4000 });
    expect(await budgets.read(key)).toMatchObject({
      lastCustomerMessageAt: T,
      lastCustomerMessageId: 'm1',
      repliesLeft: 4,
      lastEventAt: T + 5000,
      eventRepliesLeft: 3,
    });
  });

  it('throws a refused condition as one isConditionFailure knows', async () => {
    const error = await items()
      .update({
        TableName: table(),
        Key: { pk: `COND#${unique()}`, sk: 'x' },
        UpdateExpression: 'SET n = :n',
        ConditionExpression: 'attribute_exists(n)',
        ExpressionAttributeValues: { ':n': 1 },
      })
      .catch((e: unknown) => e);
    expect(isConditionFailure(error)).toBe(true);
  });
}

describe('signed item calls against DynamoDB Local', () => {
  callbackItemCalls(
    () => itemStores().signed,
    () => documentClient(),
    () => testEnv.STATE_TABLE,
  );
});

describe("the local stack's records of signed item calls", () => {
  /** A push claimed, claimed again, finished, and claimed with another body: four UpdateItems, one refused. */
  const pushes = async (items: ItemStore) => {
    const guard = new DynamoReplayGuard(items, testEnv.STATE_TABLE);
    const push = freshPush();
    await guard.claim(push, 1_800_000_301);
    await guard.claim(push, 1_800_000_301);
    await guard.processed(push);
    await guard.claim({ ...push, body: 'other' }, 1_800_000_301).catch(() => {});
    await new BudgetStore(items, testEnv.STATE_TABLE).read({ app: 'default', scope: 'mp', customer: 'o1' });
  };

  /** The puller's and the sender's stores: batches, a query across the cursors, a put and a conditional refusal. */
  const pullAndSend = async (items: ItemStore, app: string) => {
    const cursors = new CursorStore(items, testEnv.STATE_TABLE);
    await cursors.commit(app, 'wk1', { version: 0 }, 'c1', 1_800_000_000_000);
    await cursors.commit(app, 'wk1', { version: 0 }, 'c1', 1_800_000_000_000);
    await cursors.known(app);
    const ledger = new MessageLedger(items, testEnv.STATE_TABLE);
    await ledger.record(app, 'wk1', [{ msgid: 'm1', sentAt: 1, pulledAt: 2 }], 1_800_000_000_000);
    await ledger.seen(app, 'wk1', ['m1', 'm2']);
    await new ExportProgress(items, testEnv.STATE_TABLE).record(
      app,
      { from: '2027-01-01', to: '2027-01-02' },
      '2027-01-01',
      1,
    );
    await new ExportProgress(items, testEnv.STATE_TABLE).finish(app, {
      from: '2027-01-01',
      to: '2027-01-02',
    });
  };

  it("meter the puller's and the sender's item calls, batches and queries too, as the SDK's metering does", async () => {
    const stack = localStack();
    const sdk = createMeter();
    const client = new DynamoDBClient({ region: stack.region, ...awsClientConfig('dynamodb', stack.env) });
    meterDynamoDb(client, sdk);
    await pullAndSend(documentClientItemStore(DynamoDBDocumentClient.from(client)), `sdk${unique()}`);
    const signed = createMeter();
    await pullAndSend(meterItemStore(itemStores().signed, signed), `signed${unique()}`);

    expect(signed.dynamodb).toEqual(sdk.dynamodb);
    expect(signed.dynamodb).toMatchObject({ requests: 7 });
    expect(signed.dynamodb.readUnits).toBeGreaterThan(0);
  });

  it("record the puller's and the sender's item calls as IAM authorises them, with their partition keys", async () => {
    const stack = localStack();
    const target = { accountId: '000000000000', region: stack.region, physicalIds: {}, partitionKey: 'pk' };
    const app = `iam${unique()}`;
    const sdkCalls = createAwsCallLog(target);
    const client = new DynamoDBClient({ region: stack.region, ...awsClientConfig('dynamodb', stack.env) });
    recordAwsCalls(client, 'dynamodb', sdkCalls);
    await actingAs('syncPuller', () =>
      pullAndSend(documentClientItemStore(DynamoDBDocumentClient.from(client)), app),
    );
    const signedCalls = createAwsCallLog(target);
    const items = itemStoreFor(stack.env, { observe: recordSignedCalls(signedCalls) });
    await actingAs('syncPuller', () => pullAndSend(items, app));

    expect(signedCalls.calls).toEqual(sdkCalls.calls);
    expect(signedCalls.calls.map((call) => `${call.action} ${call.leadingKeys}`)).toEqual([
      `dynamodb:UpdateItem CURSORS#${app}`,
      `dynamodb:Query CURSORS#${app}`,
      `dynamodb:BatchWriteItem MSGID#${app}#wk1`,
      `dynamodb:BatchGetItem MSGID#${app}#wk1`,
      `dynamodb:PutItem EXPORT#${app}`,
      `dynamodb:DeleteItem EXPORT#${app}`,
    ]);
  });

  it("meter requests and capacity units as the SDK's metering does", async () => {
    const stack = localStack();
    const sdk = createMeter();
    const client = new DynamoDBClient({ region: stack.region, ...awsClientConfig('dynamodb', stack.env) });
    meterDynamoDb(client, sdk);
    await pushes(documentClientItemStore(DynamoDBDocumentClient.from(client)));
    const signed = createMeter();
    await pushes(meterItemStore(itemStores().signed, signed));

    expect(signed.dynamodb).toEqual(sdk.dynamodb);
    expect(signed.dynamodb).toMatchObject({ requests: 5, readUnits: 1 });
    expect(signed.dynamodb.writeUnits).toBeGreaterThanOrEqual(4);
  });

  it('record each call as IAM authorises it, with its partition keys, and trace it in its invocation', async () => {
    const stack = localStack();
    const target = { accountId: '000000000000', region: stack.region, physicalIds: {}, partitionKey: 'pk' };
    const sdkCalls = createAwsCallLog(target);
    const client = new DynamoDBClient({ region: stack.region, ...awsClientConfig('dynamodb', stack.env) });
    recordAwsCalls(client, 'dynamodb', sdkCalls);
    await actingAs('callback', () => pushes(documentClientItemStore(DynamoDBDocumentClient.from(client))));
    const signedCalls = createAwsCallLog(target);
    const traces: InvocationTrace[] = [];
    const items = itemStoreFor(stack.env, {
      observe: (request) => {
        recordSignedCalls(signedCalls)(request);
        return traceSignedCalls()(request);
      },
    });
    await traced(
      'callback',
      () => actingAs('callback', () => pushes(items)),
      (trace) => traces.push(trace),
    )();

    expect(signedCalls.calls).toEqual(sdkCalls.calls);
    expect(signedCalls.calls.map((call) => `${call.action} ${call.leadingKeys}`)).toEqual([
      'dynamodb:UpdateItem PUSH#default',
      'dynamodb:GetItem BUDGET#default#mp',
    ]);
    expect(traces[0]?.calls.map((call) => `${call.service}:${call.operation}`)).toEqual([
      ...Array(4).fill('dynamodb:UpdateItem'),
      'dynamodb:GetItem',
    ]);
  });
});

describeWithPythonTools('signed item calls against DynamoDB (moto)', () => {
  const moto = motoStateTable('kf-bridge-moto-state');
  callbackItemCalls(moto.signed, moto.sdk, moto.table);
});
