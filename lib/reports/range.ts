import { BadRequestError } from '../errors';
import { addDays, type Day, dayOf } from './days';

/** What an invocation asks for: `{from, to}`, or (a schedule's event, `{}`) yesterday in China time. */
export function exportRange(event: unknown, now: number): { from: Day; to: Day } {
  const { from, to } = (event ?? {}) as { from?: unknown; to?: unknown };
  if (from === undefined && to === undefined) {
    const yesterday = addDays(dayOf(now), -1);
    return { from: yesterday, to: yesterday };
  }
  if (typeof from !== 'string' || typeof to !== 'string')
    throw new BadRequestError('give both from and to, as yyyy-mm-dd');
  return { from, to };
}
