import { spawnSync } from 'node:child_process';
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

  it("never reads npm start's record: a half-written one neither blocks it nor changes it", async () => {
    const printed = await printService('prod', {}, '{"pid": 12, "ports": {"http": 31');
    expect(printed.service.custom.localPorts).toEqual(DEFAULTS);
    expect(printed.stderr).not.toContain('local.json');
  }, 60_000);
});

const DEFAULTS = { http: 3000, lambda: 3002, dynamodb: 8000, fauxqs: 4566, sim: 4001 };
const RECORDED = { http: 3100, lambda: 3102, dynamodb: 8100, fauxqs: 4666, sim: 4101 };

describe('serverless.yml on the local stage (invoke local, serverless offline)', () => {
  it('takes the ports a running npm start recorded, a variable set by hand winning', async () => {
    const printed = await printService(
      'local',
      { SIM_PORT: '4999' },
      JSON.stringify({ pid: process.pid, ports: RECORDED }),
    );
    expect(printed.service.custom.localPorts).toEqual({ ...RECORDED, sim: 4999 });
  }, 60_000);

  it('takes the defaults over the record of an npm start that is gone, or one that cannot be read, saying so', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = await printService('local', {}, JSON.stringify({ pid: gone, ports: RECORDED }));
    expect(stale.service.custom.localPorts).toEqual(DEFAULTS);
    const corrupt = await printService('local', {}, 'null');
    expect(corrupt.service.custom.localPorts).toEqual(DEFAULTS);
    expect(
      corrupt.stderr.match(/ignoring .*local\.json: not the record of a running npm start/g),
    ).toHaveLength(1);
  }, 60_000);
});
