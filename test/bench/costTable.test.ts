import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { costTablesIn, renderCostTables, withCostTables } from '../../bench/costTable';
import { idleMonthlyCost, MEASURED_USAGE, readDeployment, trafficMonthlyCost } from '../../bench/monthlyCost';
import { ROOT } from '../../local/serviceDefinition';

const read = (file: string) => readFile(join(ROOT, file), 'utf8');

describe('the README cost tables', () => {
  it('are what the cost model computes for this stack (npm run cost -- --write brings them up to date)', async () => {
    const expected = renderCostTables(await readDeployment());
    expect(
      costTablesIn(await read('README.md')),
      'README.md: its cost tables differ from the cost model; run npm run cost -- --write',
    ).toBe(expected);
  });

  it('price the usage BENCHMARKS.md reports as measured', async () => {
    const rows = Object.fromEntries(
      [
        ...(await read('BENCHMARKS.md')).matchAll(
          /^\| (Lambda invocations|Lambda GB-seconds|SQS requests|DynamoDB write units|DynamoDB read units|HTTP API requests) \| ([\d.]+) \|$/gm,
        ),
      ].map(([, name, value]) => [name, Number(value)]),
    );
    expect(rows).toEqual({
      'Lambda invocations': MEASURED_USAGE.lambdaInvocations,
      'Lambda GB-seconds': MEASURED_USAGE.lambdaGbSeconds,
      'SQS requests': MEASURED_USAGE.sqsRequests,
      'DynamoDB write units': MEASURED_USAGE.dynamodbWriteUnits,
      'DynamoDB read units': MEASURED_USAGE.dynamodbReadUnits,
      'HTTP API requests': MEASURED_USAGE.httpApiRequests,
    });
  });

  it('are replaced whole between their markers, and a README without them is refused', () => {
    const tables = renderCostTables({
      alarms: 1,
      polledQueues: 1,
      memoryMb: { syncPuller: 512, tokenRefresh: 512, statsExport: 512 },
    });
    const readme = `# x\n\n${tables.replace('$0.10', '$9.99')}\n\n## next\n`;
    expect(withCostTables(readme, tables)).toBe(`# x\n\n${tables}\n\n## next\n`);
    expect(() => withCostTables('# x\n', tables)).toThrow('README.md has no cost tables between');
  });
});

describe('monthly cost', () => {
  it('prices a month of 730 hours of messages with the cost model', () => {
    const oneHttpRequestEach = {
      lambdaInvocations: 0,
      lambdaGbSeconds: 0,
      sqsRequests: 0,
      dynamodbWriteUnits: 0,
      dynamodbReadUnits: 0,
      httpApiRequests: 1,
    };
    const month = trafficMonthlyCost(100_000, oneHttpRequestEach);
    expect(month.messagesPerMonth).toBeCloseTo((100_000 * 730) / 24, 6);
    expect(month.dollars).toBeCloseTo((100_000 * 730) / 24 / 1e6, 9);
  });

  it('counts each alarm at $0.10 a month and a fixed egress IP at a NAT gateway and an address by the hour', () => {
    const idle = idleMonthlyCost({
      alarms: 3,
      polledQueues: 0,
      memoryMb: { syncPuller: 512, tokenRefresh: 512, statsExport: 512 },
    });
    expect(idle.items.alarms).toBeCloseTo(0.3, 9);
    expect(idle.items.idlePolling).toBe(0);
    expect(idle.fixedEgressIp).toBeCloseTo(730 * (0.045 + 0.005), 9);
  });
});
