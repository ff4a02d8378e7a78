import { describe, expect, it } from 'vitest';
import { INBOUND_SCHEMA, type InboundMessage } from '../../lib/contracts/inbound';
import { allowance, budgetChanges, budgetRefusal, typingRefusal } from '../../lib/outbound/budgets';

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
      {
        app: 'default',
        scope: 'wkA',
        customer: 'wmA',
        lastCustomerMessageAt: 102_000,
        lastCustomerMessageId: 'wmA-102',
      },
      {
        app: 'default',
        scope: 'wkA',
        customer: 'wmB',
        lastCustomerMessageAt: 101_000,
        lastCustomerMessageId: 'wmB-101',
        session: 'servicer',
      },
      {
        app: 'default',
        scope: 'wkA',
        customer: 'wmC',
        session: 'open',
        lastCustomerMessageAt: 105_000,
        lastCustomerMessageId: 'wmC-105',
      },
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
