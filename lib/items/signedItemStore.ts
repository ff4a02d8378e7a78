import {
  type ErrorReader,
  jsonErrorOf,
  type Refusal,
  type RequestObserver,
  type RetryPolicy,
  type ServiceTarget,
  signedRequests,
} from '../aws/signedRequest';
import { DependencyError } from '../errors';
import { fromAttributeMap, toAttributeMap } from './attributeValues';
import type { ConsumedCapacity, ItemStore } from './itemStore';

/**
 * The item calls over DynamoDB's JSON 1.0 protocol, signed and sent by lib/aws/signedRequest.ts: GetItem and
 * UpdateItem without the DynamoDB SDK clients, which cost the callback ~50 KB of bundle (and its cold start) for
 * two conditional writes per Official Account push.
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
 * A callback answers WeCom and MP within 5 s, its calls ending with the request's deadline besides: a throttled or
 * unanswered call has 3 tries within 2 s. DynamoDB answers an item call in single-digit milliseconds; after a
 * throttle the SDK waits from 500 ms, so a short burst is ridden out rather than answered 503 (MP drops a push
 * after 3 refusals).
 */
export const ITEM_CALL_POLICY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 50,
  throttledBaseDelayMs: 500,
  attemptTimeoutMs: 1_000,
  callTimeoutMs: 2_000,
  retryable: retryableRefusal,
};

export interface SignedItemStoreOptions {
  /** Where DynamoDB answers (serviceTarget('dynamodb', env)), looked up at the first call. */
  readonly target: () => ServiceTarget;
  readonly policy?: Partial<RetryPolicy>;
  /** Where requests go: node:http (see lib/aws/signedRequest.ts), unless a test records them. */
  readonly fetch?: typeof fetch;
  /** Told of each try (the local stack's metering, tracing and IAM records). */
  readonly observe?: RequestObserver;
}

type Answer = Record<string, unknown>;

const utf8 = new TextDecoder();

export function signedItemStore(options: SignedItemStoreOptions): ItemStore {
  const dynamodb = signedRequests({
    service: 'dynamodb',
    name: 'DynamoDB',
    target: options.target,
    errorOf: dynamoDbErrorOf,
    ...(options.fetch && { fetch: options.fetch }),
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

  /** An item map of the answer, as plain values; its absence is no item. */
  const mapOf = (operation: string, answer: Answer, field: string) => {
    const map = answer[field];
    if (map === undefined) return undefined;
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw new DependencyError(`DynamoDB ${operation}: its answer's ${field} is not a map`);
    return fromAttributeMap(map as Answer, field);
  };
  const capacityOf = (answer: Answer) =>
    answer.ConsumedCapacity ? { ConsumedCapacity: answer.ConsumedCapacity as ConsumedCapacity } : {};

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
      const values = input.ExpressionAttributeValues;
      const answer = await call(
        'UpdateItem',
        {
          TableName: input.TableName,
          Key: toAttributeMap(input.Key, 'Key'),
          UpdateExpression: input.UpdateExpression,
          ConditionExpression: input.ConditionExpression,
          ExpressionAttributeNames: input.ExpressionAttributeNames,
          ExpressionAttributeValues: values && toAttributeMap(values, 'ExpressionAttributeValues'),
          ReturnValues: input.ReturnValues,
          ReturnConsumedCapacity: input.ReturnConsumedCapacity,
        },
        options?.signal,
      );
      const Attributes = mapOf('UpdateItem', answer, 'Attributes');
      return { ...(Attributes && { Attributes }), ...capacityOf(answer) };
    },
  };
}
