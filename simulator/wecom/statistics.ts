import { DAY } from '../core';
import { type Body, invalid, optionalString } from '../params';
import type { Activity, KfAccount } from './model';
import type { WecomWorld } from './world';

// Statistics days run 00:00–24:00 China time (UTC+8, no daylight saving).
const CHINA_OFFSET_MS = 8 * 3600_000;
export const chinaDayStart = (ms: number) => Math.floor((ms + CHINA_OFFSET_MS) / DAY) * DAY - CHINA_OFFSET_MS;

/**
 * The days a statistics call covers: times floored to 00:00 China time, yesterday back to 180 days, at most
 * 31 days (closed interval). The errcode for a bad range is UNVERIFIED; 40058 names the field.
 */
function days(world: WecomWorld, body: Body): number[] {
  const seconds = (field: string) => {
    const value = body[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      throw invalid(field, 'unix seconds required');
    return chinaDayStart(value * 1000);
  };
  const start = seconds('start_time');
  const end = seconds('end_time');
  const today = chinaDayStart(world.clock.now());
  if (start > end) throw invalid('start_time', 'after end_time');
  if (end >= today) throw invalid('end_time', 'data is available up to yesterday');
  if (start < today - 180 * DAY) throw invalid('start_time', 'more than 180 days ago');
  if ((end - start) / DAY > 30) throw invalid('end_time', 'more than 31 days after start_time');
  const list: number[] = [];
  for (let day = start; day <= end; day += DAY) list.push(day);
  return list;
}

const rate = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 10000) / 10000 : undefined;
const distinct = (activities: Activity[]) => new Set(activities.map((a) => a.externalUserId)).size;
const of = <K extends Activity['kind']>(list: Activity[], kind: K) =>
  list.filter((a): a is Extract<Activity, { kind: K }> => a.kind === kind);

function perDay(
  world: WecomWorld,
  account: KfAccount,
  body: Body,
  filter: (a: Activity) => boolean,
  compute: (list: Activity[]) => Record<string, number> | undefined,
) {
  return {
    statistic_list: days(world, body).map((day) => {
      const list = [
        ...world.history.activity(account, day),
        ...world.activity.filter((a) => a.at >= day && a.at < day + DAY),
      ].filter(filter);
      const statistic = list.length > 0 ? compute(list) : undefined;
      // A day without data comes back without `statistic`.
      return { stat_time: day / 1000, ...(statistic && { statistic }) };
    }),
  };
}

export function corpStatistic(world: WecomWorld, corpId: string, body: Body) {
  const account = world.account(corpId, body.open_kfid);
  return perDay(
    world,
    account,
    body,
    (a) => a.openKfId === account.openKfId,
    (list) => {
      const messages = of(list, 'customer_message');
      const assigned = of(list, 'session_assigned');
      const ai = assigned.filter((a) => a.to === 'ai').length;
      const transferRate = rate(of(list, 'ai_transfer').length, ai);
      return {
        session_cnt: distinct(assigned),
        customer_cnt: distinct(messages),
        customer_msg_cnt: messages.length,
        upgrade_service_customer_cnt: 0,
        ai_session_reply_cnt: ai,
        ...(transferRate !== undefined && { ai_transfer_rate: transferRate }),
        msg_rejected_customer_cnt: distinct(of(list, 'rejected')),
      };
    },
  );
}

/** Surveys sent when servicers ended sessions, and the customers' answers, as WeCom reports them. */
function satisfaction(list: Activity[]) {
  const surveys = of(list, 'satisfaction_survey').length;
  const ratings = of(list, 'satisfaction_rating');
  const share = (rating: string) => rate(ratings.filter((r) => r.rating === rating).length, ratings.length);
  const participation = rate(ratings.length, surveys);
  return {
    satisfaction_investgate_cnt: surveys,
    ...(participation !== undefined && { satisfaction_participation_rate: participation }),
    ...(ratings.length > 0 && {
      satisfied_rate: share('satisfied'),
      middling_rate: share('middling'),
      dissatisfied_rate: share('dissatisfied'),
    }),
  };
}

export function servicerStatistic(world: WecomWorld, corpId: string, body: Body) {
  const account = world.account(corpId, body.open_kfid);
  const servicer = optionalString(body, 'servicer_userid');
  const mine = (a: Activity) =>
    a.openKfId === account.openKfId &&
    'servicerUserId' in a &&
    a.servicerUserId !== undefined &&
    (servicer === undefined || a.servicerUserId === servicer);
  return perDay(world, account, body, mine, (list) => {
    const sessions = of(list, 'session_assigned').filter((a) => a.to === 'servicer');
    const replies = of(list, 'servicer_reply');
    const firstReplies = [...new Map(replies.map((r) => [r.externalUserId, r])).values()];
    const delays = firstReplies.flatMap((r) => (r.replyDelaySec === undefined ? [] : [r.replyDelaySec]));
    const replyRate = rate(
      sessions.filter((s) => replies.some((r) => r.externalUserId === s.externalUserId)).length,
      sessions.length,
    );
    return {
      session_cnt: sessions.length,
      customer_cnt: distinct(sessions),
      customer_msg_cnt: of(list, 'customer_message').length,
      ...(replyRate !== undefined && { reply_rate: replyRate }),
      ...(delays.length > 0 && {
        first_reply_average_sec: delays.reduce((a, b) => a + b, 0) / delays.length,
      }),
      ...satisfaction(list),
      upgrade_service_customer_cnt: 0,
      upgrade_service_member_invite_cnt: 0,
      upgrade_service_member_customer_cnt: 0,
      upgrade_service_groupchat_invite_cnt: 0,
      upgrade_service_groupchat_customer_cnt: 0,
      msg_rejected_customer_cnt: 0,
    };
  });
}
