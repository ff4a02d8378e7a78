import { randomUUID } from 'node:crypto';
import type { SendStatus } from '../contracts/outbound';
import { conditional, dynamo } from '../dynamo';
import type { ItemStore } from '../items/itemStore';

export interface SendOutcome {
  readonly status: SendStatus;
  /** The WeCom msgid (kf only; absent while queued). */
  readonly msgid?: string;
  readonly errcode?: number;
  readonly reason?: string;
  /** WeCom's fail_type, when a msg_send_fail event reported the send undelivered. */
  readonly failType?: number;
  readonly at: number;
}

/** WeCom's msg_send_fail fail_type values (reference §5.3). */
const FAIL_TYPES: Record<number, string> = {
  0: 'unknown reason',
  1: 'the kf account was deleted',
  2: 'the app was closed',
  4: 'the session expired (over 48 h)',
  5: 'the session was closed',
  6: 'over the limit of 5 messages',
  7: 'no WeChat Channels account bound',
  8: 'the company is not verified',
  9: 'no WeChat Channels account bound and the company is not verified',
  10: 'the customer refuses messages',
  11: 'no member of the company has logged in to the WeCom app',
  12: 'a message type the kf component does not allow',
};

export const SEND_LEDGER_TTL_SECONDS = 30 * 24 * 3600;

/** What the ledger holds of a request besides its outcome. */
export interface SendState {
  readonly outcome?: SendOutcome;
  /** When an MP send was begun whose outcome was never learned (see noteAttempt). */
  readonly attemptedAt?: number;
  /** MP sends' attempts (kf counts them by msgid: see msgidIndex). */
  readonly attempts?: number;
  /** When the HTTP API accepted the request. */
  readonly queuedAt?: number;
}

/** A ledger item's outcome (a delivery report turns a send into a failure) and its attempt notes. */
function stateOf(Item: Record<string, unknown> | undefined): SendState {
  const attempt = {
    ...(typeof Item?.attemptedAt === 'number' && { attemptedAt: Item.attemptedAt }),
    ...(typeof Item?.attempts === 'number' && { attempts: Item.attempts }),
    ...(typeof Item?.queuedAt === 'number' && { queuedAt: Item.queuedAt }),
  };
  if (!Item?.outcome) return attempt;
  const outcome = Item.outcome as SendOutcome;
  const undelivered = Item.undelivered as { failType: number; at: number } | undefined;
  if (!undelivered) return { outcome, ...attempt };
  return {
    outcome: {
      ...outcome,
      status: 'failed',
      failType: undelivered.failType,
      reason: `WeCom could not deliver it: ${FAIL_TYPES[undelivered.failType] ?? `fail_type ${undelivered.failType}`}`,
    },
    ...attempt,
  };
}

/** The outcome of every outbound request, by request id: what makes a retried request a no-op. */
export class SendLedger {
  constructor(
    private readonly items: ItemStore,
    private readonly table: string,
  ) {}

  private key(app: string, requestId: string) {
    return { pk: `SEND#${app}`, sk: requestId };
  }

  /** The request's outcome; a later report that WeCom could not deliver it turns a send into a failure. */
  async read(app: string, requestId: string): Promise<SendOutcome | undefined> {
    return (await this.state(app, requestId)).outcome;
  }

  /** The outcome, and what is known of the request's attempts. */
  async state(app: string, requestId: string): Promise<SendState> {
    const { Item } = await dynamo('send ledger read', () =>
      this.items.get({ TableName: this.table, Key: this.key(app, requestId), ConsistentRead: true }),
    );
    return stateOf(Item);
  }

  /**
   * Notes a request the HTTP API accepted, unless it has an outcome already: that outcome, if any. One write
   * that leaves an outcome in place and answers the item as it was, so no read comes before it.
   */
  async queue(app: string, requestId: string, at: number): Promise<SendOutcome | undefined> {
    const { Attributes } = await dynamo('send ledger queue', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, requestId),
        UpdateExpression:
          'SET outcome = if_not_exists(outcome, :outcome), queuedAt = if_not_exists(queuedAt, :at), #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':at': at,
          ':outcome': { status: 'queued', at },
          ':ttl': Math.floor(at / 1000) + SEND_LEDGER_TTL_SECONDS,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return stateOf(Attributes).outcome;
  }

  /**
   * Records the outcome, leaving any delivery report already there in place. A known outcome (sent, failed,
   * rejected) is never replaced, and replaces only queued or uncertain: of two deliveries of one request racing,
   * the one that learned what happened wins. False when the outcome was not recorded for that reason.
   */
  record(app: string, requestId: string, outcome: SendOutcome): Promise<boolean> {
    return conditional('send ledger write', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, requestId),
        UpdateExpression: 'SET outcome = :outcome, #ttl = :ttl',
        ConditionExpression:
          outcome.status === 'uncertain'
            ? 'attribute_not_exists(outcome) OR outcome.#status = :queued'
            : 'attribute_not_exists(outcome) OR outcome.#status IN (:queued, :uncertain)',
        ExpressionAttributeNames: { '#ttl': 'ttl', '#status': 'status' },
        ExpressionAttributeValues: {
          ':outcome': outcome,
          ':ttl': Math.floor(outcome.at / 1000) + SEND_LEDGER_TTL_SECONDS,
          ':queued': 'queued',
          ...(outcome.status !== 'uncertain' && { ':uncertain': 'uncertain' }),
        },
      }),
    );
  }

  /**
   * A request sent back from the dead-letter queue is queued again, from queued, failed or no outcome only: a
   * request sent, uncertain (it may have reached the customer) or rejected is never sent again. False when its
   * outcome is one of those. The attempts counted stay: a redriven request is tried at least once more.
   */
  requeue(app: string, requestId: string, at: number, reason: string): Promise<boolean> {
    return conditional('send ledger requeue', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, requestId),
        UpdateExpression: 'SET outcome = :outcome, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(outcome) OR outcome.#status IN (:queued, :failed)',
        ExpressionAttributeNames: { '#ttl': 'ttl', '#status': 'status' },
        ExpressionAttributeValues: {
          ':outcome': { status: 'queued', reason, at },
          ':ttl': Math.floor(at / 1000) + SEND_LEDGER_TTL_SECONDS,
          ':queued': 'queued',
          ':failed': 'failed',
        },
      }),
    );
  }

  /**
   * A request an operator gave up in the dead-letter queue fails with the reason, if it was still queued (or
   * never noted); any settled outcome stays. False when one did.
   */
  giveUp(app: string, requestId: string, at: number, reason: string): Promise<boolean> {
    return conditional('send ledger give up', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, requestId),
        UpdateExpression: 'SET outcome = :outcome, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(outcome) OR outcome.#status = :queued',
        ExpressionAttributeNames: { '#ttl': 'ttl', '#status': 'status' },
        ExpressionAttributeValues: {
          ':outcome': { status: 'failed', reason, at },
          ':ttl': Math.floor(at / 1000) + SEND_LEDGER_TTL_SECONDS,
          ':queued': 'queued',
        },
      }),
    );
  }

  /**
   * Notes, in one write, that an MP send is about to be attempted (MP has no msgid to refuse a repeat), and counts
   * the attempt. `earlier`: another attempt's note was already there, whose outcome is unknown; `attempts`: the
   * request's attempts, this one included. The note carries a token of this call: when DynamoDB applied the write
   * and its answer was lost, the store's retry finds the note taken and the token says it is this call's own (not
   * an earlier attempt's, which would record a reply never sent as uncertain, and count the attempt twice).
   */
  async noteAttempt(
    app: string,
    requestId: string,
    at: number,
  ): Promise<{ earlier: boolean; attempts: number }> {
    const by = randomUUID();
    try {
      let attempts: unknown;
      const noted = await conditional('send ledger attempt', async () => {
        const { Attributes } = await this.items.update({
          TableName: this.table,
          Key: this.key(app, requestId),
          UpdateExpression: 'SET attemptedAt = :at, attemptBy = :by ADD attempts :one',
          ConditionExpression: 'attribute_not_exists(attemptedAt)',
          ExpressionAttributeValues: { ':at': at, ':by': by, ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        });
        attempts = Attributes?.attempts;
      });
      if (noted) return { earlier: false, attempts: Number(attempts ?? 1) };
      const { Item } = await dynamo('send ledger attempt read', () =>
        this.items.get({ TableName: this.table, Key: this.key(app, requestId), ConsistentRead: true }),
      );
      return Item?.attemptBy === by
        ? { earlier: false, attempts: Number(Item.attempts ?? 1) }
        : { earlier: true, attempts: Number(Item?.attempts ?? 0) + 1 };
    } catch (error) {
      // The note may be this call's own, with no send made after it: taken back if it is, so the next delivery
      // sends rather than record a reply never sent as uncertain (the caller counts the attempt on its own).
      await this.items
        .update({
          TableName: this.table,
          Key: this.key(app, requestId),
          UpdateExpression: 'REMOVE attemptedAt, attemptBy ADD attempts :less',
          ConditionExpression: 'attemptBy = :by',
          ExpressionAttributeValues: { ':by': by, ':less': -1 },
        })
        .catch(() => {});
      throw error;
    }
  }

  /** Counts an MP attempt that failed before its note (its files, its budget); the request's attempts so far. */
  async countAttempt(app: string, requestId: string): Promise<number> {
    const { Attributes } = await dynamo('send ledger attempt count', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, requestId),
        UpdateExpression: 'ADD attempts :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.attempts ?? 1);
  }

  /** Clears an MP attempt's note when MP answered that it did not carry the send out. */
  async clearAttempt(app: string, requestId: string): Promise<void> {
    await dynamo('send ledger attempt cleared', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, requestId),
        UpdateExpression: 'REMOVE attemptedAt',
      }),
    );
  }

  /**
   * Maps a msgid back to its request. The sender writes it before calling WeCom, because WeCom can report a
   * send undelivered (msg_send_fail) before the call that made it has even returned; so it also notes and counts
   * the kf attempt, in the same write. `unknown`: an earlier attempt wrote it and did not clear it, so its outcome
   * is unknown; `presented`: WeCom has seen this msgid before, whatever it answered; `attempts`: the request's
   * attempts, this one included. The write carries a token of this call and keeps what it found (`prior*`): when
   * DynamoDB applied it and its answer was lost, the store's retry finds the token and reads the index as this
   * call found it, not its own first try as an earlier attempt (which would make a refusal uncertain, and count
   * the attempt twice).
   */
  async indexMsgid(
    app: string,
    msgid: string,
    requestId: string,
    at: number,
  ): Promise<{ unknown: boolean; presented: boolean; attempts: number }> {
    const key = { pk: `SENDMSGID#${app}`, sk: msgid };
    const by = randomUUID();
    let old: Record<string, unknown> | undefined;
    const indexed = await conditional('send ledger index', async () => {
      ({ Attributes: old } = await this.items.update({
        TableName: this.table,
        Key: key,
        UpdateExpression:
          'SET requestId = :requestId, #ttl = :ttl, indexBy = :by, priorRequestId = if_not_exists(requestId, :none), priorCleared = if_not_exists(cleared, :false), priorAttempts = if_not_exists(attempts, :zero) REMOVE cleared ADD attempts :one',
        ConditionExpression: 'attribute_not_exists(indexBy) OR indexBy <> :by',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':requestId': requestId,
          ':ttl': Math.floor(at / 1000) + SEND_LEDGER_TTL_SECONDS,
          ':by': by,
          ':none': '',
          ':false': false,
          ':zero': 0,
          ':one': 1,
        },
        ReturnValues: 'ALL_OLD',
      }));
    });
    if (!indexed) {
      // This call's own first try was applied: the index as it found it is what that try kept.
      const { Item } = await dynamo('send ledger index read', () =>
        this.items.get({ TableName: this.table, Key: key, ConsistentRead: true }),
      );
      const presented = typeof Item?.priorRequestId === 'string' && Item.priorRequestId !== '';
      old = presented
        ? {
            requestId: Item?.priorRequestId,
            cleared: Item?.priorCleared,
            ...(Number(Item?.priorAttempts) > 0 && { attempts: Item?.priorAttempts }),
          }
        : undefined;
    }
    const earlier = old !== undefined;
    // An index earlier versions wrote carries no count, but stands for one attempt at least.
    const before = Number(old?.attempts ?? (earlier ? 1 : 0));
    return { unknown: earlier && old?.cleared !== true, presented: earlier, attempts: before + 1 };
  }

  /**
   * Clears a kf attempt's note when WeCom answered that it did not carry the send out. The index stays (the next
   * attempt writes it again), so the sender needs no right to delete.
   */
  async clearMsgidAttempt(app: string, msgid: string): Promise<void> {
    await dynamo('send ledger attempt cleared', () =>
      this.items.update({
        TableName: this.table,
        Key: { pk: `SENDMSGID#${app}`, sk: msgid },
        UpdateExpression: 'SET cleared = :cleared',
        ExpressionAttributeValues: { ':cleared': true },
      }),
    );
  }

  /** The request a kf msgid was sent for. */
  async requestOf(app: string, msgid: string): Promise<string | undefined> {
    return (await this.msgidIndex(app, msgid))?.requestId;
  }

  /** The request a kf msgid was sent for, and its attempts so far. */
  async msgidIndex(app: string, msgid: string): Promise<{ requestId: string; attempts: number } | undefined> {
    const { Item } = await dynamo('send ledger lookup', () =>
      this.items.get({
        TableName: this.table,
        Key: { pk: `SENDMSGID#${app}`, sk: msgid },
        ConsistentRead: true,
      }),
    );
    if (typeof Item?.requestId !== 'string') return undefined;
    // An index earlier versions wrote carries no count, but stands for one attempt at least.
    return { requestId: Item.requestId, attempts: Number(Item.attempts ?? 1) };
  }

  /**
   * The app's requests that were not sent (rejected, failed, uncertain), newest first. It reads the app's whole
   * ledger: for local tools, not for a production table.
   */
  async unsent(app: string, limit: number): Promise<{ requestId: string; outcome: SendOutcome }[]> {
    const found: { requestId: string; outcome: SendOutcome }[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo('send ledger query', () =>
        this.items.query({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression:
            'outcome.#status IN (:rejected, :failed, :uncertain) OR attribute_exists(undelivered)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pk': this.key(app, '').pk,
            ':rejected': 'rejected',
            ':failed': 'failed',
            ':uncertain': 'uncertain',
          },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const { outcome } = stateOf(item);
        if (outcome) found.push({ requestId: String(item.sk), outcome });
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return found.sort((a, b) => b.outcome.at - a.outcome.at).slice(0, limit);
  }

  /** WeCom reported a sent message undelivered: the report sits beside the outcome, whichever is written first. */
  async markUndelivered(
    app: string,
    msgid: string,
    failType: number,
    at: number,
  ): Promise<string | undefined> {
    const requestId = await this.requestOf(app, msgid);
    if (!requestId) return undefined;
    await dynamo('send ledger undelivered', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, requestId),
        UpdateExpression: 'SET undelivered = :undelivered',
        ExpressionAttributeValues: { ':undelivered': { failType, at } },
      }),
    );
    return requestId;
  }
}
