import { describe, expect, it } from 'vitest';
import { printService, schedulesEnabled } from '../support/servicePrint';

describe('serverless.yml on a deployed stage', () => {
  it('keeps every schedule enabled whatever KF_BRIDGE_OFFLINE_SCHEDULES says; only the local stage reads it', async () => {
    const off = { KF_BRIDGE_OFFLINE_SCHEDULES: 'false' };
    expect(schedulesEnabled(await printService('prod', off))).toEqual({
      syncPuller: true,
      tokenRefresh: true,
      statsExport: true,
    });
    expect(schedulesEnabled(await printService('local', off))).toEqual({
      syncPuller: false,
      tokenRefresh: false,
      statsExport: false,
    });
  }, 60_000);
});
