import { conditional, dynamo } from '../dynamo';
import type { ItemStore } from '../items/itemStore';
import type { DlqQueue } from './queues';

/**
 * How far a redrive got with one dead-letter message: claimed, about to send it back; its reply queued again in
 * the send ledger (done once: the sender may have settled the copy sent back since); sent.
 */
export type RedriveState = 'sending' | 'requeued' | 'sent';

export interface RedriveRecord {
  readonly state: RedriveState;
  /** When the redrive that sends it claimed it: its send came after. */
  readonly claimedAt: number;
}

/** Outlives the message: a dead-letter queue keeps one 14 days (serverless.yml). */
const TTL_SECONDS = 15 * 24 * 3600;

/**
 * One record per dead-letter message redriven, by the queue and the message's id (a message that fails again
 * comes back under a new id, as it was sent anew): claimed before the message is sent back, so that a redrive
 * cut short between sending it and deleting it from the dead-letter queue is never repeated past what SQS
 * deduplicates.
 */
export class RedriveRecords {
  constructor(
    private readonly items: ItemStore,
    private readonly table: string,
  ) {}

  private key(queue: DlqQueue, messageId: string) {
    return { pk: `REDRIVE#${queue}`, sk: messageId };
  }

  /** Claims the message for sending back; the record already there when another redrive claimed it first. */
  async claim(queue: DlqQueue, messageId: string, at: number): Promise<RedriveRecord | undefined> {
    const claimed = await conditional('redrive claim', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(queue, messageId),
        UpdateExpression: 'SET #state = :sending, claimedAt = :at, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#state)',
        ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':sending': 'sending',
          ':at': at,
          ':ttl': Math.floor(at / 1000) + TTL_SECONDS,
        },
      }),
    );
    if (claimed) return undefined;
    // Given back, or past its TTL, since the claim failed: claim it afresh.
    return (await this.read(queue, messageId)) ?? this.claim(queue, messageId, at);
  }

  async read(queue: DlqQueue, messageId: string): Promise<RedriveRecord | undefined> {
    const { Item } = await dynamo('redrive record read', () =>
      this.items.get({ TableName: this.table, Key: this.key(queue, messageId), ConsistentRead: true }),
    );
    if (!Item?.state) return undefined;
    return { state: Item.state as RedriveState, claimedAt: Number(Item.claimedAt) };
  }

  async markSent(queue: DlqQueue, messageId: string, at: number): Promise<void> {
    await dynamo('redrive record write', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(queue, messageId),
        UpdateExpression: 'SET #state = :sent, sentAt = :at',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':sent': 'sent', ':at': at },
      }),
    );
  }

  async markRequeued(queue: DlqQueue, messageId: string): Promise<void> {
    await conditional('redrive record write', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(queue, messageId),
        UpdateExpression: 'SET #state = :requeued',
        ConditionExpression: '#state = :sending',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':sending': 'sending', ':requeued': 'requeued' },
      }),
    );
  }

  /**
   * Gives a claim back when nothing was sent (the send ledger refused the reply, or SQS refused the send), so a
   * later redrive may claim it.
   */
  async giveBack(queue: DlqQueue, messageId: string): Promise<void> {
    await conditional('redrive record write', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(queue, messageId),
        UpdateExpression: 'REMOVE #state, claimedAt',
        ConditionExpression: '#state IN (:sending, :requeued)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':sending': 'sending', ':requeued': 'requeued' },
      }),
    );
  }
}
