import { createHash } from 'node:crypto';
import { dynamo, isConditionFailure } from '../dynamo';
import { DependencyError, UnauthorizedError } from '../errors';
import type { ItemStore } from '../items/itemStore';

/** A verified push: the signature that verified it, over its timestamp and nonce, and the body it came with. */
export interface Push {
  readonly app: string;
  readonly timestamp: string;
  readonly nonce: string;
  readonly signature: string;
  readonly body: string;
  /** The request's deadline: the guard's calls end with it. */
  readonly signal?: AbortSignal;
}

/** What the guard knew of a push: never seen, seen but its work not finished, or finished. */
export type Claim = 'new' | 'unfinished' | 'processed';

export interface ReplayGuard {
  /**
   * Holds the push's timestamp, nonce and signature for its body until `expiresAt` (epoch seconds); throws an
   * UnauthorizedError when they were already used with another body.
   */
  claim(push: Push, expiresAt: number): Promise<Claim>;
  /** The push's work is done: a repeat of it is answered without doing it again. */
  processed(push: Push): Promise<void>;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Pushes seen, in the state table, shared by every callback container: one item per (app, timestamp, nonce,
 * signature) holding a SHA-256 of the body, deleted by TTL once the timestamp is past the clock skew.
 */
export class DynamoReplayGuard implements ReplayGuard {
  constructor(
    private readonly items: ItemStore,
    private readonly table: string,
  ) {}

  private key({ app, timestamp, nonce, signature }: Push) {
    return { pk: `PUSH#${app}`, sk: sha256(`${timestamp}\n${nonce}\n${signature}`) };
  }

  async claim(push: Push, expiresAt: number): Promise<Claim> {
    try {
      const { Attributes } = await this.items.update(
        {
          TableName: this.table,
          Key: this.key(push),
          UpdateExpression: 'SET bodyHash = :body, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(bodyHash) OR bodyHash = :body',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':body': sha256(push.body), ':ttl': expiresAt },
          ReturnValues: 'ALL_OLD',
        },
        { signal: push.signal },
      );
      if (!Attributes) return 'new';
      return Attributes.processed === true ? 'processed' : 'unfinished';
    } catch (error) {
      if (isConditionFailure(error))
        throw new UnauthorizedError('timestamp, nonce and signature were already used with another body');
      throw new DependencyError('push record failed', { cause: error });
    }
  }

  async processed(push: Push): Promise<void> {
    await dynamo('push record', () =>
      this.items.update(
        {
          TableName: this.table,
          Key: this.key(push),
          UpdateExpression: 'SET #processed = :yes',
          ExpressionAttributeNames: { '#processed': 'processed' },
          ExpressionAttributeValues: { ':yes': true },
        },
        { signal: push.signal },
      ),
    );
  }
}
