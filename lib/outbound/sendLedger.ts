import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditional, dynamo } from '../dynamo';

/**
 * queued: accepted by the HTTP API, not sent yet; sent: WeCom accepted it; rejected: kf-bridge refused it
 * before calling WeCom; failed: WeCom refused it.
 */
export type SendStatus = 'queued' | 'sent' | 'rejected' | 'failed';

export interface SendOutcome {
  readonly status: SendStatus;
  /** Absent while queued. */
  readonly msgid?: string;
  readonly errcode?: number;
  readonly reason?: string;
  readonly at: number;
}

const TTL_SECONDS = 30 * 24 * 3600;

/** The outcome of every outbound request, by request id: what makes a retried request a no-op. */
export class SendLedger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key(app: string, requestId: string) {
    return { pk: `SEND#${app}`, sk: requestId };
  }

  async read(app: string, requestId: string): Promise<SendOutcome | undefined> {
    const { Item } = await dynamo('send ledger read', () =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: this.key(app, requestId), ConsistentRead: true }),
      ),
    );
    return Item ? (Item.outcome as SendOutcome) : undefined;
  }

  /** Notes a request the HTTP API accepted, unless it has a status already; false when it had one. */
  queue(app: string, requestId: string, at: number): Promise<boolean> {
    const outcome: Omit<SendOutcome, 'msgid'> & { msgid?: string } = { status: 'queued', at };
    return conditional('send ledger queue', () =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...this.key(app, requestId), outcome, ttl: Math.floor(at / 1000) + TTL_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async record(app: string, requestId: string, outcome: SendOutcome): Promise<void> {
    await dynamo('send ledger write', () =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...this.key(app, requestId), outcome, ttl: Math.floor(outcome.at / 1000) + TTL_SECONDS },
        }),
      ),
    );
  }
}
