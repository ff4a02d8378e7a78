import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * What a run asked of the billed services, counted the way AWS bills them: SQS requests by action (a receive
 * that found nothing is idle polling, counted apart), DynamoDB read and write units as the engine reports them,
 * and Lambda invocations with the time each took.
 */
export interface Meter {
  readonly sqs: Record<string, number>;
  sqsEmptyReceives: number;
  readonly dynamodb: { readUnits: number; writeUnits: number; requests: number };
  readonly invocations: Record<string, { count: number; ms: number }>;
}

export function createMeter(): Meter {
  return {
    sqs: {},
    sqsEmptyReceives: 0,
    dynamodb: { readUnits: 0, writeUnits: 0, requests: 0 },
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
