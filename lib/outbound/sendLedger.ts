import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SendStatus } from '../contracts/outbound';
import { conditional, dynamo } from '../dynamo';

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

const TTL_SECONDS = 30 * 24 * 3600;

/** A ledger item's outcome; a later report that WeCom could not deliver it turns a send into a failure. */
function outcomeOf(item: Record<string, unknown> | undefined): SendOutcome | undefined {
  if (!item?.outcome) return undefined;
  const outcome = item.outcome as SendOutcome;
  const undelivered = item.undelivered as { failType: number; at: number } | undefined;
  if (!undelivered) return outcome;
  return {
    ...outcome,
    status: 'failed',
    failType: undelivered.failType,
    reason: `WeCom could not deliver it: ${FAIL_TYPES[undelivered.failType] ?? `fail_type ${undelivered.failType}`}`,
  };
}

/** The outcome of every outbound request, by request id: what makes a retried request a no-op. */
export class SendLedger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key(app: string, requestId: string) {
    return { pk: `SEND#${app}`, sk: requestId };
  }

  /** The request's outcome; a later report that WeCom could not deliver it turns a send into a failure. */
  async read(app: string, requestId: string): Promise<SendOutcome | undefined> {
    return (await this.state(app, requestId)).outcome;
  }

  /** The outcome, and when an MP send was begun whose outcome was never learned (see noteAttempt). */
  async state(app: string, requestId: string): Promise<{ outcome?: SendOutcome; attemptedAt?: number }> {
    const { Item } = await dynamo('send ledger read', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: this.key(app, requestId), ConsistentRead: true }),
      ),
    );
    const attemptedAt = Item?.attemptedAt as number | undefined;
    const outcome = outcomeOf(Item);
    return { ...(outcome && { outcome }), ...(attemptedAt !== undefined && { attemptedAt }) };
  }

  /**
   * Notes a request the HTTP API accepted, unless it has an outcome already: that outcome, if any. One write
   * that leaves an outcome in place and answers the item as it was, so no read comes before it.
   */
  async queue(app: string, requestId: string, at: number): Promise<SendOutcome | undefined> {
    const { Attributes } = await dynamo('send ledger queue', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(app, requestId),
          UpdateExpression:
            'SET outcome = if_not_exists(outcome, :outcome), #ttl = if_not_exists(#ttl, :ttl)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':outcome': { status: 'queued', at },
            ':ttl': Math.floor(at / 1000) + TTL_SECONDS,
          },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return outcomeOf(Attributes);
  }

  /**
   * Records the outcome, leaving any delivery report already there in place. A known outcome (sent, failed,
   * rejected) is never replaced, and replaces only queued or uncertain: of two deliveries of one request racing,
   * the one that learned what happened wins. False when the outcome was not recorded for that reason.
   */
  record(app: string, requestId: string, outcome: SendOutcome): Promise<boolean> {
    return conditional('send ledger write', () =>
      this.db.send(
        new UpdateCommand({
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
            ':ttl': Math.floor(outcome.at / 1000) + TTL_SECONDS,
            ':queued': 'queued',
            ...(outcome.status !== 'uncertain' && { ':uncertain': 'uncertain' }),
          },
        }),
      ),
    );
  }

  /**
   * Notes, in one write, that an MP send is about to be attempted (MP has no msgid to refuse a repeat), and counts
   * the attempt. `earlier`: another attempt's note was already there, whose outcome is unknown; `attempts`: the
   * request's attempts, this one included.
   */
  async noteAttempt(
    app: string,
    requestId: string,
    at: number,
  ): Promise<{ earlier: boolean; attempts: number }> {
    const { Attributes } = await dynamo('send ledger attempt', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(app, requestId),
          UpdateExpression: 'SET attemptedAt = :at ADD attempts :one',
          ExpressionAttributeValues: { ':at': at, ':one': 1 },
          ReturnValues: 'UPDATED_OLD',
        }),
      ),
    );
    return {
      earlier: Attributes?.attemptedAt !== undefined,
      attempts: Number(Attributes?.attempts ?? 0) + 1,
    };
  }

  /** Counts an MP attempt that failed before its note (its files, its budget); the request's attempts so far. */
  async countAttempt(app: string, requestId: string): Promise<number> {
    const { Attributes } = await dynamo('send ledger attempt count', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(app, requestId),
          UpdateExpression: 'ADD attempts :one',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return Number(Attributes?.attempts ?? 1);
  }

  /** Clears an MP attempt's note when MP answered that it did not carry the send out. */
  async clearAttempt(app: string, requestId: string): Promise<void> {
    await dynamo('send ledger attempt cleared', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(app, requestId),
          UpdateExpression: 'REMOVE attemptedAt',
        }),
      ),
    );
  }

  /**
   * Maps a msgid back to its request. The sender writes it before calling WeCom, because WeCom can report a
   * send undelivered (msg_send_fail) before the call that made it has even returned; so it also notes and counts
   * the kf attempt, in the same write. `unknown`: an earlier attempt wrote it and did not clear it, so its outcome
   * is unknown; `presented`: WeCom has seen this msgid before, whatever it answered; `attempts`: the request's
   * attempts, this one included.
   */
  async indexMsgid(
    app: string,
    msgid: string,
    requestId: string,
    at: number,
  ): Promise<{ unknown: boolean; presented: boolean; attempts: number }> {
    const { Attributes } = await dynamo('send ledger index', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `SENDMSGID#${app}`, sk: msgid },
          UpdateExpression: 'SET requestId = :requestId, #ttl = :ttl REMOVE cleared ADD attempts :one',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':requestId': requestId,
            ':ttl': Math.floor(at / 1000) + TTL_SECONDS,
            ':one': 1,
          },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    const earlier = Attributes !== undefined;
    // An index earlier versions wrote carries no count, but stands for one attempt at least.
    const before = Number(Attributes?.attempts ?? (earlier ? 1 : 0));
    return { unknown: earlier && Attributes?.cleared !== true, presented: earlier, attempts: before + 1 };
  }

  /**
   * Clears a kf attempt's note when WeCom answered that it did not carry the send out. The index stays (the next
   * attempt writes it again), so the sender needs no right to delete.
   */
  async clearMsgidAttempt(app: string, msgid: string): Promise<void> {
    await dynamo('send ledger attempt cleared', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `SENDMSGID#${app}`, sk: msgid },
          UpdateExpression: 'SET cleared = :cleared',
          ExpressionAttributeValues: { ':cleared': true },
        }),
      ),
    );
  }

  /** WeCom reported a sent message undelivered: the report sits beside the outcome, whichever is written first. */
  async markUndelivered(
    app: string,
    msgid: string,
    failType: number,
    at: number,
  ): Promise<string | undefined> {
    const { Item } = await dynamo('send ledger lookup', () =>
      this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: `SENDMSGID#${app}`, sk: msgid },
          ConsistentRead: true,
        }),
      ),
    );
    const requestId = Item?.requestId as string | undefined;
    if (!requestId) return undefined;
    await dynamo('send ledger undelivered', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(app, requestId),
          UpdateExpression: 'SET undelivered = :undelivered',
          ExpressionAttributeValues: { ':undelivered': { failType, at } },
        }),
      ),
    );
    return requestId;
  }
}
