import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ObservedRequest, RequestObserver } from '../lib/aws/signedRequest';
import { isConditionFailure } from '../lib/dynamo';
import type { ItemStore } from '../lib/items/itemStore';
import type { ServiceDefinition } from './serviceDefinition';
import type { LocalStack } from './stack';

/**
 * What a run asked of the billed services, counted the way AWS bills them: SQS requests by action (a receive
 * that found nothing is idle polling, counted apart), DynamoDB read and write units as the engine reports them,
 * and Lambda invocations with the time each took.
 */
export interface Meter {
  readonly sqs: Record<string, number>;
  sqsEmptyReceives: number;
  readonly dynamodb: { readUnits: number; writeUnits: number; requests: number };
  /** Requests made by kf-bridge's own AWS clients (lib/aws/signedRequest.ts), by `service:Operation`, each try. */
  readonly signed: Record<string, number>;
  readonly invocations: Record<string, { count: number; ms: number }>;
}

export function createMeter(): Meter {
  return {
    sqs: {},
    sqsEmptyReceives: 0,
    dynamodb: { readUnits: 0, writeUnits: 0, requests: 0 },
    signed: {},
    invocations: {},
  };
}

type Capacity = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };

const READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

export function meterSqs(client: SQSClient, meter: Meter): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const name = context.commandName ?? 'unknown';
      const received = (result.output as { Messages?: unknown[] }).Messages;
      if (name === 'ReceiveMessageCommand' && !received?.length) meter.sqsEmptyReceives++;
      else meter.sqs[name] = (meter.sqs[name] ?? 0) + 1;
      return result;
    },
    { step: 'initialize', name: 'kfBridgeMeter' },
  );
}

export function meterDynamoDb(client: DynamoDBClient, meter: Meter): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      const kind = READS.has(name) ? 'readUnits' : 'writeUnits';
      meter.dynamodb.requests++;
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        for (const capacity of [consumed ?? []].flat()) meter.dynamodb[kind] += capacity.CapacityUnits ?? 0;
        return result;
      } catch (error) {
        // A refused conditional write is still billed: at least one write unit.
        if ((error as Error).name === 'ConditionalCheckFailedException') meter.dynamodb.writeUnits += 1;
        throw error;
      }
    },
    { step: 'initialize', name: 'kfBridgeMeter' },
  );
}

/**
 * The item calls of a store that does not go through an SDK client (the callback's signed requests), metered as
 * meterDynamoDb meters the SDK's: one request each, the capacity DynamoDB reports for it.
 */
export function meterItemStore(items: ItemStore, meter: Meter): ItemStore {
  const metered = async <O extends { ConsumedCapacity?: Capacity | Capacity[] }>(
    kind: 'readUnits' | 'writeUnits',
    call: () => Promise<O>,
  ): Promise<O> => {
    meter.dynamodb.requests++;
    try {
      const output = await call();
      for (const capacity of [output.ConsumedCapacity ?? []].flat())
        meter.dynamodb[kind] += capacity.CapacityUnits ?? 0;
      return output;
    } catch (error) {
      // A refused conditional write is still billed: at least one write unit.
      if (isConditionFailure(error)) meter.dynamodb.writeUnits += 1;
      throw error;
    }
  };
  const TOTAL = { ReturnConsumedCapacity: 'TOTAL' } as const;
  return {
    get: (input, options) => metered('readUnits', () => items.get({ ...input, ...TOTAL }, options)),
    update: (input, options) => metered('writeUnits', () => items.update({ ...input, ...TOTAL }, options)),
    put: (input, options) => metered('writeUnits', () => items.put({ ...input, ...TOTAL }, options)),
    delete: (input, options) => metered('writeUnits', () => items.delete({ ...input, ...TOTAL }, options)),
    query: (input, options) => metered('readUnits', () => items.query({ ...input, ...TOTAL }, options)),
    batchGet: (input, options) => metered('readUnits', () => items.batchGet({ ...input, ...TOTAL }, options)),
    batchWrite: (input, options) =>
      metered('writeUnits', () => items.batchWrite({ ...input, ...TOTAL }, options)),
  };
}

/**
 * Counts each try of kf-bridge's own AWS clients (S3 objects, the SSM reader, SQS) in `meter.signed`; and each SQS
 * request SQS answered in `meter.sqs`, by the SDK's command name, as meterSqs counts the SDK's: what the cost model
 * bills.
 */
export function meterSignedCalls(meter: Meter): RequestObserver {
  return ({ service, operation }) => {
    const name = `${service}:${operation}`;
    meter.signed[name] = (meter.signed[name] ?? 0) + 1;
    if (service !== 'sqs') return undefined;
    return ({ status }) => {
      if (status === undefined) return;
      const command = `${operation}Command`;
      meter.sqs[command] = (meter.sqs[command] ?? 0) + 1;
    };
  };
}

/** Several observers of the same client as one. */
export function observeAll(...observers: RequestObserver[]): RequestObserver {
  return (request) => {
    const ends = observers.map((observe) => observe(request));
    return (ended) => {
      for (const end of ends) end?.(ended);
    };
  };
}

/** Two meters' requests together (invocations are left out: each run times them its own way). */
export function mergeMeters(a: Meter, b: Meter): Meter {
  const merged = createMeter();
  for (const meter of [a, b]) {
    for (const [name, n] of Object.entries(meter.sqs)) merged.sqs[name] = (merged.sqs[name] ?? 0) + n;
    merged.sqsEmptyReceives += meter.sqsEmptyReceives;
    merged.dynamodb.readUnits += meter.dynamodb.readUnits;
    merged.dynamodb.writeUnits += meter.dynamodb.writeUnits;
    merged.dynamodb.requests += meter.dynamodb.requests;
    for (const [name, n] of Object.entries(meter.signed))
      merged.signed[name] = (merged.signed[name] ?? 0) + n;
  }
  return merged;
}

/** Wraps a function's handler so each invocation is counted and timed. */
export function metered<A extends unknown[], R>(
  meter: Meter,
  functionName: string,
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    const started = performance.now();
    try {
      return await handler(...args);
    } finally {
      const entry = meter.invocations[functionName] ?? { count: 0, ms: 0 };
      entry.count++;
      entry.ms += performance.now() - started;
      meter.invocations[functionName] = entry;
    }
  };
}

/**
 * One request a function made of AWS, as IAM authorises it: the action, the resource's ARN and, for state-table
 * items, the partition keys (what `dynamodb:LeadingKeys` conditions see).
 */
export interface AwsCall {
  readonly functionName: string;
  readonly action: string;
  readonly resource: string;
  readonly leadingKeys?: readonly string[];
}

/** Where the calls of a run went: its account, region, and the stack's resources by logical id. */
export interface AwsTarget {
  readonly accountId: string;
  readonly region: string;
  /** Queue, table and bucket names by CloudFormation logical id. */
  readonly physicalIds: Readonly<Record<string, string>>;
  /** The state table's partition key attribute. */
  readonly partitionKey: string;
}

/** The distinct AWS calls of a run, each once. */
export interface AwsCallLog {
  readonly target: AwsTarget;
  readonly calls: readonly AwsCall[];
  record(call: AwsCall): void;
}

/** The local stack built from `definition`, as a target of AWS calls. */
export function localTarget(definition: ServiceDefinition, stack: LocalStack): AwsTarget {
  const schema = definition.resources.StateTable?.Properties?.KeySchema as
    | { AttributeName: string; KeyType: string }[]
    | undefined;
  const partitionKey = schema?.find((key) => key.KeyType === 'HASH')?.AttributeName;
  if (!partitionKey) throw new Error('serverless.yml gives StateTable no partition key');
  const queueArns = Object.entries(stack.queueArns);
  return {
    // arn:aws:sqs:<region>:<account>:<name>
    accountId: queueArns[0]?.[1].split(':')[4] ?? '',
    region: stack.region,
    physicalIds: {
      ...Object.fromEntries(queueArns.map(([logicalId, arn]) => [logicalId, arn.split(':')[5] ?? ''])),
      ...stack.tables,
      ...stack.buckets,
    },
    partitionKey,
  };
}

export function createAwsCallLog(target: AwsTarget): AwsCallLog {
  const calls: AwsCall[] = [];
  const seen = new Set<string>();
  return {
    target,
    calls,
    record(call) {
      const key = JSON.stringify(call);
      if (seen.has(key)) return;
      seen.add(key);
      calls.push(call);
    },
  };
}

const acting = new AsyncLocalStorage<string>();

/** Runs `work` as the function `functionName`: the AWS calls it makes, however deep, are recorded as that function's. */
export function actingAs<T>(functionName: string, work: () => T): T {
  return acting.run(functionName, work);
}

/** `handler`, run as the function `functionName`. */
export function asFunction<A extends unknown[], R>(
  functionName: string,
  handler: (...args: A) => R,
): (...args: A) => R {
  return (...args) => actingAs(functionName, () => handler(...args));
}

/** SDK operations authorised by another action's name; any other operation is its own action. */
const AUTHORISED_AS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
  HeadObject: 'GetObject',
  ListObjectsV2: 'ListBucket',
  ListObjects: 'ListBucket',
  CreateMultipartUpload: 'PutObject',
  UploadPart: 'PutObject',
  CompleteMultipartUpload: 'PutObject',
};

type AnyInput = Record<string, unknown>;
type Service = 'sqs' | 'dynamodb' | 's3' | 'ssm';

/** A marshalled (`{ S: "…" }`) or plain attribute value, as text. */
const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : (value as { S?: string } | undefined)?.S;

/** The partition keys a DynamoDB request touches in `table`, by the request's shape. */
function partitionKeys(operation: string, input: AnyInput, table: string, partitionKey: string): string[] {
  const ofKey = (key: unknown) => text((key as AnyInput | undefined)?.[partitionKey]);
  const requests = (input.RequestItems as Record<string, unknown> | undefined)?.[table];
  const keys: unknown[] =
    operation === 'BatchGetItem'
      ? ((requests as { Keys?: unknown[] } | undefined)?.Keys ?? [])
      : operation === 'BatchWriteItem'
        ? (
            (requests as
              | { PutRequest?: { Item: unknown }; DeleteRequest?: { Key: unknown } }[]
              | undefined) ?? []
          ).map((request) => request.PutRequest?.Item ?? request.DeleteRequest?.Key)
        : operation === 'Query'
          ? [queriedKey(input, partitionKey)]
          : [input.Key ?? input.Item];
  return [...new Set(keys.map(ofKey).filter((key): key is string => key !== undefined))];
}

/** A Query's `pk = :value` condition as a key. */
function queriedKey(input: AnyInput, partitionKey: string): AnyInput | undefined {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  for (const [, name, value] of String(input.KeyConditionExpression ?? '').matchAll(/([#\w]+)\s*=\s*(:\w+)/g))
    if ((names[name ?? ''] ?? name) === partitionKey) return { [partitionKey]: values[value ?? ''] };
  return undefined;
}

/** The resources a request acts on, as IAM names them, each with the partition keys it touches there. */
function resourcesOf(
  service: Service,
  operation: string,
  input: AnyInput,
  log: AwsCallLog,
): { resource: string; leadingKeys?: string[] }[] {
  const { region, accountId } = log.target;
  switch (service) {
    case 'sqs': {
      const [account, queue] = new URL(String(input.QueueUrl)).pathname.split('/').slice(-2);
      return [{ resource: `arn:aws:sqs:${region}:${account}:${queue}` }];
    }
    case 'dynamodb': {
      const tables = input.TableName ? [String(input.TableName)] : Object.keys(input.RequestItems ?? {});
      return tables.map((table) => ({
        resource: `arn:aws:dynamodb:${region}:${accountId}:table/${table}`,
        leadingKeys: partitionKeys(operation, input, table, log.target.partitionKey),
      }));
    }
    case 's3':
      return [{ resource: `arn:aws:s3:::${input.Bucket}${input.Key === undefined ? '' : `/${input.Key}`}` }];
    case 'ssm':
      return ((input.Names as string[] | undefined) ?? [String(input.Name)]).map((name) => ({
        resource: `arn:aws:ssm:${region}:${accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
      }));
  }
}

/**
 * Records every request the client makes on behalf of a function (see actingAs), before it is sent: IAM
 * authorises the attempt, whatever its outcome.
 */
export function recordAwsCalls(
  client: SQSClient | DynamoDBClient,
  service: 'sqs' | 'dynamodb',
  log: AwsCallLog,
): void {
  (client as SQSClient).middlewareStack.add(
    (next, context) => async (args) => {
      const functionName = acting.getStore();
      if (functionName) {
        const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
        const action = `${service}:${AUTHORISED_AS[operation] ?? operation}`;
        for (const { resource, leadingKeys } of resourcesOf(
          service,
          operation,
          args.input as AnyInput,
          log,
        )) {
          log.record({ functionName, action, resource, ...(leadingKeys && { leadingKeys }) });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'kfBridgeAwsCalls' },
  );
}

/**
 * Records each try of one of kf-bridge's own AWS clients (S3 objects) made on behalf of a function (see actingAs),
 * as IAM authorises it, from the operation's input the client hands its observer.
 */
export function recordSignedCalls(log: AwsCallLog): RequestObserver {
  return (request: ObservedRequest) => {
    const functionName = acting.getStore();
    const service = request.service as Service;
    if (functionName && request.input) {
      const action = `${service}:${AUTHORISED_AS[request.operation] ?? request.operation}`;
      for (const { resource, leadingKeys } of resourcesOf(
        service,
        request.operation,
        { ...request.input },
        log,
      ))
        log.record({ functionName, action, resource, ...(leadingKeys && { leadingKeys }) });
    }
    return undefined;
  };
}

/**
 * Records an SSM request as it reached SSM (through a proxy in front of it) on behalf of `functionName`, as IAM
 * authorises it: the action its X-Amz-Target names, on each parameter its body names. The config loader reads
 * SSM with its own signed client (lib/config/ssmReader.ts), not through an SDK client.
 */
export function recordSsmRequest(
  log: AwsCallLog,
  functionName: string,
  request: { readonly headers: IncomingHttpHeaders; readonly body: string },
): void {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (!target.startsWith('AmazonSSM.')) return;
  const operation = target.slice('AmazonSSM.'.length);
  const action = `ssm:${AUTHORISED_AS[operation] ?? operation}`;
  for (const { resource } of resourcesOf('ssm', operation, JSON.parse(request.body) as AnyInput, log))
    log.record({ functionName, action, resource });
}

/** One request a function made of AWS or of the platform: what, and when it was sent and answered. */
export interface TracedCall {
  /** `sqs`, `dynamodb`, `s3`, or `platform` for the WeCom / MP API. */
  readonly service: string;
  readonly operation: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** One function invocation: when it ran and every request it made, however deep. */
export interface InvocationTrace {
  readonly functionName: string;
  readonly startedAt: number;
  endedAt: number;
  /** The process's CPU while it ran: the invocation's own, and that of anything running beside it. */
  cpuMs: number;
  readonly calls: TracedCall[];
}

const tracing = new AsyncLocalStorage<InvocationTrace>();

/** Wraps a function's handler so each invocation's requests are traced; `onTrace` gets each finished one. */
export function traced<A extends unknown[], R>(
  functionName: string,
  handler: (...args: A) => Promise<R>,
  onTrace: (trace: InvocationTrace) => void,
): (...args: A) => Promise<R> {
  return async (...args) => {
    const trace: InvocationTrace = {
      functionName,
      startedAt: performance.now(),
      endedAt: 0,
      cpuMs: 0,
      calls: [],
    };
    const cpu = process.cpuUsage();
    try {
      return await tracing.run(trace, () => handler(...args));
    } finally {
      const { user, system } = process.cpuUsage(cpu);
      trace.cpuMs = (user + system) / 1000;
      trace.endedAt = performance.now();
      onTrace(trace);
    }
  };
}

/** Adds each request the client makes inside a traced invocation to that invocation's trace. */
export function traceAwsCalls(client: SQSClient | DynamoDBClient, service: 'sqs' | 'dynamodb'): void {
  (client as SQSClient).middlewareStack.add(
    (next, context) => async (args) => {
      const trace = tracing.getStore();
      if (!trace) return next(args);
      const startedAt = performance.now();
      try {
        return await next(args);
      } finally {
        const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
        trace.calls.push({ service, operation, startedAt, endedAt: performance.now() });
      }
    },
    { step: 'initialize', name: 'kfBridgeTrace' },
  );
}

/** Adds each try of one of kf-bridge's own AWS clients inside a traced invocation to that invocation's trace. */
export function traceSignedCalls(): RequestObserver {
  return ({ service, operation }) => {
    const trace = tracing.getStore();
    if (!trace) return undefined;
    const startedAt = performance.now();
    return () => trace.calls.push({ service, operation, startedAt, endedAt: performance.now() });
  };
}

/**
 * Adds each fetch to `origin` made inside a traced invocation (the platform clients fetch) to that
 * invocation's trace as a `platform` call named by its path. Returns what puts the global fetch back.
 */
export function tracePlatformCalls(origin: string): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const trace = tracing.getStore();
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!trace || url.origin !== origin) return original(input, init);
    const startedAt = performance.now();
    try {
      return await original(input, init);
    } finally {
      trace.calls.push({
        service: 'platform',
        operation: url.pathname,
        startedAt,
        endedAt: performance.now(),
      });
    }
  };
  return () => {
    globalThis.fetch = original;
  };
}

/**
 * The requests of `calls` that had to wait for one another: the longest chain in which each starts after the
 * one before it was answered. Requests made side by side count once.
 */
export function sequentialCalls(calls: readonly TracedCall[]): TracedCall[] {
  const chain: TracedCall[] = [];
  // Earliest answer first: the classic greedy choice gives the longest chain of non-overlapping requests.
  for (const call of [...calls].sort((a, b) => a.endedAt - b.endedAt)) {
    const last = chain.at(-1);
    if (!last || call.startedAt >= last.endedAt) chain.push(call);
  }
  return chain;
}
