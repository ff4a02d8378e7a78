import { describe, expect, it } from 'vitest';
import { budgetViolations } from '../../bench/budgets';
import { ASSUMED_ROUND_TRIP_MS, costPerMillionMessages, lambdaTime } from '../../bench/costModel';
import { createMeter, sequentialCalls } from '../../local/metering';

const baseline = {
  recorded: '2026-11-21',
  bundles: { callback: { bytes: 100_000, importMs: 50, importRatio: 1.5 } },
};
const bundle = (bytes: number, importRatio: number) => ({ callback: { bytes, importMs: 1, importRatio } });

describe('CI budgets', () => {
  it('passes bundles within 10 % of the baseline in bytes, 25 % in import time, and a callback within its floor ratios', () => {
    expect(
      budgetViolations(
        { bundles: bundle(110_000, 1.875), callback: { sdkFloorRatio: 1.3, sdkFloorP99Ratio: 4 } },
        baseline,
      ),
    ).toEqual([]);
  });

  it('names each bundle that grew past 10 % in bytes or 25 % in import time relative to the reference', () => {
    expect(budgetViolations({ bundles: bundle(110_001, 1.876) }, baseline)).toEqual([
      'bundle callback is 110001 bytes, over 110 % of its baseline 100000',
      'bundle callback imports in 1.876× the reference, over 125 % of its baseline 1.5×',
    ]);
  });

  it('refuses a function without a baseline and a callback over its floor ratios', () => {
    expect(
      budgetViolations(
        {
          bundles: { sender: { bytes: 1, importMs: 1, importRatio: 1 } },
          callback: { sdkFloorRatio: 1.31, sdkFloorP99Ratio: 4.01 },
        },
        baseline,
      ),
    ).toEqual([
      'bundle sender has no baseline: record one with npm run bench -- --record',
      "callback median is 1.31× its SDK floor's, over 1.3×",
      "callback p99 is 4.01× its SDK floor's, over 4×",
    ]);
  });

  it('holds every function but the callback under 600 KB, and the callback within 1.15x its floor in bytes', () => {
    const measure = (bytes: number, floorRatio?: number) => ({
      bytes,
      importMs: 1,
      importRatio: 1,
      floorRatio,
    });
    const recorded = (bytes: number) => ({ bytes, importMs: 1, importRatio: 1 });
    expect(
      budgetViolations(
        {
          bundles: {
            callback: measure(392_000, 1.151),
            admin: measure(600_001),
            sender: measure(600_000),
            floor: measure(340_000),
          },
        },
        {
          recorded: '2026-11-30',
          bundles: {
            callback: recorded(390_000),
            admin: recorded(590_000),
            sender: recorded(590_000),
            floor: recorded(340_000),
          },
        },
      ),
    ).toEqual([
      'bundle callback is 1.151× its floor in bytes, over 1.15×',
      'bundle admin is 600001 bytes, over 600000',
    ]);
  });
});

describe('cost model', () => {
  it('prices each service per million messages, billing whole milliseconds and leaving schedules out', () => {
    const usage = createMeter();
    usage.sqs.SendMessageCommand = 1000;
    usage.sqsEmptyReceives = 500;
    usage.dynamodb.writeUnits = 2000;
    usage.dynamodb.readUnits = 1000;
    usage.invocations.callback = { count: 800, ms: 1200 };
    usage.invocations.api = { count: 200, ms: 300 };
    usage.invocations.syncPullerSchedule = { count: 10, ms: 10_000 };
    const cost = costPerMillionMessages({
      usage,
      inboundMessages: 800,
      outboundMessages: 200,
      memoryMb: { callback: 512, api: 512 },
    });
    // Lambda: 1 request and 2 ms × 0.5 GB per message; SQS 1 request; DynamoDB 2 WRU + 1 RRU; 1 HTTP API call.
    expect(cost.usdPerMillion).toEqual({
      lambda: Number((0.2 + 0.001 * 0.0000133334 * 1e6).toFixed(3)),
      sqs: 0.5,
      dynamodb: Number((2 * 0.625 + 0.125).toFixed(3)),
      apiGateway: 1,
      total: Number((0.2 + 0.0133334 + 0.5 + 1.375 + 1).toFixed(3)),
    });
  });

  it('refuses a function it has no memory size for', () => {
    const usage = createMeter();
    usage.invocations.sender = { count: 1, ms: 1 };
    expect(() =>
      costPerMillionMessages({
        usage,
        inboundMessages: 1,
        outboundMessages: 0,
        memoryMb: {},
      }),
    ).toThrow("no memory size for function 'sender'");
  });
});

describe('the callback on a function URL', () => {
  it('costs no HTTP API request per callback; the messages API still does', () => {
    const usage = createMeter();
    usage.invocations.callback = { count: 800, ms: 800 };
    usage.invocations.api = { count: 200, ms: 200 };
    const cost = costPerMillionMessages({
      usage,
      inboundMessages: 800,
      outboundMessages: 200,
      memoryMb: { callback: 512, api: 512 },
      callbackFront: 'functionUrl',
    });
    expect(cost.usdPerMillion.apiGateway).toBe(0.2);
  });
});

describe('Lambda time in the cost model', () => {
  const call = (service: string, startedAt: number, endedAt: number) => ({
    service,
    operation: 'x',
    startedAt,
    endedAt,
  });

  it('counts requests made side by side once, and requests one after another each', () => {
    expect(
      sequentialCalls([call('sqs', 0, 10), call('dynamodb', 2, 8), call('sqs', 10, 20), call('sqs', 21, 30)]),
    ).toHaveLength(3);
  });

  it("bills the phase's CPU shared by each invocation's own, plus each awaited request's assumed round trip", () => {
    const trace = (functionName: string, cpuMs: number, calls: ReturnType<typeof call>[]) => ({
      functionName,
      startedAt: 0,
      endedAt: 100,
      cpuMs,
      calls,
    });
    const time = lambdaTime(
      [
        trace('sender', 3, [call('dynamodb', 0, 5), call('platform', 5, 60)]),
        trace('api', 1, [call('dynamodb', 0, 5), call('sqs', 1, 4)]),
        trace('callback', 99, [call('sqs', 0, 1)]),
      ],
      8,
      0.5,
    );
    expect(time).toEqual({
      sender: { count: 1, ms: 6 + ASSUMED_ROUND_TRIP_MS.aws + ASSUMED_ROUND_TRIP_MS.platform },
      api: { count: 1, ms: 2 + ASSUMED_ROUND_TRIP_MS.aws },
      callback: { count: 1, ms: 0.5 + ASSUMED_ROUND_TRIP_MS.aws },
    });
  });
});
