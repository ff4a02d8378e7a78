import { describe, expect, it } from 'vitest';
import { ratePeriodMs, schedulesOf } from '../../local/schedules';
import type { ServiceDefinition } from '../../local/serviceDefinition';

describe('local schedules', () => {
  it('reads rate() expressions', () => {
    expect(ratePeriodMs('rate(5 minutes)')).toBe(300_000);
    expect(ratePeriodMs('rate(1 hour)')).toBe(3_600_000);
    expect(ratePeriodMs('rate(2 days)')).toBe(172_800_000);
    expect(ratePeriodMs('cron(0 22 * * ? *)')).toBeUndefined();
    expect(ratePeriodMs('rate(5 fortnights)')).toBeUndefined();
  });

  it('collects the schedule events of serverless.yml functions and names the ones it cannot run', () => {
    const lines: string[] = [];
    const definition = {
      functions: {
        tokenRefresh: { handler: 'h', events: [{ schedule: 'rate(5 minutes)' }] },
        statsExport: { handler: 'h', events: [{ schedule: { rate: ['cron(0 22 * * ? *)'] } }] },
        off: { handler: 'h', events: [{ schedule: { rate: 'rate(1 minute)', enabled: false } }] },
      },
    } as unknown as ServiceDefinition;
    expect(schedulesOf(definition, (line) => lines.push(line))).toEqual([
      { functionName: 'tokenRefresh', expression: 'rate(5 minutes)', periodMs: 300_000 },
    ]);
    expect(lines).toEqual([
      "[schedule] statsExport: 'cron(0 22 * * ? *)' is not run locally (only rate() is); invoke it by hand",
    ]);
  });
});
