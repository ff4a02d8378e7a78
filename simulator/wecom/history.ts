import { createHash } from 'node:crypto';
import { DAY, HOUR, SeededRandom } from '../core';
import type { Activity, KfAccount } from './model';
import { chinaDayStart } from './statistics';

/** WeCom keeps statistics for 180 days; a made-up past longer than that could never be asked for. */
export const MAX_HISTORY_DAYS = 180;

type Rating = 'satisfied' | 'middling' | 'dissatisfied';

/**
 * A made-up past for the statistics endpoints, so a report of last week has something to show on a simulator
 * started today: on the days before the simulator started, every kf account and each of its servicers had
 * customers. The figures are the same on every run for the same seed, account name, servicer and date, busier
 * on weekdays than at weekends, and every servicer answers and is rated on every one of those days. Only the
 * statistics read this past: no message, session or customer of it exists anywhere else.
 */
export class StatisticsHistory {
  private readonly lastDay: number;
  private readonly firstDay: number;

  constructor(
    private readonly seed: number,
    startedAt: number,
    days: number,
  ) {
    if (!Number.isInteger(days) || days < 0 || days > MAX_HISTORY_DAYS)
      throw new RangeError(`statistics history: days must be a whole number from 0 to ${MAX_HISTORY_DAYS}`);
    this.lastDay = chinaDayStart(startedAt) - DAY;
    this.firstDay = this.lastDay - (days - 1) * DAY;
  }

  /** What happened on the China-time day starting at `day` in the account, before the simulator started. */
  activity(account: KfAccount, day: number): Activity[] {
    if (day < this.firstDay || day > this.lastDay) return [];
    const random = new SeededRandom(seedOf(`${this.seed}|${account.name}|${day}`));
    const chance = (p: number) => random.next() < p;
    const servicers = [...account.servicers.keys()].sort();
    const weekday = new Date(day + 8 * HOUR).getUTCDay();
    const busy = weekday === 0 || weekday === 6 ? 0.55 : 1;
    const customers = Math.max(servicers.length + 2, Math.round((8 + 14 * random.next()) * busy));
    const log: Activity[] = [];
    const openKfId = account.openKfId;
    for (let i = 0; i < customers; i++) {
      const externalUserId = `wmHistory${seedOf(account.name).toString(36)}x${i}`;
      let at = day + 9 * HOUR + Math.floor(random.next() * 11 * HOUR);
      const says = (servicerUserId?: string) => {
        const messages = 1 + Math.floor(random.next() * 4);
        for (let m = 0; m < messages; m++) {
          at += 20_000;
          log.push({
            kind: 'customer_message',
            at,
            openKfId,
            externalUserId,
            ...(servicerUserId && { servicerUserId }),
          });
        }
      };
      // Each servicer's first customer of the day is answered and rates them, so every servicer has figures.
      const guaranteed = i < servicers.length;
      let servicer = guaranteed ? servicers[i] : undefined;
      if (!guaranteed && servicers.length > 0 && chance(0.65))
        servicer = servicers[Math.floor(random.next() * servicers.length)];
      if (!servicer) {
        // Some write and leave before anyone takes them: customers, not sessions.
        const leaves = chance(0.25);
        if (!leaves) log.push({ kind: 'session_assigned', at, openKfId, externalUserId, to: 'ai' });
        says();
        if (leaves) continue;
        if (servicers.length === 0 || !chance(0.25)) continue;
        at += 60_000;
        log.push({ kind: 'ai_transfer', at, openKfId, externalUserId });
        servicer = servicers[Math.floor(random.next() * servicers.length)] as string;
      }
      log.push({
        kind: 'session_assigned',
        at,
        openKfId,
        externalUserId,
        to: 'servicer',
        servicerUserId: servicer,
      });
      says(servicer);
      if (guaranteed || chance(0.9)) {
        const replyDelaySec = 8 + Math.round(240 * random.next() ** 2);
        at += replyDelaySec * 1000;
        log.push({
          kind: 'servicer_reply',
          at,
          openKfId,
          externalUserId,
          servicerUserId: servicer,
          replyDelaySec,
        });
      }
      if (!guaranteed && !chance(0.8)) continue;
      at += 10 * 60_000;
      log.push({ kind: 'satisfaction_survey', at, openKfId, externalUserId, servicerUserId: servicer });
      if (!guaranteed && !chance(0.65)) continue;
      at += 60_000;
      log.push({
        kind: 'satisfaction_rating',
        at,
        openKfId,
        externalUserId,
        servicerUserId: servicer,
        rating: rating(random.next()),
      });
    }
    if (chance(0.3))
      log.push({ kind: 'rejected', at: day + 21 * HOUR, openKfId, externalUserId: 'wmHistoryRejected' });
    return log;
  }
}

const rating = (draw: number): Rating =>
  draw < 0.72 ? 'satisfied' : draw < 0.9 ? 'middling' : 'dissatisfied';

const seedOf = (text: string) => createHash('sha256').update(text).digest().readUInt32BE(0);
