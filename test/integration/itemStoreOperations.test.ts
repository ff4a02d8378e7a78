import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { isConditionFailure } from '../../lib/dynamo';
import type { Item, ItemStore } from '../../lib/items/itemStore';
import { documentClient, itemStores } from '../support/aws';
import { motoStateTable } from '../support/motoStateTable';
import { describeWithPythonTools } from '../support/pythonTools';
import { testEnv } from '../support/wechat';

const unique = () => Math.random().toString(36).slice(2);

/** Values as the stores write them: a send outcome's map, a TTL, a token's list of refresh times, empty text. */
const stored = (pk: string, sk: string): Item => ({
  pk,
  sk,
  outcome: { status: 'failed', reason: '', errcode: 45_015, at: 1_800_000_000_123 },
  undelivered: { failType: 6, at: 1_800_000_000_456 },
  forceRefreshes: [1_800_000_000_000, 1_800_000_060_000],
  ttl: 1_802_592_000,
  fraction: -0.25,
  cleared: true,
  customer: 'wmCustomer你好',
  nothing: null,
});

/**
 * Every item call beyond get and update, as the stores make them, through an ItemStore. Each case writes its
 * own partition: the implementations run against the same table.
 */
function itemOperations(items: () => ItemStore, read: () => DynamoDBDocumentClient, table: () => string) {
  it('puts an item with every kind of value the stores write, as the SDK reads it', async () => {
    const item = stored(`PUT#${unique()}`, 'item');
    expect(await items().put({ TableName: table(), Item: item })).not.toHaveProperty('Item');
    const Key = { pk: item.pk, sk: item.sk };
    expect(
      (await read().send(new GetCommand({ TableName: table(), Key, ConsistentRead: true }))).Item,
    ).toEqual(item);
    expect((await items().get({ TableName: table(), Key, ConsistentRead: true })).Item).toEqual(item);
  });

  it('refuses a put or a delete whose condition fails as one isConditionFailure knows, and deletes otherwise', async () => {
    const Key = { pk: `COND#${unique()}`, sk: 'x' };
    await items().put({ TableName: table(), Item: { ...Key, n: 1 } });
    const refusedPut = await items()
      .put({ TableName: table(), Item: { ...Key, n: 2 }, ConditionExpression: 'attribute_not_exists(pk)' })
      .catch((e: unknown) => e);
    expect(isConditionFailure(refusedPut)).toBe(true);
    const refusedDelete = await items()
      .delete({
        TableName: table(),
        Key,
        ConditionExpression: '#n = :n',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':n': 2 },
      })
      .catch((e: unknown) => e);
    expect(isConditionFailure(refusedDelete)).toBe(true);
    expect((await items().get({ TableName: table(), Key, ConsistentRead: true })).Item).toEqual({
      ...Key,
      n: 1,
    });

    await items().delete({ TableName: table(), Key });
    expect(await items().get({ TableName: table(), Key, ConsistentRead: true })).not.toHaveProperty('Item');
  });

  it('queries a partition page by page, filtered and projected as the stores ask', async () => {
    const pk = `QUERY#${unique()}`;
    const sks = ['a', 'b', 'c', 'd', 'e'];
    for (const [i, sk] of sks.entries())
      await items().put({
        TableName: table(),
        Item: { ...stored(pk, sk), outcome: { status: i % 2 ? 'sent' : 'failed' } },
      });

    const pages: Item[][] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await items().query({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ProjectionExpression: 'sk, #ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        Limit: 2,
        ...(ExclusiveStartKey && { ExclusiveStartKey }),
      });
      pages.push(page.Items ?? []);
      ExclusiveStartKey = page.LastEvaluatedKey;
      if (ExclusiveStartKey) expect(ExclusiveStartKey).toEqual({ pk, sk: page.Items?.at(-1)?.sk });
    } while (ExclusiveStartKey);
    expect(pages.flat()).toEqual(sks.map((sk) => ({ sk, ttl: 1_802_592_000 })));
    expect(pages.length).toBeGreaterThanOrEqual(3);

    const failed = await items().query({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'outcome.#status IN (:failed) OR attribute_exists(nowhere)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pk': pk, ':failed': 'failed' },
    });
    expect(failed.Items?.map((item) => item.sk)).toEqual(['a', 'c', 'e']);
    expect(failed.Items?.[0]).toEqual({ ...stored(pk, 'a'), outcome: { status: 'failed' } });
    expect(failed).not.toHaveProperty('LastEvaluatedKey');

    const none = await items().query({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `${pk}#none` },
    });
    expect(none.Items).toEqual([]);
  });

  it('writes and reads in batches, puts and deletes, projected and consistent', async () => {
    const pk = `BATCH#${unique()}`;
    const written = Array.from({ length: 25 }, (_, i) => stored(pk, `m${String(i).padStart(2, '0')}`));
    const { UnprocessedItems } = await items().batchWrite({
      RequestItems: { [table()]: written.map((Item) => ({ PutRequest: { Item } })) },
    });
    expect(UnprocessedItems?.[table()] ?? []).toEqual([]);
    await items().batchWrite({
      RequestItems: { [table()]: [{ DeleteRequest: { Key: { pk, sk: 'm00' } } }] },
    });

    const asked = ['m00', 'm01', 'm24', 'absent'].map((sk) => ({ pk, sk }));
    const answer = await items().batchGet({
      RequestItems: { [table()]: { Keys: asked, ProjectionExpression: 'sk', ConsistentRead: true } },
    });
    expect(answer.Responses?.[table()]?.map((item) => item.sk).sort()).toEqual(['m01', 'm24']);
    expect(answer.UnprocessedKeys?.[table()]?.Keys ?? []).toEqual([]);
    const full = await items().batchGet({ RequestItems: { [table()]: { Keys: [{ pk, sk: 'm24' }] } } });
    expect(full.Responses?.[table()]).toEqual([written[24]]);
  });

  it('passes ReturnConsumedCapacity through and answers what each call consumed', async () => {
    const pk = `CAPACITY#${unique()}`;
    const put = await items().put({
      TableName: table(),
      Item: { pk, sk: 'a' },
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(put.ConsumedCapacity?.CapacityUnits).toBeGreaterThan(0);
    const query = await items().query({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(query.ConsumedCapacity?.CapacityUnits).toBeGreaterThan(0);
    const batch = await items().batchGet({
      RequestItems: { [table()]: { Keys: [{ pk, sk: 'a' }] } },
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(batch.ConsumedCapacity?.[0]?.CapacityUnits).toBeGreaterThan(0);
    const written = await items().batchWrite({
      RequestItems: { [table()]: [{ DeleteRequest: { Key: { pk, sk: 'a' } } }] },
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(written.ConsumedCapacity?.[0]?.CapacityUnits).toBeGreaterThan(0);
    const deleted = await items().delete({
      TableName: table(),
      Key: { pk, sk: 'a' },
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(deleted.ConsumedCapacity?.CapacityUnits).toBeGreaterThan(0);
  });
}

describe("item calls over the SDK's DocumentClient, against DynamoDB Local", () => {
  itemOperations(
    () => itemStores().sdk,
    () => documentClient(),
    () => testEnv.STATE_TABLE,
  );
});

describe('signed item calls against DynamoDB Local', () => {
  itemOperations(
    () => itemStores().signed,
    () => documentClient(),
    () => testEnv.STATE_TABLE,
  );
});

describeWithPythonTools('signed item calls against DynamoDB (moto)', () => {
  const moto = motoStateTable('kf-bridge-moto-operations');
  itemOperations(moto.signed, moto.sdk, moto.table);
});
