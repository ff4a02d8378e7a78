import { dynamo } from '../dynamo';
import type { ItemStore } from '../items/itemStore';
import type { Day } from './days';

const TTL_SECONDS = 30 * 24 * 3600;

/**
 * How far an unfinished export of one range got, per app: a run of the same range continues after that day. A
 * finished range leaves nothing behind, so running it again exports it again.
 */
export class ExportProgress {
  /**
   * `destination` names where the files go beyond the bucket (a local folder): a run into another folder
   * starts afresh rather than continue one that wrote its first days elsewhere.
   */
  constructor(
    private readonly items: ItemStore,
    private readonly table: string,
    private readonly destination = '',
  ) {}

  private key(app: string, range: { from: Day; to: Day }) {
    const sk = `${range.from}..${range.to}`;
    return { pk: `EXPORT#${app}`, sk: this.destination ? `${sk} ${this.destination}` : sk };
  }

  async doneThrough(app: string, range: { from: Day; to: Day }): Promise<Day | undefined> {
    const { Item } = await dynamo('export progress read', () =>
      this.items.get({ TableName: this.table, Key: this.key(app, range), ConsistentRead: true }),
    );
    return Item?.doneThrough as Day | undefined;
  }

  async record(app: string, range: { from: Day; to: Day }, doneThrough: Day, at: number): Promise<void> {
    await dynamo('export progress write', () =>
      this.items.put({
        TableName: this.table,
        Item: { ...this.key(app, range), doneThrough, at, ttl: Math.floor(at / 1000) + TTL_SECONDS },
      }),
    );
  }

  async finish(app: string, range: { from: Day; to: Day }): Promise<void> {
    await dynamo('export progress clear', () =>
      this.items.delete({ TableName: this.table, Key: this.key(app, range) }),
    );
  }
}
