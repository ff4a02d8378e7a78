import {
  type ErrorReader,
  jsonErrorOf,
  type Refusal,
  type RequestObserver,
  type RetryPolicy,
  type ServiceTarget,
  serviceTarget,
  signedRequests,
} from '../aws/signedRequest';
import { DependencyError } from '../errors';
import { fromAttributeMap, toAttributeMap } from './attributeValues';
import type { ConsumedCapacity, Item, ItemStore, KeysAndAttributes, WriteRequest } from './itemStore';

/**
 * The item calls over DynamoDB's JSON 1.0 protocol, signed and sent by lib/aws/signedRequest.ts, without the
 * DynamoDB SDK clients: they cost each function ~50 KB of bundle (and its cold start), and the DocumentClient's
 * middleware and marshalling CPU on every call of the hot paths.
 */

/**
 * DynamoDB's error type (`com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`), and not its message:
 * some quote what was sent (`The parameter cannot be converted to a numeric value: …`), and no item value goes into
 * an error or a log.
 */
export const dynamoDbErrorOf: ErrorReader = (body, headers) => {
  const { type } = jsonErrorOf(body, headers);
  return type ? { type } : {};
};

/** What DynamoDB says when it cannot take a call now; anything else, but a 5xx or no answer, is final. */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
/** Refusals the SDK's DynamoDB client marks retryable besides throttling (multi-Region strongly consistent tables). */
const PASSING = new Set(['ReplicatedWriteConflictException']);

export const retryableRefusal = (refusal: Refusal): boolean =>
  refusal.status >= 500 || THROTTLING.has(refusal.type ?? '') || PASSING.has(refusal.type ?? '');

/**
 * The functions that have seconds to spare (the puller, the sender, the api): the SDK's 3 tries, a try without an
 * answer abandoned after 2 s (the SDK would wait for ever on a connection that went silent), 6 s for the whole call.
 * After a throttle the SDK waits from 500 ms, and so does this.
 */
export const ITEM_CALL_POLICY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 50,
  throttledBaseDelayMs: 500,
  attemptTimeoutMs: 2_000,
  callTimeoutMs: 6_000,
  retryable: retryableRefusal,
};

/**
 * A callback answers WeCom and MP within 5 s, its calls ending with the request's deadline besides: a throttled or
 * unanswered call has 3 tries within 2 s. DynamoDB answers an item call in single-digit milliseconds; a short
 * throttling burst is ridden out rather than answered 503 (MP drops a push after 3 refusals).
 */
export const PUSH_ITEM_CALL_POLICY: RetryPolicy = {
  ...ITEM_CALL_POLICY,
  attemptTimeoutMs: 1_000,
  callTimeoutMs: 2_000,
};

export interface SignedItemStoreOptions {
  /** Where DynamoDB answers (serviceTarget('dynamodb', env)), looked up at the first call. */
  readonly target: () => ServiceTarget;
  readonly policy?: Partial<RetryPolicy>;
  /** Told of each try (the local stack's metering, tracing and IAM records). */
  readonly observe?: RequestObserver;
}

type Answer = Record<string, unknown>;

const utf8 = new TextDecoder();

/** The item calls to DynamoDB where `env` says it is (serviceTarget), as the functions make them. */
export function itemStoreFor(
  env: NodeJS.ProcessEnv,
  options: Omit<SignedItemStoreOptions, 'target'> = {},
): ItemStore {
  return signedItemStore({ target: () => serviceTarget('dynamodb', env), ...options });
}

export function signedItemStore(options: SignedItemStoreOptions): ItemStore {
  const dynamodb = signedRequests({
    service: 'dynamodb',
    name: 'DynamoDB',
    target: options.target,
    errorOf: dynamoDbErrorOf,
    ...(options.observe && { observe: options.observe }),
  });
  const policy: RetryPolicy = { ...ITEM_CALL_POLICY, ...options.policy };

  /** DynamoDB's one URL, made once: a URL is parsed anew each time it is made. */
  let url: URL | undefined;
  async function call(operation: string, input: Answer, signal: AbortSignal | undefined): Promise<Answer> {
    url ??= new URL('/', dynamodb.target().endpoint);
    const answer = await dynamodb.send(
      {
        operation,
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
        },
        body: JSON.stringify(input),
        input,
      },
      policy,
      signal,
    );
    let body: unknown;
    try {
      body = JSON.parse(utf8.decode(answer.body));
    } catch {}
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new DependencyError(
        `DynamoDB ${operation}: HTTP ${answer.status} with a body that is not its answer`,
      );
    return body as Answer;
  }

  /** A map DynamoDB answered with, as plain values; `at` names where it is in the answer. */
  const plainMap = (operation: string, map: unknown, at: string): Item => {
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw new DependencyError(`DynamoDB ${operation}: its answer's ${at} is not a map`);
    return fromAttributeMap(map as Answer, at);
  };
  /** An item map of the answer, as plain values; its absence is no item. */
  const mapOf = (operation: string, answer: Answer, field: string) =>
    answer[field] === undefined ? undefined : plainMap(operation, answer[field], field);
  const listOf = (operation: string, list: unknown, at: string): unknown[] => {
    if (!Array.isArray(list))
      throw new DependencyError(`DynamoDB ${operation}: its answer's ${at} is not a list`);
    return list;
  };
  /** A map of the answer by table name (Responses, UnprocessedKeys, UnprocessedItems), each table's entry read. */
  const byTable = <T>(
    operation: string,
    answer: Answer,
    field: string,
    read: (entry: unknown, at: string) => T,
  ): { [field: string]: Record<string, T> } | undefined => {
    const tables = answer[field];
    if (tables === undefined) return undefined;
    if (typeof tables !== 'object' || tables === null || Array.isArray(tables))
      throw new DependencyError(`DynamoDB ${operation}: its answer's ${field} is not a map`);
    return {
      [field]: Object.fromEntries(
        Object.entries(tables).map(([table, entry]) => [table, read(entry, `${field}.${table}`)]),
      ),
    };
  };
  const capacityOf = (answer: Answer) =>
    answer.ConsumedCapacity ? { ConsumedCapacity: answer.ConsumedCapacity as ConsumedCapacity } : {};
  const capacitiesOf = (answer: Answer) =>
    answer.ConsumedCapacity ? { ConsumedCapacity: answer.ConsumedCapacity as ConsumedCapacity[] } : {};
  const valuesOf = (values: Item | undefined) =>
    values && toAttributeMap(values, 'ExpressionAttributeValues');

  const typedKeys = (keys: KeysAndAttributes, at: string) => ({
    ...keys,
    Keys: keys.Keys.map((key, i) => toAttributeMap(key, `${at}.Keys[${i}]`)),
  });
  const plainKeys = (entry: unknown, at: string): KeysAndAttributes => {
    const keys = entry as { Keys?: unknown };
    return {
      ...(entry as KeysAndAttributes),
      Keys: listOf('BatchGetItem', keys?.Keys, `${at}.Keys`).map((key, i) =>
        plainMap('BatchGetItem', key, `${at}.Keys[${i}]`),
      ),
    };
  };
  const typedWrite = (request: WriteRequest, at: string) =>
    'PutRequest' in request
      ? { PutRequest: { Item: toAttributeMap(request.PutRequest.Item, `${at}.PutRequest.Item`) } }
      : { DeleteRequest: { Key: toAttributeMap(request.DeleteRequest.Key, `${at}.DeleteRequest.Key`) } };
  const plainWrite = (entry: unknown, at: string): WriteRequest => {
    const request = entry as { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } };
    if (request?.PutRequest)
      return {
        PutRequest: { Item: plainMap('BatchWriteItem', request.PutRequest.Item, `${at}.PutRequest.Item`) },
      };
    if (request?.DeleteRequest)
      return {
        DeleteRequest: {
          Key: plainMap('BatchWriteItem', request.DeleteRequest.Key, `${at}.DeleteRequest.Key`),
        },
      };
    throw new DependencyError(`DynamoDB BatchWriteItem: its answer's ${at} is not a write request`);
  };

  return {
    async get(input, options) {
      const answer = await call(
        'GetItem',
        {
          TableName: input.TableName,
          Key: toAttributeMap(input.Key, 'Key'),
          ConsistentRead: input.ConsistentRead,
          ProjectionExpression: input.ProjectionExpression,
          ExpressionAttributeNames: input.ExpressionAttributeNames,
          ReturnConsumedCapacity: input.ReturnConsumedCapacity,
        },
        options?.signal,
      );
      const Item = mapOf('GetItem', answer, 'Item');
      return { ...(Item && { Item }), ...capacityOf(answer) };
    },

    async update(input, options) {
      const answer = await call(
        'UpdateItem',
        {
          TableName: input.TableName,
          Key: toAttributeMap(input.Key, 'Key'),
          UpdateExpression: input.UpdateExpression,
          ConditionExpression: input.ConditionExpression,
          ExpressionAttributeNames: input.ExpressionAttributeNames,
          ExpressionAttributeValues: valuesOf(input.ExpressionAttributeValues),
          ReturnValues: input.ReturnValues,
          ReturnConsumedCapacity: input.ReturnConsumedCapacity,
        },
        options?.signal,
      );
      const Attributes = mapOf('UpdateItem', answer, 'Attributes');
      return { ...(Attributes && { Attributes }), ...capacityOf(answer) };
    },

    async put(input, options) {
      const answer = await call(
        'PutItem',
        {
          TableName: input.TableName,
          Item: toAttributeMap(input.Item, 'Item'),
          ConditionExpression: input.ConditionExpression,
          ExpressionAttributeNames: input.ExpressionAttributeNames,
          ExpressionAttributeValues: valuesOf(input.ExpressionAttributeValues),
          ReturnConsumedCapacity: input.ReturnConsumedCapacity,
        },
        options?.signal,
      );
      return capacityOf(answer);
    },

    async delete(input, options) {
      const answer = await call(
        'DeleteItem',
        {
          TableName: input.TableName,
          Key: toAttributeMap(input.Key, 'Key'),
          ConditionExpression: input.ConditionExpression,
          ExpressionAttributeNames: input.ExpressionAttributeNames,
          ExpressionAttributeValues: valuesOf(input.ExpressionAttributeValues),
          ReturnConsumedCapacity: input.ReturnConsumedCapacity,
        },
        options?.signal,
      );
      return capacityOf(answer);
    },

    async query(input, options) {
      const answer = await call(
        'Query',
        {
          TableName: input.TableName,
          KeyConditionExpression: input.KeyConditionExpression,
          FilterExpression: input.FilterExpression,
          ProjectionExpression: input.ProjectionExpression,
          ExpressionAttributeNames: input.ExpressionAttributeNames,
          ExpressionAttributeValues: valuesOf(input.ExpressionAttributeValues),
          Limit: input.Limit,
          ExclusiveStartKey:
            input.ExclusiveStartKey && toAttributeMap(input.ExclusiveStartKey, 'ExclusiveStartKey'),
          ReturnConsumedCapacity: input.ReturnConsumedCapacity,
        },
        options?.signal,
      );
      const Items = listOf('Query', answer.Items ?? [], 'Items').map((item, i) =>
        plainMap('Query', item, `Items[${i}]`),
      );
      const LastEvaluatedKey = mapOf('Query', answer, 'LastEvaluatedKey');
      return {
        Items,
        ...(typeof answer.Count === 'number' && { Count: answer.Count }),
        ...(LastEvaluatedKey && { LastEvaluatedKey }),
        ...capacityOf(answer),
      };
    },

    async batchGet(input, options) {
      const answer = await call(
        'BatchGetItem',
        {
          RequestItems: Object.fromEntries(
            Object.entries(input.RequestItems).map(([table, keys]) => [
              table,
              typedKeys(keys, `RequestItems.${table}`),
            ]),
          ),
          ReturnConsumedCapacity: input.ReturnConsumedCapacity,
        },
        options?.signal,
      );
      return {
        ...byTable('BatchGetItem', answer, 'Responses', (items, at) =>
          listOf('BatchGetItem', items, at).map((item, i) => plainMap('BatchGetItem', item, `${at}[${i}]`)),
        ),
        ...byTable('BatchGetItem', answer, 'UnprocessedKeys', plainKeys),
        ...capacitiesOf(answer),
      };
    },

    async batchWrite(input, options) {
      const answer = await call(
        'BatchWriteItem',
        {
          RequestItems: Object.fromEntries(
            Object.entries(input.RequestItems).map(([table, requests]) => [
              table,
              requests.map((request, i) => typedWrite(request, `RequestItems.${table}[${i}]`)),
            ]),
          ),
          ReturnConsumedCapacity: input.ReturnConsumedCapacity,
        },
        options?.signal,
      );
      return {
        ...byTable('BatchWriteItem', answer, 'UnprocessedItems', (requests, at) =>
          listOf('BatchWriteItem', requests, at).map((request, i) => plainWrite(request, `${at}[${i}]`)),
        ),
        ...capacitiesOf(answer),
      };
    },
  };
}
