import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chinaDayStart } from '../../simulator/wecom/statistics';
import { differencesFrom } from '../contract/corpus';
import { CORP, setup, type WxAnswer } from './harness';

let s: Awaited<ReturnType<typeof setup>>;
let openKfId: string;
const DAY = 24 * 3600;
beforeEach(async () => {
  // Exact figures: only what each test makes happen.
  s = await setup({ statisticsHistoryDays: 0 });
  openKfId = s.sim.createKfAccount(CORP.corpId, '客服');
});
afterEach(async () => {
  await s.close();
});

const today = () => chinaDayStart(s.sim.clock.now()) / 1000;
const corpStats = (start: number, end: number) =>
  s.api('/cgi-bin/kf/get_corp_statistic', { open_kfid: openKfId, start_time: start, end_time: end });

describe('statistics', () => {
  it('counts what happened, per China-time day, and leaves out days without data', async () => {
    await s.api('/cgi-bin/kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice'] });
    s.sim.customerSays(openKfId, 'wm1', 'a');
    s.sim.customerSays(openKfId, 'wm1', 'b');
    s.sim.customerSays(openKfId, 'wm2', 'c');
    await s.api('/cgi-bin/kf/send_msg', {
      touser: 'wm1',
      open_kfid: openKfId,
      msgtype: 'text',
      text: { content: 'bot' },
    });
    await s.api('/cgi-bin/kf/service_state/trans', {
      open_kfid: openKfId,
      external_userid: 'wm2',
      service_state: 3,
      servicer_userid: 'alice',
    });
    s.sim.advanceClock(90_000);
    s.sim.servicerWrites(openKfId, 'wm2', 'alice', { msgtype: 'text', text: { content: '人工' } });
    // Ending the session sends the customer a satisfaction survey, which they answer.
    s.sim.servicerChangesSession(openKfId, 'wm2', 'end');
    s.sim.customerRates(openKfId, 'wm2', 'satisfied');
    expect(() => s.sim.customerRates(openKfId, 'wm1', 'middling')).toThrow('no satisfaction survey');
    const day = today();
    s.sim.advanceClock(2 * DAY * 1000);
    await s.refreshToken();
    const corp = await corpStats(day, day + DAY);
    expect(corp.statistic_list).toEqual([
      {
        stat_time: day,
        statistic: {
          session_cnt: 2,
          customer_cnt: 2,
          customer_msg_cnt: 3,
          upgrade_service_customer_cnt: 0,
          ai_session_reply_cnt: 1,
          ai_transfer_rate: 0,
          msg_rejected_customer_cnt: 0,
        },
      },
      { stat_time: day + DAY },
    ]);
    const servicer = await s.api('/cgi-bin/kf/get_servicer_statistic', {
      open_kfid: openKfId,
      servicer_userid: 'alice',
      start_time: day,
      end_time: day,
    });
    expect(servicer.statistic_list[0].statistic).toMatchObject({
      session_cnt: 1,
      customer_cnt: 1,
      reply_rate: 1,
      first_reply_average_sec: 90,
      satisfaction_investgate_cnt: 1,
      satisfaction_participation_rate: 1,
      satisfied_rate: 1,
      middling_rate: 0,
      dissatisfied_rate: 0,
    });
  });

  it('floors times to 00:00 China time', async () => {
    const day = today();
    s.sim.advanceClock(2 * DAY * 1000);
    await s.refreshToken();
    const answer = await corpStats(day - 2 * DAY + 3600 * 5, day - 2 * DAY + 3600 * 5);
    expect(answer.statistic_list).toEqual([{ stat_time: day - 2 * DAY }]);
  });

  it('allows yesterday back to 180 days, at most 31 days a call', async () => {
    const t = today();
    expect(await corpStats(t, t)).toMatchObject({ errcode: 40058 });
    expect(await corpStats(t - 181 * DAY, t - 170 * DAY)).toMatchObject({ errcode: 40058 });
    expect(await corpStats(t - 32 * DAY, t - DAY)).toMatchObject({ errcode: 40058 });
    expect(await corpStats(t - DAY, t - 2 * DAY)).toMatchObject({ errcode: 40058 });
    expect((await corpStats(t - 31 * DAY, t - DAY)).statistic_list).toHaveLength(31);
  });
});

describe('statistics of the days before the simulator started', () => {
  let seeded: Awaited<ReturnType<typeof setup>>;
  let seededKfId: string;
  const SERVICERS = ['alice', 'bob'];
  beforeEach(async () => {
    seeded = await setup();
    seededKfId = seeded.sim.createKfAccount(CORP.corpId, '售后', { servicers: SERVICERS });
  });
  afterEach(async () => {
    await seeded.close();
  });

  const statistics = async (
    sim: Awaited<ReturnType<typeof setup>>,
    endpoint: 'get_corp_statistic' | 'get_servicer_statistic',
    body: Record<string, unknown>,
  ) => {
    const answer = await sim.api(`/cgi-bin/kf/${endpoint}`, body);
    expect(differencesFrom(`wecom/${endpoint}.response.json`, answer)).toEqual([]);
    return answer.statistic_list as { stat_time: number; statistic?: WxAnswer }[];
  };

  it('has figures for each of the 30 days before the start, for the kf account and each servicer, with a shape', async () => {
    const t = chinaDayStart(seeded.sim.clock.now()) / 1000;
    const window = { open_kfid: seededKfId, start_time: t - 30 * DAY, end_time: t - DAY };
    const corp = await statistics(seeded, 'get_corp_statistic', window);
    expect(corp.map((entry) => entry.stat_time)).toEqual(
      Array.from({ length: 30 }, (_, i) => t - (30 - i) * DAY),
    );
    for (const { statistic } of corp) {
      expect(statistic?.session_cnt).toBeGreaterThan(0);
      expect(statistic?.customer_cnt).toBeGreaterThan(0);
      expect(statistic?.customer_msg_cnt).toBeGreaterThanOrEqual(statistic?.customer_cnt);
      expect(statistic?.ai_transfer_rate ?? 0).toBeLessThanOrEqual(1);
    }
    // Charts of these days have a shape, not a flat line.
    expect(new Set(corp.map((entry) => entry.statistic?.session_cnt)).size).toBeGreaterThan(5);
    const perServicer: Awaited<ReturnType<typeof statistics>>[] = [];
    for (const servicer of SERVICERS) {
      const days = await statistics(seeded, 'get_servicer_statistic', {
        ...window,
        servicer_userid: servicer,
      });
      expect(days).toHaveLength(30);
      for (const { statistic } of days) {
        expect(statistic).toMatchObject({
          session_cnt: expect.any(Number),
          reply_rate: expect.any(Number),
          first_reply_average_sec: expect.any(Number),
          satisfied_rate: expect.any(Number),
        });
        expect(statistic?.reply_rate).toBeLessThanOrEqual(1);
        expect(statistic?.satisfaction_participation_rate).toBeLessThanOrEqual(1);
        expect(
          (statistic?.satisfied_rate ?? 0) +
            (statistic?.middling_rate ?? 0) +
            (statistic?.dissatisfied_rate ?? 0),
        ).toBeCloseTo(1, 3);
      }
      perServicer.push(days);
    }
    // A customer is taken by at most one servicer a day, so the servicers' sessions fit in the account's.
    corp.forEach((entry, i) => {
      const taken = perServicer.reduce((sum, days) => sum + (days[i]?.statistic?.session_cnt ?? 0), 0);
      expect(taken).toBeLessThanOrEqual(entry.statistic?.session_cnt);
    });
    const before = await statistics(seeded, 'get_corp_statistic', {
      open_kfid: seededKfId,
      start_time: t - 31 * DAY,
      end_time: t - 31 * DAY,
    });
    expect(before).toEqual([{ stat_time: t - 31 * DAY }]);
  });

  it('is the same on every start, for the same account and servicers', async () => {
    const again = await setup();
    try {
      const againKfId = again.sim.createKfAccount(CORP.corpId, '售后', { servicers: SERVICERS });
      const t = chinaDayStart(seeded.sim.clock.now()) / 1000;
      const window = { start_time: t - 30 * DAY, end_time: t - DAY, servicer_userid: 'bob' };
      const first = await statistics(seeded, 'get_servicer_statistic', { ...window, open_kfid: seededKfId });
      expect(first.every((entry) => entry.statistic !== undefined)).toBe(true);
      expect(await statistics(again, 'get_servicer_statistic', { ...window, open_kfid: againKfId })).toEqual(
        first,
      );
    } finally {
      await again.close();
    }
  });

  it('keeps to the platform rules: no more than 31 days a call, nothing for today', async () => {
    const t = chinaDayStart(seeded.sim.clock.now()) / 1000;
    const corpStatsOf = (start: number, end: number) =>
      seeded.api('/cgi-bin/kf/get_corp_statistic', {
        open_kfid: seededKfId,
        start_time: start,
        end_time: end,
      });
    expect(await corpStatsOf(t, t)).toMatchObject({ errcode: 40058 });
    expect(await corpStatsOf(t - 32 * DAY, t - DAY)).toMatchObject({ errcode: 40058 });
  });

  it('is left out when the simulator starts with no history', async () => {
    const t = chinaDayStart(s.sim.clock.now()) / 1000;
    expect((await corpStats(t - DAY, t - DAY)).statistic_list).toEqual([{ stat_time: t - DAY }]);
  });

  it('refuses a servicer who is not a member of the corp', () => {
    expect(() => seeded.sim.createKfAccount(CORP.corpId, '售前', { servicers: ['mallory'] })).toThrow(
      'invalid userid mallory',
    );
  });
});
