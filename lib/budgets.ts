import { randomUUID } from 'node:crypto';
import type { InboundMessage } from './contracts/inbound';
import type { OutboundRequest } from './contracts/outbound';
import { conditional, dynamo } from './dynamo';
import type { ItemStore } from './items/itemStore';

/** Both platforms allow replies within 48 h of the customer's last message, at most 5 per customer message. */
export const REPLY_WINDOW_MS = 48 * 3600_000;
export const REPLIES_PER_MESSAGE = 5;
/**
 * MP: a follow, a QR scan, or a click on a menu item of type click, scancode_push or scancode_waitmsg allows
 * 3 replies within a minute; the other menu types (view, pic_*, location_select, …) allow none (reference,
 * Corrections).
 */
export const EVENT_WINDOW_MS = 60_000;
export const REPLIES_PER_EVENT = 3;
const MP_GRANTING_EVENTS = new Set(['subscribe', 'SCAN', 'CLICK', 'scancode_push', 'scancode_waitmsg']);
/** MP: "typing…" needs a customer message or event in the last 30 s. */
export const TYPING_WINDOW_MS = 30_000;
/** kf: a session lasts 48 h from the customer's first message, or until it is ended (reference §8.3). */
export const SESSION_LIFETIME_MS = 48 * 3600_000;
/** Budgets of MP followers share one scope per app: an MP app has one account. */
const MP_SCOPE = 'mp';

/**
 * A kf session as kf-bridge learns it (reference §8.3): `open` is state 0 or 1, where the API may reply;
 * `queued` (2), `servicer` (3) and `ended` (4), where WeCom refuses API replies with 95018.
 */
export type SessionState = 'open' | 'queued' | 'servicer' | 'ended';

/** session_status_change: a servicer took the session from the pool (1), had it transferred (2) or took it back (4); or ended it (3). */
const AFTER_CHANGE_TYPE: Readonly<Record<number, SessionState>> = {
  1: 'servicer',
  2: 'servicer',
  3: 'ended',
  4: 'servicer',
};

/** Whose budget: one customer of one kf account (`scope` = open_kfid), or one follower of an MP app (`mp`). */
export interface BudgetKey {
  readonly app: string;
  readonly scope: string;
  readonly customer: string;
}

export interface Budget {
  readonly lastCustomerMessageAt?: number;
  readonly repliesLeft?: number;
  readonly lastEventAt?: number;
  readonly eventRepliesLeft?: number;
  /** kf: when the customer's current session began, with their first message after the last one ended or lapsed. */
  readonly sessionStartedAt?: number;
  /** kf: the session's state as last learned, and when it became so. */
  readonly session?: SessionState;
  readonly sessionAt?: number;
}

/** What an inbound message, or an admin's move of a session, does to a customer's budget. */
export interface BudgetChange extends BudgetKey {
  readonly lastCustomerMessageAt?: number;
  /** Tells a replayed message (no new replies) from a second one in the same second (5 more). */
  readonly lastCustomerMessageId?: string;
  readonly lastEventAt?: number;
  /** kf: the state a servicer's event or an admin's move left the session in, and when. */
  readonly session?: { readonly state: SessionState; readonly at: number };
}

export const budgetKeyOf = (request: OutboundRequest): BudgetKey =>
  request.channel === 'kf'
    ? { app: request.app, scope: request.openKfId, customer: request.externalUserId }
    : { app: request.app, scope: MP_SCOPE, customer: request.openid };

function changeOf(message: InboundMessage): BudgetChange | undefined {
  if (!message.customer) return undefined;
  const key = {
    app: message.app,
    scope: message.channel === 'kf' ? message.account : MP_SCOPE,
    customer: message.customer,
  };
  const at = message.sentAt * 1000;
  const body = message.message;
  if (message.origin === 'customer')
    return { ...key, lastCustomerMessageAt: at, lastCustomerMessageId: message.id };
  if (body.type !== 'event') return undefined;
  if (message.channel === 'mp')
    return MP_GRANTING_EVENTS.has(body.event) ? { ...key, lastEventAt: at } : undefined;
  const state =
    body.event === 'session_status_change' && 'changeType' in body
      ? AFTER_CHANGE_TYPE[body.changeType]
      : undefined;
  return state && { ...key, session: { state, at } };
}

/**
 * What a page of inbound messages does to budgets, in send_time order: one change per customer message (any of
 * them may begin a new session), per MP event that allows replies, and per kf session event.
 */
export function budgetChanges(messages: InboundMessage[]): BudgetChange[] {
  return [...messages]
    .sort((a, b) => a.sentAt - b.sentAt)
    .map(changeOf)
    .filter((change) => change !== undefined);
}

/** The customer's message is newer than the one counted: a replayed one is not, a second in the same second is. */
const NEWER_MESSAGE =
  'attribute_not_exists(lastCustomerMessageAt) OR lastCustomerMessageAt < :at OR (lastCustomerMessageAt = :at AND lastCustomerMessageId <> :id)';
/**
 * The message begins a new kf session: the last one ended, or was over (48 h from its start), before it; or a state
 * is known of a session whose start is not. A state learned after the message (an event pulled before it) stands.
 */
const NEW_SESSION =
  '(sessionStartedAt <= :lapsedBefore OR #session = :ended OR (attribute_not_exists(sessionStartedAt) AND attribute_exists(#session))) AND (attribute_not_exists(sessionAt) OR sessionAt <= :at)';
const MESSAGE_UPDATE =
  'SET lastCustomerMessageAt = :at, lastCustomerMessageId = :id, repliesLeft = :replies, #ttl = :ttl';

/** Per-customer reply budgets in the state table, fed by the puller, the MP callback and admin moves, read by the sender. */
export class BudgetStore {
  constructor(
    private readonly items: ItemStore,
    private readonly table: string,
  ) {}

  private key({ app, scope, customer }: BudgetKey) {
    return { pk: `BUDGET#${app}#${scope}`, sk: customer };
  }

  async read(key: BudgetKey): Promise<Budget> {
    const { Item } = await dynamo('budget read', () =>
      this.items.get({ TableName: this.table, Key: this.key(key), ConsistentRead: true }),
    );
    return (Item ?? {}) as Budget;
  }

  /**
   * Applies a change. Every part is conditional on time, so a page pulled again after a crash, or an MP push
   * repeated, gives no extra replies, and an older event or message never overrides what a newer one did.
   */
  async apply(change: BudgetChange): Promise<void> {
    if (change.lastCustomerMessageAt !== undefined)
      await this.customerWrote(change, change.lastCustomerMessageAt, change.lastCustomerMessageId ?? '');
    if (change.lastEventAt !== undefined) {
      await conditional('budget event', () =>
        this.items.update({
          TableName: this.table,
          Key: this.key(change),
          UpdateExpression: 'SET lastEventAt = :at, eventRepliesLeft = :replies',
          ConditionExpression: 'attribute_not_exists(lastEventAt) OR lastEventAt < :at',
          ExpressionAttributeValues: { ':at': change.lastEventAt, ':replies': REPLIES_PER_EVENT },
        }),
      );
    }
    if (change.session) {
      const { state, at } = change.session;
      // Events of one page apply in order, so of two in the same second the later one stands.
      await conditional('budget session', () =>
        this.items.update({
          TableName: this.table,
          Key: this.key(change),
          UpdateExpression: 'SET #session = :state, sessionAt = :at',
          ConditionExpression: 'attribute_not_exists(sessionAt) OR sessionAt <= :at',
          ExpressionAttributeNames: { '#session': 'session' },
          ExpressionAttributeValues: { ':state': state, ':at': at },
        }),
      );
    }
  }

  /**
   * A newer customer message resets the quota to 5. On kf it also begins a new session, in state 0 where the API
   * may reply, when the last one ended or was over before it: of two writes whose conditions exclude each other,
   * the first continues the session (and notes the start of a customer's first one), the second begins a new one.
   */
  private async customerWrote(key: BudgetKey, at: number, id: string): Promise<void> {
    const update = (expression: string, condition: string, values: Record<string, unknown> = {}) =>
      conditional('budget message', () =>
        this.items.update({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            ...(expression.includes('#ttl') && { '#ttl': 'ttl' }),
            ...(key.scope !== MP_SCOPE && { '#session': 'session' }),
          },
          ExpressionAttributeValues: {
            ':at': at,
            ':id': id,
            ...(expression.includes(':replies') && {
              ':replies': REPLIES_PER_MESSAGE,
              ':ttl': Math.floor((at + REPLY_WINDOW_MS) / 1000) + 86_400,
            }),
            ...values,
          },
        }),
      );
    if (key.scope === MP_SCOPE) {
      await update(MESSAGE_UPDATE, NEWER_MESSAGE);
      return;
    }
    const session = { ':lapsedBefore': at - SESSION_LIFETIME_MS, ':ended': 'ended' };
    const reopened = { ...session, ':open': 'open' };
    const reopen = 'sessionStartedAt = :at, #session = :open, sessionAt = :at';
    if (
      (await update(
        `${MESSAGE_UPDATE}, sessionStartedAt = if_not_exists(sessionStartedAt, :at)`,
        `(${NEWER_MESSAGE}) AND NOT (${NEW_SESSION})`,
        session,
      )) ||
      (await update(`${MESSAGE_UPDATE}, ${reopen}`, `(${NEWER_MESSAGE}) AND ${NEW_SESSION}`, reopened))
    )
      return;
    // The message was counted already: its page is applied again after a crash. An end in the same second,
    // applied again before it, is undone as the first pass undid it; the quota stays as spent.
    await update(
      `SET ${reopen}`,
      `lastCustomerMessageAt = :at AND lastCustomerMessageId = :id AND ${NEW_SESSION}`,
      reopened,
    );
  }

  /**
   * One reply spent; replies on one customer's group are sent one at a time, so no race. The write carries a token
   * of this call: when DynamoDB applied it and its answer was lost, the store's retry finds the token and spends
   * nothing more (a reply spent twice would leave the customer's budget one short).
   */
  async spend(key: BudgetKey, from: 'event' | 'message'): Promise<void> {
    const field = from === 'event' ? 'eventRepliesLeft' : 'repliesLeft';
    const by = randomUUID();
    await conditional('budget spend', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(key),
        UpdateExpression: `SET ${field} = ${field} - :one, spentBy = :by`,
        ConditionExpression: 'attribute_not_exists(spentBy) OR spentBy <> :by',
        ExpressionAttributeValues: { ':one': 1, ':by': by },
      }),
    );
  }
}

/** Which allowance a reply would spend: an MP event's short one first, or the customer message's. */
export function allowance(budget: Budget, now: number): 'event' | 'message' | undefined {
  if ((budget.lastEventAt ?? 0) > now - EVENT_WINDOW_MS && (budget.eventRepliesLeft ?? 0) > 0) return 'event';
  if ((budget.lastCustomerMessageAt ?? 0) > now - REPLY_WINDOW_MS && (budget.repliesLeft ?? 0) > 0)
    return 'message';
  return undefined;
}

/** WeCom's service_state 0–4 (reference §8.3) as the session state replies are checked against. */
export const SESSION_OF_SERVICE_STATE: readonly SessionState[] = [
  'open',
  'open',
  'queued',
  'servicer',
  'ended',
];

const SESSION_REFUSALS: Readonly<Record<Exclude<SessionState, 'open'>, string>> = {
  queued: 'the session is queued for a servicer',
  servicer: 'a servicer has the session',
  ended: 'the session has ended; the customer has not written since',
};

/** Why a reply would break the platform's rules, or undefined when it may go out. */
export function budgetRefusal(budget: Budget, now: number): string | undefined {
  if (budget.session && budget.session !== 'open') return SESSION_REFUSALS[budget.session];
  if (allowance(budget, now)) return undefined;
  if (budget.lastCustomerMessageAt === undefined || budget.lastCustomerMessageAt <= now - REPLY_WINDOW_MS) {
    return 'no customer message in the last 48 h';
  }
  return '5 replies already sent since the customer last wrote';
}

/** MP's typing indicator: allowed for 30 s after the customer last wrote or triggered an event. */
export function typingRefusal(budget: Budget, now: number): string | undefined {
  const last = Math.max(budget.lastCustomerMessageAt ?? 0, budget.lastEventAt ?? 0);
  return last > now - TYPING_WINDOW_MS ? undefined : 'typing needs a customer message in the last 30 s';
}
