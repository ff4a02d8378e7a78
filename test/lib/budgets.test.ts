import { describe, expect, it } from 'vitest';
import { INBOUND_SCHEMA, type InboundMessage } from '../../lib/contracts/inbound';
import { budgetChanges, budgetRefusal } from '../../lib/outbound/budgets';

const message = (
  customer: string,
  sentAt: number,
  body: InboundMessage['message'],
  origin: InboundMessage['origin'] = 'customer',
): InboundMessage => ({
  schema: INBOUND_SCHEMA,
  app: 'default',
  channel: 'kf',
  id: `${customer}-${sentAt}`,
  account: 'wkA',
  customer,
  origin,
  sentAt,
  receivedAt: '2026-11-21T08:00:00.000Z',
  message: body,
});
const text = { type: 'text' as const, content: 'hi' };

describe('reply budgets', () => {
  it('fold a page into one change per customer: last message, then what became of the session', () => {
    const changes = budgetChanges([
      message('wmA', 100, text),
      message('wmB', 101, text),
      message('wmA', 102, text),
      message(
        'wmB',
        103,
        { type: 'event', event: 'session_status_change', changeType: 1, newServicerUserId: 'alice' },
        'event',
      ),
      message(
        'wmC',
        104,
        { type: 'event', event: 'session_status_change', changeType: 3, msgCode: 'c' },
        'event',
      ),
      message('wmC', 105, text),
      message('wmD', 106, text, 'servicer'),
    ]);
    expect(changes).toEqual([
      { app: 'default', openKfId: 'wkA', customer: 'wmA', lastCustomerMessageAt: 102_000 },
      {
        app: 'default',
        openKfId: 'wkA',
        customer: 'wmB',
        lastCustomerMessageAt: 101_000,
        session: 'servicer',
      },
      { app: 'default', openKfId: 'wkA', customer: 'wmC', session: 'open', lastCustomerMessageAt: 105_000 },
    ]);
  });

  it('refuse outside 48 h, past 5 replies, in a servicer session or an ended one', () => {
    const now = 1_000_000_000;
    expect(budgetRefusal({ lastCustomerMessageAt: now - 1000, repliesLeft: 5 }, now)).toBeUndefined();
    expect(budgetRefusal({}, now)).toMatch(/48 h/);
    expect(budgetRefusal({ lastCustomerMessageAt: now - 48 * 3600_000, repliesLeft: 5 }, now)).toMatch(
      /48 h/,
    );
    expect(budgetRefusal({ lastCustomerMessageAt: now, repliesLeft: 0 }, now)).toMatch(/5 replies/);
    expect(budgetRefusal({ lastCustomerMessageAt: now, repliesLeft: 5, session: 'servicer' }, now)).toMatch(
      /servicer/,
    );
    expect(budgetRefusal({ lastCustomerMessageAt: now, repliesLeft: 5, session: 'ended' }, now)).toMatch(
      /ended/,
    );
  });
});
