import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chinaDayStart } from '../../simulator/wecom/statistics';
import { CORP, setup } from './harness';

let s: Awaited<ReturnType<typeof setup>>;
let openKfId: string;
const DAY = 24 * 3600;
beforeEach(async () => {
  s = await setup();
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
