import { randomUUID } from 'node:crypto';
import { conditional, dynamo } from '../dynamo';
import type { ItemStore } from '../items/itemStore';

export interface KnownAccount {
  readonly openKfId: string;
  readonly lastToken?: { value: string; receivedAt: number };
}

export interface CursorState {
  /** Absent before the first page: sync_msg then starts at the oldest message of the last 3 days. */
  readonly cursor?: string;
  /** 0 when no cursor was ever stored. */
  readonly version: number;
}

/**
 * Where each kf account's pull stands. One partition per app, one item per kf account, so the fallback
 * schedule can list every account it knows. Only a compare-and-set on `version` moves a cursor.
 */
export class CursorStore {
  constructor(
    private readonly items: ItemStore,
    private readonly table: string,
  ) {}

  private key(app: string, openKfId: string) {
    return { pk: `CURSORS#${app}`, sk: openKfId };
  }

  async read(app: string, openKfId: string): Promise<CursorState> {
    const { Item } = await dynamo('cursor read', () =>
      this.items.get({ TableName: this.table, Key: this.key(app, openKfId), ConsistentRead: true }),
    );
    return {
      ...(typeof Item?.cursor === 'string' && { cursor: Item.cursor }),
      version: Number(Item?.version ?? 0),
    };
  }

  /**
   * Moves the cursor only if nobody else moved it since `expected` was read; false when someone did. The
   * job's callback Token rides along, so fallback jobs can reuse it while it is valid.
   */
  commit(
    app: string,
    openKfId: string,
    expected: CursorState,
    next: string,
    now: number,
    token?: { value: string; receivedAt: number },
  ): Promise<boolean> {
    // The commit's own token: when DynamoDB applied it and its answer was lost, the store's retry finds the version
    // moved, and the token says by this commit (whose pull goes on), not by another puller (whose pull owns the rest).
    const by = randomUUID();
    return conditional('cursor commit', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, openKfId),
        UpdateExpression: `SET #cursor = :next, version = :version, updatedAt = :now, commitBy = :by${token ? ', lastToken = :token, lastTokenAt = :tokenAt' : ''} REMOVE retiredAt`,
        ConditionExpression: `${expected.version === 0 ? 'attribute_not_exists(version)' : 'version = :expected'} OR (version = :version AND commitBy = :by)`,
        ExpressionAttributeNames: { '#cursor': 'cursor' },
        ExpressionAttributeValues: {
          ':next': next,
          ':version': expected.version + 1,
          ':now': now,
          ':by': by,
          ...(expected.version !== 0 && { ':expected': expected.version }),
          ...(token && { ':token': token.value, ':tokenAt': token.receivedAt }),
        },
      }),
    );
  }

  /**
   * Sets aside a kf account WeCom says does not exist (95004), so no schedule pulls it again. The cursor stays
   * (a pull that goes through brings the account back), so the puller needs no right to delete.
   */
  async retire(app: string, openKfId: string, now: number): Promise<void> {
    await dynamo('cursor retire', () =>
      this.items.update({
        TableName: this.table,
        Key: this.key(app, openKfId),
        UpdateExpression: 'SET retiredAt = :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
  }

  /** Every kf account of the app that has ever been pulled and not retired, with the last callback Token seen for it. */
  async known(app: string): Promise<KnownAccount[]> {
    return (await this.list(app, 'sk, lastToken, lastTokenAt, retiredAt'))
      .filter((item) => item.retiredAt === undefined)
      .map((item) => ({
        openKfId: String(item.sk),
        ...(typeof item.lastToken === 'string' && {
          lastToken: { value: item.lastToken, receivedAt: Number(item.lastTokenAt) },
        }),
      }));
  }

  /**
   * Every kf account of the app that has ever been pulled, retired ones included. Read by trace, whose role
   * has no use for a callback Token: only the key leaves DynamoDB.
   */
  async everPulled(app: string): Promise<string[]> {
    return (await this.list(app, 'sk')).map((item) => String(item.sk));
  }

  private async list(app: string, projection: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamo('cursor list', () =>
        this.items.query({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `CURSORS#${app}` },
          ProjectionExpression: projection,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
