import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { MessageLedger } from '../../../lib/inbound/ledger';
import { documentClientItemStore } from '../../../lib/items/documentClientItemStore';
import type { ItemStore } from '../../../lib/items/itemStore';
import { signedItemStore } from '../../../lib/items/signedItemStore';
import { answer, awsStandInForTheseTests } from '../../support/awsStandIn';

const JSON_1_0 = { 'content-type': 'application/x-amz-json-1.0' };
const standIn = awsStandInForTheseTests(answer(200, '{}', JSON_1_0));
const script = (...bodies: object[]) => {
  standIn.reset();
  standIn.answers = bodies.map((body) => answer(200, JSON.stringify(body), JSON_1_0));
};
const sent = () => standIn.received.map((request) => JSON.parse(request.body) as Record<string, unknown>);

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const implementations: Record<string, () => ItemStore> = {
  "the SDK's DocumentClient": () =>
    documentClientItemStore(
      DynamoDBDocumentClient.from(
        new DynamoDBClient({ endpoint: standIn.endpoint.href, region: 'us-east-1', credentials }),
      ),
    ),
  'signed requests': () =>
    signedItemStore({
      target: () => ({
        endpoint: standIn.endpoint,
        region: 'us-east-1',
        credentials: async () => credentials,
      }),
    }),
};

const TABLE = 'state';
const key = (sk: string) => ({ pk: { S: 'MSGID#default#wk1' }, sk: { S: sk } });

describe.each(Object.entries(implementations))('what DynamoDB left unprocessed, through %s', (_, items) => {
  it('answers the unprocessed keys of a batch read as they were asked for, and the ledger asks again for them', async () => {
    script(
      {
        Responses: { [TABLE]: [{ sk: { S: 'm1' } }] },
        UnprocessedKeys: { [TABLE]: { Keys: [key('m2')], ProjectionExpression: 'sk', ConsistentRead: true } },
      },
      { Responses: { [TABLE]: [{ sk: { S: 'm2' } }] }, UnprocessedKeys: {} },
    );
    const first = await items().batchGet({
      RequestItems: { [TABLE]: { Keys: [{ pk: 'MSGID#default#wk1', sk: 'm1' }] } },
    });
    expect(first).toMatchObject({
      Responses: { [TABLE]: [{ sk: 'm1' }] },
      UnprocessedKeys: {
        [TABLE]: {
          Keys: [{ pk: 'MSGID#default#wk1', sk: 'm2' }],
          ProjectionExpression: 'sk',
          ConsistentRead: true,
        },
      },
    });

    script(
      {
        Responses: { [TABLE]: [{ sk: { S: 'm1' } }] },
        UnprocessedKeys: { [TABLE]: { Keys: [key('m2')], ProjectionExpression: 'sk', ConsistentRead: true } },
      },
      { Responses: { [TABLE]: [{ sk: { S: 'm2' } }] }, UnprocessedKeys: {} },
    );
    const seen = await new MessageLedger(items(), TABLE).seen('default', 'wk1', ['m1', 'm2', 'm3']);
    expect([...seen].sort()).toEqual(['m1', 'm2']);
    expect(sent().map((body) => body.RequestItems)).toEqual([
      {
        [TABLE]: {
          Keys: [key('m1'), key('m2'), key('m3')],
          ProjectionExpression: 'sk',
          ConsistentRead: true,
        },
      },
      { [TABLE]: { Keys: [key('m2')], ProjectionExpression: 'sk', ConsistentRead: true } },
    ]);
  });

  it('answers the unprocessed writes of a batch write as they were asked for, and the ledger writes them again', async () => {
    const put = (sk: string) => ({ PutRequest: { Item: { ...key(sk), ttl: { N: '1800' } } } });
    script({ UnprocessedItems: { [TABLE]: [put('m2'), { DeleteRequest: { Key: key('m3') } }] } });
    expect(
      await items().batchWrite({
        RequestItems: { [TABLE]: [{ PutRequest: { Item: { pk: 'MSGID#default#wk1', sk: 'm1' } } }] },
      }),
    ).toMatchObject({
      UnprocessedItems: {
        [TABLE]: [
          { PutRequest: { Item: { pk: 'MSGID#default#wk1', sk: 'm2', ttl: 1800 } } },
          { DeleteRequest: { Key: { pk: 'MSGID#default#wk1', sk: 'm3' } } },
        ],
      },
    });

    script(
      { UnprocessedItems: { [TABLE]: [{ PutRequest: { Item: { ...key('m2'), ttl: { N: '1800' } } } }] } },
      {},
    );
    await new MessageLedger(items(), TABLE).record(
      'default',
      'wk1',
      [
        { msgid: 'm1', sentAt: 1, pulledAt: 2 },
        { msgid: 'm2', sentAt: 1, pulledAt: 2 },
      ],
      1_000,
    );
    const [firstWrite, retry] = sent().map((body) => body.RequestItems as Record<string, unknown[]>);
    expect(firstWrite?.[TABLE]).toHaveLength(2);
    expect(retry).toEqual({ [TABLE]: [{ PutRequest: { Item: { ...key('m2'), ttl: { N: '1800' } } } }] });
  });
});
