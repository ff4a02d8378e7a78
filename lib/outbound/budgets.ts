import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { InboundMessage } from '../contracts/inbound';
import { dynamo } from '../dynamo';

/** WeCom allows replies within 48 h of the customer's last message, at most 5 per customer message. */
export const REPLY_WINDOW_MS = 48 * 3600_000;
export const REPLIES_PER_MESSAGE = 5;

export interface Budget {
  readonly lastCustomerMessageAt?: number;
  readonly repliesLeft?: number;
  /** What kf-bridge last saw of the session: a servicer has it, or it ended. */
  readonly session?: 'servicer' | 'ended';
}

/** What one page of inbound messages does to a customer's budget. */
export interface BudgetChange {
  readonly app: string;
  readonly openKfId: string;
  readonly customer: string;
  readonly lastCustomerMessageAt?: number;
  readonly session?: 'servicer' | 'ended' | 'open';
}

/** Folds a page's messages into one change per customer, in order. */
export function budgetChanges(messages: InboundMessage[]): BudgetChange[] {
  const changes = new Map<string, BudgetChange>();
  for (const message of messages) {
    if (message.channel !== 'kf' || !message.customer) continue;
    const key = `${message.account}#${message.customer}`;
    const current = changes.get(key) ?? {
      app: message.app,
      openKfId: message.account,
      customer: message.customer,
    };
    const body = message.message;
    if (message.origin === 'customer') {
      // A customer writing reopens an ended session; a servicer's session stays the servicer's.
      changes.set(key, {
        ...current,
        lastCustomerMessageAt: message.sentAt * 1000,
        ...(current.session === 'ended' && { session: 'open' }),
      });
    } else if (body.type === 'event' && body.event === 'session_status_change' && 'changeType' in body) {
      changes.set(key, { ...current, session: body.changeType === 3 ? 'ended' : 'servicer' });
    }
  }
  return [...changes.values()].filter(
    (change) => change.lastCustomerMessageAt !== undefined || change.session !== undefined,
  );
}

/** Per-customer reply budgets in the state table, fed by the puller, read by the sender. */
export class BudgetStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key(app: string, openKfId: string, customer: string) {
    return { pk: `BUDGET#${app}#${openKfId}`, sk: customer };
  }

  async read(app: string, openKfId: string, customer: string): Promise<Budget> {
    const { Item } = await dynamo('budget read', () =>
      this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: this.key(app, openKfId, customer),
          ConsistentRead: true,
        }),
      ),
    );
    return (Item ?? {}) as Budget;
  }

  async apply(change: BudgetChange): Promise<void> {
    const sets: string[] = [];
    const values: Record<string, unknown> = {};
    const names: Record<string, string> = {};
    let remove = '';
    if (change.lastCustomerMessageAt !== undefined) {
      sets.push('lastCustomerMessageAt = :at', 'repliesLeft = :replies', '#ttl = :ttl');
      names['#ttl'] = 'ttl';
      Object.assign(values, {
        ':at': change.lastCustomerMessageAt,
        ':replies': REPLIES_PER_MESSAGE,
        ':ttl': Math.floor((change.lastCustomerMessageAt + REPLY_WINDOW_MS) / 1000) + 86_400,
      });
    }
    if (change.session !== undefined) names['#session'] = 'session';
    if (change.session === 'open') remove = ' REMOVE #session';
    else if (change.session) {
      sets.push('#session = :session');
      values[':session'] = change.session;
    }
    await dynamo('budget write', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(change.app, change.openKfId, change.customer),
          UpdateExpression: `${sets.length > 0 ? `SET ${sets.join(', ')}` : ''}${remove}`.trim(),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
        }),
      ),
    );
  }

  /** One reply spent; replies on one customer's group are sent one at a time, so no race. */
  async spend(app: string, openKfId: string, customer: string): Promise<void> {
    await dynamo('budget spend', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(app, openKfId, customer),
          UpdateExpression: 'SET repliesLeft = repliesLeft - :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
    );
  }
}

/** Why a reply would break the platform's rules, or undefined when it may go out. */
export function budgetRefusal(budget: Budget, now: number): string | undefined {
  if (budget.lastCustomerMessageAt === undefined || budget.lastCustomerMessageAt <= now - REPLY_WINDOW_MS) {
    return 'no customer message in the last 48 h';
  }
  if ((budget.repliesLeft ?? 0) <= 0) return '5 replies already sent since the customer last wrote';
  if (budget.session === 'servicer') return 'a servicer has the session';
  if (budget.session === 'ended') return 'the session has ended; the customer has not written since';
  return undefined;
}
