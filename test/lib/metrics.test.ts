import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/logger';
import { createMetrics, METRICS_NAMESPACE, meterOf } from '../../lib/metrics';
import { captureOutput } from '../support/metrics';

let output: ReturnType<typeof captureOutput>;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

const counted = { namespace: METRICS_NAMESPACE, unit: 'Count', value: 1 };
const byFunction = { service: 'tokenRefresh', stage: 'test' };

describe('meterOf', () => {
  // Powertools drops a dimension with an empty value and writes the line with the rest: a set of its own no one
  // reads, or the function-only set the alarms read, which would then count the event twice.
  it('writes no line for a dimension set with an empty value', () => {
    const metrics = createMetrics('tokenRefresh', createLogger('tokenRefresh'), 'test');
    const meter = meterOf(metrics);
    meter.record('TokenRefreshFailures', 1, { app: '', platform: '' });
    meter.record('CredentialsRejected', 1, { app: '', platform: 'wecom', errcode: '40001' });
    metrics.publishStoredMetrics();

    expect(output.metric('TokenRefreshFailures')).toEqual([
      { ...counted, dimensions: [['service', 'stage']], values: byFunction },
    ]);
    expect(output.metric('CredentialsRejected')).toEqual([
      { ...counted, dimensions: [['service', 'stage']], values: byFunction },
    ]);
  });

  it('writes each dimension set whose values are all given', () => {
    const metrics = createMetrics('tokenRefresh', createLogger('tokenRefresh'), 'test');
    meterOf(metrics).record('TokenRefreshFailures', 1, { app: 'shop', platform: 'mp' });
    metrics.publishStoredMetrics();

    expect(output.metric('TokenRefreshFailures')).toEqual([
      {
        ...counted,
        dimensions: [['service', 'stage', 'app', 'platform']],
        values: { ...byFunction, app: 'shop', platform: 'mp' },
      },
      { ...counted, dimensions: [['service', 'stage']], values: byFunction },
    ]);
  });
});
