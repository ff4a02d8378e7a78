import type { Meter } from '../local/metering';

/** AWS list prices, us-east-1, arm64, on-demand, no free tier (see ../shared/reference/perf-reliability.md §2.5). */
export const PRICES = {
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  sqsFifoRequest: 0.5 / 1e6,
  dynamodbWriteUnit: 0.625 / 1e6,
  dynamodbReadUnit: 0.125 / 1e6,
  httpApiRequest: 1.0 / 1e6,
} as const;

export interface CostInput {
  readonly usage: Meter;
  /** Customer messages that reached inbound.fifo and replies the platform accepted, in the run measured. */
  readonly inboundMessages: number;
  readonly outboundMessages: number;
  /** Each function's configured memory, in MB (serverless.yml). */
  readonly memoryMb: Record<string, number>;
}

/** Functions API Gateway invokes: each invocation is one HTTP API request. */
const BEHIND_HTTP_API = new Set(['callback', 'api', 'admin']);

/** Functions run by a schedule whatever the traffic: a fixed monthly cost, not a cost per message. */
const SCHEDULED = new Set(['syncPullerSchedule']);

/**
 * US dollars per million messages (inbound and outbound alike), from what the run asked of each service.
 * Lambda time is billed per invocation in whole milliseconds, so each function's mean time is rounded up.
 */
export function costPerMillionMessages(input: CostInput) {
  const messages = input.inboundMessages + input.outboundMessages;
  if (messages === 0) throw new Error('no messages: nothing to price');
  let lambdaRequests = 0;
  let gbSeconds = 0;
  let httpRequests = 0;
  for (const [name, { count, ms }] of Object.entries(input.usage.invocations)) {
    if (SCHEDULED.has(name)) continue;
    const memoryMb = input.memoryMb[name];
    if (memoryMb === undefined) throw new Error(`no memory size for function '${name}'`);
    lambdaRequests += count;
    gbSeconds += count * (Math.ceil(ms / count) / 1000) * (memoryMb / 1024);
    if (BEHIND_HTTP_API.has(name)) httpRequests += count;
  }
  const sqsRequests = Object.values(input.usage.sqs).reduce((sum, n) => sum + n, 0);
  const perMessage: UsagePerMessage = {
    lambdaInvocations: lambdaRequests / messages,
    lambdaGbSeconds: gbSeconds / messages,
    sqsRequests: sqsRequests / messages,
    dynamodbWriteUnits: input.usage.dynamodb.writeUnits / messages,
    dynamodbReadUnits: input.usage.dynamodb.readUnits / messages,
    httpApiRequests: httpRequests / messages,
  };
  const rounded = (n: number) => Number(n.toFixed(3));
  return {
    messages,
    perMessage: {
      lambdaInvocations: rounded(perMessage.lambdaInvocations),
      lambdaGbSeconds: Number(perMessage.lambdaGbSeconds.toFixed(6)),
      sqsRequests: rounded(perMessage.sqsRequests),
      dynamodbWriteUnits: rounded(perMessage.dynamodbWriteUnits),
      dynamodbReadUnits: rounded(perMessage.dynamodbReadUnits),
      httpApiRequests: rounded(perMessage.httpApiRequests),
    },
    usdPerMillion: Object.fromEntries(
      Object.entries(usdPerMillionMessages(perMessage)).map(([name, value]) => [name, rounded(value)]),
    ) as ReturnType<typeof usdPerMillionMessages>,
  };
}

/** What one message (in or out) asks of the billed services, on average. */
export interface UsagePerMessage {
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  readonly sqsRequests: number;
  readonly dynamodbWriteUnits: number;
  readonly dynamodbReadUnits: number;
  readonly httpApiRequests: number;
}

/** US dollars per million messages for a usage per message, by service and in total, unrounded. */
export function usdPerMillionMessages(perMessage: UsagePerMessage) {
  const dollars = {
    lambda:
      (perMessage.lambdaInvocations * PRICES.lambdaRequest +
        perMessage.lambdaGbSeconds * PRICES.lambdaGbSecondArm) *
      1e6,
    sqs: perMessage.sqsRequests * PRICES.sqsFifoRequest * 1e6,
    dynamodb:
      (perMessage.dynamodbWriteUnits * PRICES.dynamodbWriteUnit +
        perMessage.dynamodbReadUnits * PRICES.dynamodbReadUnit) *
      1e6,
    apiGateway: perMessage.httpApiRequests * PRICES.httpApiRequest * 1e6,
  };
  return { ...dollars, total: Object.values(dollars).reduce((sum, n) => sum + n, 0) };
}
