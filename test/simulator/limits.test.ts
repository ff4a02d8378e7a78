import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../simulator';
import { CORP, setup } from './harness';

let s: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  s = await setup();
});
afterEach(async () => {
  await s.close();
});

const list = () => s.api('/cgi-bin/kf/account/list', {});

describe('rate and concurrency limits', () => {
  it('answers 45009 past the per-minute limit of one API, and lets other APIs through', async () => {
    s.sim.limits.settings.rate.perMinute = 3;
    for (let i = 0; i < 3; i++) expect((await list()).errcode).toBe(0);
    expect(await list()).toMatchObject({ errcode: 45009 });
    expect((await s.api('/cgi-bin/kf/customer/get_upgrade_service_config')).errcode).toBe(0);
    s.sim.advanceClock(60_000);
    expect((await list()).errcode).toBe(0);
    s.sim.limits.settings.rate.enabled = false;
    for (let i = 0; i < 5; i++) expect((await list()).errcode).toBe(0);
  });

  it('answers 45033 when too many calls of one API are in flight', async () => {
    Object.assign(s.sim.limits.settings.concurrency, { enabled: true, max: 2 });
    s.sim.setFaults([{ endpoint: 'kf/account/list', kind: 'latency', ms: 150 }]);
    const answers = await Promise.all(Array.from({ length: 4 }, () => list()));
    expect(answers.filter((a) => a.errcode === 45033)).toHaveLength(2);
    expect(answers.filter((a) => a.errcode === 0)).toHaveLength(2);
  });
});

describe('fault injection', () => {
  it('fires an errcode an exact number of times', async () => {
    s.sim.setFaults([{ endpoint: 'kf/account/list', kind: 'errcode', errcode: -1, count: 2 }]);
    expect((await list()).errcode).toBe(-1);
    expect((await list()).errcode).toBe(-1);
    expect((await list()).errcode).toBe(0);
  });

  it('answers HTTP 5xx and drops connections', async () => {
    s.sim.setFaults([
      { endpoint: 'gettoken', kind: 'http', status: 502, count: 1 },
      { endpoint: 'kf/account/list', kind: 'drop', count: 1 },
    ]);
    expect(
      (await fetch(`${s.url}/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.secret}`)).status,
    ).toBe(502);
    await expect(list()).rejects.toThrow();
    expect((await list()).errcode).toBe(0);
  });

  it('loses the answer of a call it carried out', async () => {
    const avatar = s.sim.uploadMedia(CORP.corpId, 'image', 'avatar.png', Buffer.alloc(100, 1));
    s.sim.setFaults([{ endpoint: 'kf/account/add', kind: 'lost_answer', count: 1 }]);
    const before = s.sim.wecom.accounts.size;
    await expect(
      s.api('/cgi-bin/kf/account/add', { name: '丢失的回答', media_id: avatar }),
    ).rejects.toThrow();
    expect(s.sim.wecom.accounts.size).toBe(before + 1);
  });

  it('replays the same faults for the same seed', () => {
    const fired = (seed: number) => {
      const sim = new Simulator({ seed });
      sim.setFaults([{ endpoint: 'kf/sync_msg', kind: 'errcode', errcode: -1, probability: 0.3 }]);
      return Array.from({ length: 50 }, () => sim.faults.fire('kf/sync_msg', 0).length).join('');
    };
    expect(fired(7)).toBe(fired(7));
    expect(fired(7)).not.toBe(fired(8));
    expect(
      fired(7)
        .split('')
        .filter((c) => c === '1').length,
    ).toBeGreaterThan(5);
  });
});
