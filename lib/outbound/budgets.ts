import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { InboundMessage } from '../contracts/inbound';
import type { OutboundRequest } from '../contracts/outbound';
import { conditional, dynamo } from '../dynamo';

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
  /** What kf-bridge last saw of a kf session: a servicer has it, or it ended. */
  readonly session?: 'servicer' | 'ended';
}

/** What inbound messages do to a customer's budget. */
export interface BudgetChange extends BudgetKey {
  readonly lastCustomerMessageAt?: number;
  /** Tells a replayed message (no new replies) from a second one in the same second (5 more). */
  readonly lastCustomerMessageId?: string;
  readonly lastEventAt?: number;
  readonly session?: 'servicer' | 'ended' | 'open';
}

export const budgetKeyOf = (request: OutboundRequest): BudgetKey =>
  request.channel === 'kf'
    ? { app: request.app, scope: request.openKfId, customer: request.externalUserId }
    : { app: request.app, scope: 'mp', customer: request.openid };

/** Folds messages into one change per customer, in order. */
export function budgetChanges(messages: InboundMessage[]): BudgetChange[] {
  const changes = new Map<string, BudgetChange>();
  for (const message of messages) {
    if (!message.customer) continue;
    const scope = message.channel === 'kf' ? message.account : 'mp';
    const key = `${scope}#${message.customer}`;
    const current = changes.get(key) ?? { app: message.app, scope, customer: message.customer };
    const body = message.message;
    if (message.origin === 'customer') {
      // A customer writing reopens an ended session; a servicer's session stays the servicer's.
      changes.set(key, {
        ...current,
        lastCustomerMessageAt: message.sentAt * 1000,
        lastCustomerMessageId: message.id,
        ...(current.session === 'ended' && { session: 'open' }),
      });
    } else if (body.type === 'event') {
      if (message.channel === 'mp' && MP_GRANTING_EVENTS.has(body.event))
        changes.set(key, { ...current, lastEventAt: message.sentAt * 1000 });
      else if (body.event === 'session_status_change' && 'changeType' in body)
        changes.set(key, { ...current, session: body.changeType === 3 ? 'ended' : 'servicer' });
    }
  }
  return [...changes.values()].filter(
    (change) =>
      change.lastCustomerMessageAt !== undefined ||
      change.lastEventAt !== undefined ||
      change.session !== undefined,
  );
}

/** Per-customer reply budgets in the state table, fed by the puller and the MP callback, read by the sender. */
export class BudgetStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key({ app, scope, customer }: BudgetKey) {
    return { pk: `BUDGET#${app}#${scope}`, sk: customer };
  }

  async read(key: BudgetKey): Promise<Budget> {
    const { Item } = await dynamo('budget read', () =>
      this.db.send(new GetCommand({ TableName: this.table, Key: this.key(key), ConsistentRead: true })),
    );
    return (Item ?? {}) as Budget;
  }

  /**
   * Applies a change. A customer message resets the quota only when it is newer than the one already counted,
   * so a page pulled again after a crash, or an MP push repeated, gives no extra replies.
   */
  async apply(change: BudgetChange): Promise<void> {
    const at = change.lastCustomerMessageAt;
    if (at !== undefined) {
      await conditional('budget message', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: this.key(change),
            UpdateExpression:
              'SET lastCustomerMessageAt = :at, lastCustomerMessageId = :id, repliesLeft = :replies, #ttl = :ttl',
            ConditionExpression:
              'attribute_not_exists(lastCustomerMessageAt) OR lastCustomerMessageAt < :at OR (lastCustomerMessageAt = :at AND lastCustomerMessageId <> :id)',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':at': at,
              ':id': change.lastCustomerMessageId ?? '',
              ':replies': REPLIES_PER_MESSAGE,
              ':ttl': Math.floor((at + REPLY_WINDOW_MS) / 1000) + 86_400,
            },
          }),
        ),
      );
    }
    if (change.lastEventAt !== undefined) {
      await conditional('budget event', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: this.key(change),
            UpdateExpression: 'SET lastEventAt = :at, eventRepliesLeft = :replies',
            ConditionExpression: 'attribute_not_exists(lastEventAt) OR lastEventAt < :at',
            ExpressionAttributeValues: { ':at': change.lastEventAt, ':replies': REPLIES_PER_EVENT },
          }),
        ),
      );
    }
    if (change.session !== undefined) {
      await dynamo('budget session', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: this.key(change),
            UpdateExpression: change.session === 'open' ? 'REMOVE #session' : 'SET #session = :session',
            ExpressionAttributeNames: { '#session': 'session' },
            ...(change.session !== 'open' && { ExpressionAttributeValues: { ':session': change.session } }),
          }),
        ),
      );
    }
  }

  /** One reply spent; replies on one customer's group are sent one at a time, so no race. */
  async spend(key: BudgetKey, from: 'event' | 'message'): Promise<void> {
    const field = from === 'event' ? 'eventRepliesLeft' : 'repliesLeft';
    await dynamo('budget spend', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression: `SET ${field} = ${field} - :one`,
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
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

/** Why a reply would break the platform's rules, or undefined when it may go out. */
export function budgetRefusal(budget: Budget, now: number): string | undefined {
  if (budget.session === 'servicer') return 'a servicer has the session';
  if (budget.session === 'ended') return 'the session has ended; the customer has not written since';
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
