import { dynamo } from '../dynamo';
import { DependencyError } from '../errors';
import type { ItemStore, WriteRequest } from '../items/itemStore';

/** sync_msg replays up to three days when a cursor is lost: remember every msgid for 72 h and a day more. */
export const LEDGER_TTL_SECONDS = 72 * 3600 + 24 * 3600;
const MAX_ROUNDS = 8;

/** A published message as the ledger keeps it: enough to say, later, where it came from. */
export interface LedgerEntry {
  readonly msgid: string;
  /** external_userid; absent for events that concern no customer. */
  readonly customer?: string;
  /** The message's send_time (epoch ms). */
  readonly sentAt: number;
  /** When its sync_msg page was pulled (epoch ms). */
  readonly pulledAt: number;
  /** The cursor that page was asked for with; absent for an account's first page. */
  readonly cursor?: string;
}

/** What the ledger holds of a message; entries written before the details were kept have only publishedAt. */
export interface PublishedMessage extends Partial<Omit<LedgerEntry, 'msgid'>> {
  readonly msgid: string;
  readonly openKfId: string;
  readonly publishedAt: number;
}

/**
 * The msgids already published, per kf account. Written after a message is safely in SQS, so a crash in
 * between publishes it again and SQS's 5-minute FIFO deduplication absorbs the repeat.
 */
export class MessageLedger {
  constructor(
    private readonly items: ItemStore,
    private readonly table: string,
  ) {}

  private key(app: string, openKfId: string, msgid: string) {
    return { pk: `MSGID#${app}#${openKfId}`, sk: msgid };
  }

  async seen(app: string, openKfId: string, msgids: string[]): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < msgids.length; i += 100) {
      let keys: readonly Record<string, unknown>[] = msgids
        .slice(i, i + 100)
        .map((id) => this.key(app, openKfId, id));
      for (let round = 0; keys.length > 0; round++) {
        if (round === MAX_ROUNDS) throw new DependencyError('ledger read: DynamoDB kept keys unprocessed');
        const answer = await dynamo('ledger read', () =>
          this.items.batchGet({
            RequestItems: {
              [this.table]: { Keys: keys, ProjectionExpression: 'sk', ConsistentRead: true },
            },
          }),
        );
        for (const item of answer.Responses?.[this.table] ?? []) seen.add(String(item.sk));
        keys = answer.UnprocessedKeys?.[this.table]?.Keys ?? [];
        if (keys.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      }
    }
    return seen;
  }

  /** When the message was published to inbound.fifo (epoch ms), if it was and the ledger still holds it. */
  async publishedAt(app: string, openKfId: string, msgid: string): Promise<number | undefined> {
    return (await this.find(app, openKfId, msgid))?.publishedAt;
  }

  /** The message as the ledger holds it, if it was published and the ledger still holds it. */
  async find(app: string, openKfId: string, msgid: string): Promise<PublishedMessage | undefined> {
    const { Item } = await dynamo('ledger read', () =>
      this.items.get({ TableName: this.table, Key: this.key(app, openKfId, msgid), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      msgid,
      openKfId,
      publishedAt: Number(Item.publishedAt),
      ...(typeof Item.customer === 'string' && { customer: Item.customer }),
      ...(typeof Item.sentAt === 'number' && { sentAt: Item.sentAt }),
      ...(typeof Item.pulledAt === 'number' && { pulledAt: Item.pulledAt }),
      ...(typeof Item.cursor === 'string' && { cursor: Item.cursor }),
    };
  }

  async record(app: string, openKfId: string, entries: readonly LedgerEntry[], now: number): Promise<void> {
    const ttl = Math.floor(now / 1000) + LEDGER_TTL_SECONDS;
    for (let i = 0; i < entries.length; i += 25) {
      let requests: readonly WriteRequest[] = entries.slice(i, i + 25).map(({ msgid, ...details }) => ({
        PutRequest: { Item: { ...this.key(app, openKfId, msgid), ...details, ttl, publishedAt: now } },
      }));
      for (let round = 0; requests.length > 0; round++) {
        if (round === MAX_ROUNDS) throw new DependencyError('ledger write: DynamoDB kept items unprocessed');
        const answer = await dynamo('ledger write', () =>
          this.items.batchWrite({ RequestItems: { [this.table]: requests } }),
        );
        requests = answer.UnprocessedItems?.[this.table] ?? [];
        if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      }
    }
  }
}
