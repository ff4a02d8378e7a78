import type { CallbackFrontDoor } from '../local/callbackEvent';
import {
  createMeter,
  type InvocationTrace,
  type Meter,
  mergeMeters,
  sequentialCalls,
} from '../local/metering';
import type { PhaseUsage } from './product';

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
  /**
   * What WeCom and MP call: the HTTP API (the default), or the callback function's own function URL, which
   * costs nothing per request but has no throttle of its own.
   */
  readonly callbackFront?: CallbackFrontDoor;
}

/**
 * Assumed, not measured: what one request waits on AWS in the same region, and on the WeCom / MP API from an
 * AWS region near it (Hong Kong or Singapore to qyapi.weixin.qq.com / api.weixin.qq.com). Lambda bills the
 * wait as it bills the CPU.
 */
export const ASSUMED_ROUND_TRIP_MS = { aws: 5, platform: 50 } as const;

/**
 * Each function's invocations and the time Lambda would bill them: the CPU this process measured, plus each
 * request the invocation had to wait for at its assumed round trip. `cpuMs` is what the phase's functions used
 * in all; invocations side by side share it in proportion to the CPU measured around each. The callback ran
 * elsewhere, its CPU per invocation measured apart (`callbackCpuMs`).
 */
export function lambdaTime(traces: readonly InvocationTrace[], cpuMs: number, callbackCpuMs: number) {
  const here = traces.filter((trace) => trace.functionName !== 'callback');
  const measuredHere = here.reduce((sum, trace) => sum + trace.cpuMs, 0);
  const invocations: Record<string, { count: number; ms: number }> = {};
  for (const trace of traces) {
    const cpu =
      trace.functionName === 'callback'
        ? callbackCpuMs
        : measuredHere > 0
          ? (trace.cpuMs / measuredHere) * cpuMs
          : 0;
    const waits = sequentialCalls(trace.calls).reduce(
      (sum, call) =>
        sum + (call.service === 'platform' ? ASSUMED_ROUND_TRIP_MS.platform : ASSUMED_ROUND_TRIP_MS.aws),
      0,
    );
    const entry = invocations[trace.functionName] ?? { count: 0, ms: 0 };
    invocations[trace.functionName] = { count: entry.count + 1, ms: entry.ms + cpu + waits };
  }
  return invocations;
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
    if (BEHIND_HTTP_API.has(name) && !(name === 'callback' && input.callbackFront === 'functionUrl'))
      httpRequests += count;
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

/** The product run's phases: customers writing at a pace and replies after them, then each alone. */
export interface ProductPhases {
  readonly inbound: PhaseUsage;
  readonly replies: PhaseUsage;
  readonly lowInbound: PhaseUsage;
  readonly lowReplies: PhaseUsage;
}

/**
 * US dollars per million messages at the bench's mix (the paced phases together) and at low traffic (every
 * message and reply alone, weighed as the mix weighs them), each also with the callback on a function URL.
 */
export function productCost(
  phases: ProductPhases,
  options: { memoryMb: Record<string, number>; callbackCpuMs: number },
) {
  const priced = (measured: PhaseUsage[], callbackFront: CallbackFrontDoor = 'httpApi') => {
    const usage = measured.reduce((all, phase) => mergeMeters(all, phase.usage), createMeter());
    for (const phase of measured)
      for (const [name, time] of Object.entries(
        lambdaTime(phase.traces, phase.cpuMs, options.callbackCpuMs),
      )) {
        const entry = usage.invocations[name] ?? { count: 0, ms: 0 };
        usage.invocations[name] = { count: entry.count + time.count, ms: entry.ms + time.ms };
      }
    return costPerMillionMessages({
      usage,
      inboundMessages: measured.reduce((sum, phase) => sum + phase.inbound, 0),
      outboundMessages: measured.reduce((sum, phase) => sum + phase.outbound, 0),
      memoryMb: options.memoryMb,
      callbackFront,
    });
  };
  const { inbound, replies, lowInbound, lowReplies } = phases;
  const lowTraffic = (callbackFront: CallbackFrontDoor) => {
    const alone = [priced([lowInbound], callbackFront), priced([lowReplies], callbackFront)] as const;
    return Number(
      (
        (alone[0].usdPerMillion.total * inbound.inbound + alone[1].usdPerMillion.total * replies.outbound) /
        (inbound.inbound + replies.outbound)
      ).toFixed(3),
    );
  };
  return {
    assumedRoundTripMs: ASSUMED_ROUND_TRIP_MS,
    ...priced([inbound, replies]),
    lowTraffic: {
      usdPerMillion: lowTraffic('httpApi'),
      inbound: priced([lowInbound]).usdPerMillion,
      reply: priced([lowReplies]).usdPerMillion,
    },
    callbackOnFunctionUrl: {
      usdPerMillion: priced([inbound, replies], 'functionUrl').usdPerMillion.total,
      lowTrafficUsdPerMillion: lowTraffic('functionUrl'),
    },
  };
}
