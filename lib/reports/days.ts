import { BadRequestError } from '../errors';

/** WeCom's statistics days run 00:00–24:00 China time (UTC+8, no daylight saving). */
const CHINA_OFFSET_MS = 8 * 3600_000;
export const DAY_MS = 24 * 3600_000;
/** Statistics reach back 180 days, and one call covers at most 31 days. */
export const OLDEST_DAYS_BACK = 180;
export const DAYS_PER_CALL = 31;

/** A day as `yyyy-mm-dd`, China time. */
export type Day = string;

/** 00:00 China time of the day containing `ms`. */
export const dayStart = (ms: number) =>
  Math.floor((ms + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS;

export const dayOf = (ms: number): Day => new Date(dayStart(ms) + CHINA_OFFSET_MS).toISOString().slice(0, 10);

export function startOf(day: Day): number {
  const ms = Date.parse(`${day}T00:00:00+08:00`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(ms) || dayOf(ms) !== day)
    throw new BadRequestError(`'${day}' is not a date (yyyy-mm-dd)`);
  return ms;
}

export const addDays = (day: Day, days: number): Day => dayOf(startOf(day) + days * DAY_MS);

export function daysFrom(from: Day, to: Day): Day[] {
  const days: Day[] = [];
  for (let ms = startOf(from); ms <= startOf(to); ms += DAY_MS) days.push(dayOf(ms));
  return days;
}

/** The days statistics exist for now: yesterday back to 180 days. */
export function availableDays(now: number): { oldest: Day; newest: Day } {
  const today = dayOf(now);
  return { oldest: addDays(today, -OLDEST_DAYS_BACK), newest: addDays(today, -1) };
}

/** Checks a requested range against what WeCom can answer; a clear error names what is wrong. */
export function checkRange(from: Day, to: Day, now: number): void {
  const { oldest, newest } = availableDays(now);
  if (startOf(from) > startOf(to)) throw new BadRequestError(`from ${from} is after to ${to}`);
  if (to > newest) throw new BadRequestError(`to ${to} is not over yet: statistics go up to ${newest}`);
  if (from < oldest) throw new BadRequestError(`from ${from} is more than 180 days ago (oldest ${oldest})`);
}

/** Consecutive windows of at most `size` days covering from..to. */
export function windows(from: Day, to: Day, size = DAYS_PER_CALL): { from: Day; to: Day }[] {
  const all = daysFrom(from, to);
  const result: { from: Day; to: Day }[] = [];
  for (let i = 0; i < all.length; i += size) {
    const part = all.slice(i, i + size);
    result.push({ from: part[0] as Day, to: part.at(-1) as Day });
  }
  return result;
}
