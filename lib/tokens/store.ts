import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { conditional, dynamo } from '../dynamo';
import type { ItemStore, UpdateItemInput } from '../items/itemStore';
import type { Platform } from './platformToken';

export interface TokenItem {
  readonly token?: string;
  readonly expiresAt?: number;
  readonly fetchedAt?: number;
  readonly leaseOwner?: string;
  readonly leaseUntil?: number;
  /** The token a caller proved rejected; its replacement may use MP's force_refresh. */
  readonly invalidatedToken?: string;
  readonly credentialsRejectedAt?: number;
  readonly credentialsErrcode?: number;
  /** Times of MP force refreshes, for its daily limit. */
  readonly forceRefreshes?: number[];
}

/**
 * The item of one app's token on one platform: keyed by app name, platform and a hash of id and secret, so
 * two apps of one corp never share a token and a new secret starts afresh. The secret itself is never stored.
 */
export function tokenKey(app: AppConfig, platform: Platform): string {
  const credentials =
    platform === 'wecom'
      ? `${app.wecom?.corpId}:${app.wecom?.kfSecret}`
      : `${app.mp?.appId}:${app.mp?.appSecret}`;
  return `TOKEN#${app.name}#${platform}#${createHash('sha256').update(credentials).digest('hex').slice(0, 32)}`;
}

const SK = 'TOKEN';
/** A token fetched this recently is used as it is, even if the platform gave it a short life. */
export const RECENT_FETCH_MS = 60_000;
// Token items outlive their token by a day, then DynamoDB's TTL removes them.
const ttlFor = (expiresAt: number) => Math.floor(expiresAt / 1000) + 86_400;

export class TokenStore {
  constructor(
    private readonly items: ItemStore,
    private readonly table: string,
  ) {}

  private update(
    what: string,
    input: Omit<UpdateItemInput, 'TableName' | 'Key'> & { key: string },
  ): Promise<boolean> {
    const { key, ...rest } = input;
    return conditional(`token store: ${what}`, () =>
      this.items.update({ TableName: this.table, Key: { pk: key, sk: SK }, ...rest }),
    );
  }

  async read(key: string): Promise<TokenItem | undefined> {
    const { Item } = await dynamo('token store: read', () =>
      this.items.get({ TableName: this.table, Key: { pk: key, sk: SK }, ConsistentRead: true }),
    );
    return Item as TokenItem | undefined;
  }

  /**
   * Takes the fetch lease when nobody holds a live one, the stored token still needs renewing (expires before
   * `renewAt` and was not fetched just now), and no credentials rejection since `rejectedBefore` stands.
   * Checking all of it in one conditional write means a caller that read the item a moment earlier cannot
   * fetch again after the winner saved a token or learnt the credentials are wrong.
   */
  acquireLease(
    key: string,
    owner: string,
    now: number,
    leaseMs: number,
    renewAt: number,
    rejectedBefore: number,
  ): Promise<boolean> {
    return this.update('lease', {
      key,
      UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until, #ttl = if_not_exists(#ttl, :ttl)',
      // Or the lease is this very call's: DynamoDB applied it and its answer was lost, and the store tried again.
      ConditionExpression:
        '((attribute_not_exists(leaseUntil) OR leaseUntil < :now) AND (attribute_not_exists(#token) OR (expiresAt < :renewAt AND fetchedAt < :recent)) AND (attribute_not_exists(credentialsRejectedAt) OR credentialsRejectedAt < :rejectedBefore)) OR (leaseOwner = :owner AND leaseUntil = :until)',
      ExpressionAttributeNames: { '#ttl': 'ttl', '#token': 'token' },
      ExpressionAttributeValues: {
        ':owner': owner,
        ':until': now + leaseMs,
        ':now': now,
        ':ttl': ttlFor(now),
        ':renewAt': renewAt,
        ':recent': now - RECENT_FETCH_MS,
        ':rejectedBefore': rejectedBefore,
      },
    });
  }

  /** Stores a fetched token and frees the lease, if this caller still holds it. */
  save(
    key: string,
    owner: string,
    token: string,
    expiresAt: number,
    now: number,
    forceRefreshes?: number[],
  ): Promise<boolean> {
    return this.update('save', {
      key,
      UpdateExpression: `SET #token = :token, expiresAt = :expiresAt, fetchedAt = :now, #ttl = :ttl${forceRefreshes ? ', forceRefreshes = :force' : ''} REMOVE leaseOwner, leaseUntil, invalidatedToken, credentialsRejectedAt, credentialsErrcode`,
      ConditionExpression: 'leaseOwner = :owner',
      ExpressionAttributeNames: { '#token': 'token', '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':token': token,
        ':expiresAt': expiresAt,
        ':now': now,
        ':ttl': ttlFor(expiresAt),
        ':owner': owner,
        ...(forceRefreshes && { ':force': forceRefreshes }),
      },
    });
  }

  /** Frees the lease, if still held; after a credentials rejection it also remembers when and why. */
  async releaseLease(key: string, owner: string, rejected?: { errcode: number; at: number }): Promise<void> {
    await this.update('release', {
      key,
      UpdateExpression: rejected
        ? 'SET credentialsRejectedAt = :at, credentialsErrcode = :errcode REMOVE leaseOwner, leaseUntil'
        : 'REMOVE leaseOwner, leaseUntil',
      ConditionExpression: 'leaseOwner = :owner',
      ExpressionAttributeValues: {
        ':owner': owner,
        ...(rejected && { ':at': rejected.at, ':errcode': rejected.errcode }),
      },
    });
  }

  /**
   * Forgets a token the platform rejected, only if it is still the stored one: a late rejection of an old
   * token must not throw away the newer token another caller already fetched.
   */
  invalidate(key: string, rejectedToken: string): Promise<boolean> {
    return this.update('invalidate', {
      key,
      UpdateExpression: 'SET invalidatedToken = #token REMOVE #token, expiresAt, fetchedAt',
      ConditionExpression: '#token = :rejected',
      ExpressionAttributeNames: { '#token': 'token' },
      ExpressionAttributeValues: { ':rejected': rejectedToken },
    });
  }
}
