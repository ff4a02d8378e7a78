import { describe, expect, it } from 'vitest';
import { allowance, budgetChanges, budgetRefusal, typingRefusal } from '../../lib/budgets';
import { INBOUND_SCHEMA, type InboundMessage } from '../../lib/contracts/inbound';

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
  it('turn a page into changes in send_time order: every customer message, and what each session event made of the session', () => {
    const change = (customer: string, sentAt: number, changeType: number) =>
      message(customer, sentAt, { type: 'event', event: 'session_status_change', changeType }, 'event');
    const key = (customer: string) => ({ app: 'default', scope: 'wkA', customer });
    const changes = budgetChanges([
      message('wmA', 100, text),
      message('wmB', 101, text),
      message('wmA', 102, text),
      change('wmB', 103, 1),
      change('wmC', 104, 3),
      message('wmC', 105, text),
      message('wmD', 106, text, 'servicer'),
      change('wmD', 109, 4),
      change('wmD', 107, 2),
      change('wmE', 110, 9),
    ]);
    expect(changes).toEqual([
      { ...key('wmA'), lastCustomerMessageAt: 100_000, lastCustomerMessageId: 'wmA-100' },
      { ...key('wmB'), lastCustomerMessageAt: 101_000, lastCustomerMessageId: 'wmB-101' },
      { ...key('wmA'), lastCustomerMessageAt: 102_000, lastCustomerMessageId: 'wmA-102' },
      { ...key('wmB'), session: { state: 'servicer', at: 103_000 } },
      { ...key('wmC'), session: { state: 'ended', at: 104_000 } },
      { ...key('wmC'), lastCustomerMessageAt: 105_000, lastCustomerMessageId: 'wmC-105' },
      { ...key('wmD'), session: { state: 'servicer', at: 107_000 } },
      { ...key('wmD'), session: { state: 'servicer', at: 109_000 } },
    ]);
  });

  it('give an MP follow, QR scan or menu click its own short allowance; other MP events none', () => {
    const mp = (customer: string, sentAt: number, event: string): InboundMessage => ({
      ...message(customer, sentAt, { type: 'event', event, fields: {} }, 'event'),
      channel: 'mp',
      account: 'gh_0123456789ab',
    });
    expect(
      budgetChanges([mp('oA', 100, 'subscribe'), mp('oB', 101, 'VIEW'), mp('oC', 102, 'CLICK')]),
    ).toEqual([
      { app: 'default', scope: 'mp', customer: 'oA', lastEventAt: 100_000 },
      { app: 'default', scope: 'mp', customer: 'oC', lastEventAt: 102_000 },
    ]);
  });

  it('give the scan-code menu events the short allowance too, and no other menu type', () => {
    const mp = (customer: string, sentAt: number, event: string): InboundMessage => ({
      ...message(customer, sentAt, { type: 'event', event, fields: {} }, 'event'),
      channel: 'mp',
      account: 'gh_0123456789ab',
    });
    const events = [
      'scancode_push',
      'scancode_waitmsg',
      'pic_sysphoto',
      'pic_photo_or_album',
      'pic_weixin',
      'location_select',
      'view_miniprogram',
    ];
    expect(budgetChanges(events.map((event, i) => mp(`o${i}`, 100 + i, event)))).toEqual([
      { app: 'default', scope: 'mp', customer: 'o0', lastEventAt: 100_000 },
      { app: 'default', scope: 'mp', customer: 'o1', lastEventAt: 101_000 },
    ]);
  });

  it('refuse outside 48 h, past 5 replies, in a session a servicer has, queued for one, or ended', () => {
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
    expect(budgetRefusal({ lastCustomerMessageAt: now, repliesLeft: 5, session: 'queued' }, now)).toMatch(
      /queued/,
    );
    expect(
      budgetRefusal({ lastCustomerMessageAt: now, repliesLeft: 5, session: 'open' }, now),
    ).toBeUndefined();
  });

  it('spend an MP event allowance first, for one minute, then the message allowance', () => {
    const now = 1_000_000_000;
    const afterEvent = { lastEventAt: now - 59_000, eventRepliesLeft: 3 };
    expect(allowance(afterEvent, now)).toBe('event');
    expect(allowance({ ...afterEvent, eventRepliesLeft: 0 }, now)).toBeUndefined();
    expect(budgetRefusal({ lastEventAt: now - 60_000, eventRepliesLeft: 3 }, now)).toMatch(/48 h/);
    expect(
      allowance({ ...afterEvent, eventRepliesLeft: 0, lastCustomerMessageAt: now - 1, repliesLeft: 1 }, now),
    ).toBe('message');
  });

  it('allow typing only within 30 s of a customer message or event', () => {
    const now = 1_000_000_000;
    expect(typingRefusal({ lastCustomerMessageAt: now - 29_000 }, now)).toBeUndefined();
    expect(typingRefusal({ lastEventAt: now - 10_000 }, now)).toBeUndefined();
    expect(typingRefusal({ lastCustomerMessageAt: now - 30_000, repliesLeft: 5 }, now)).toMatch(/30 s/);
  });
});
