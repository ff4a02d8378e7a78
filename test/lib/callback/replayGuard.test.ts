import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoReplayGuard } from '../../../lib/callback/replayGuard';
import { documentClientItemStore } from '../../../lib/items/documentClientItemStore';

/** A state table that never answers, but lets go when the caller's signal does. */
const hangingTable = {
  send: (_: unknown, options?: { abortSignal?: AbortSignal }) =>
    new Promise((_, reject) =>
      options?.abortSignal?.addEventListener('abort', () => reject(new Error('request aborted'))),
    ),
} as unknown as DynamoDBDocumentClient;

describe('the replay guard', () => {
  it("ends its calls with the request's deadline, so a slow table answers 503 in time rather than never", async () => {
    const guard = new DynamoReplayGuard(documentClientItemStore(hangingTable), 'state');
    const push = {
      app: 'default',
      timestamp: '1',
      nonce: '2',
      signature: 'abc',
      body: 'x',
      signal: AbortSignal.timeout(50),
    };
    await expect(guard.claim(push, 100)).rejects.toMatchObject({ name: 'DependencyError', status: 503 });
    await expect(guard.processed({ ...push, signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      status: 503,
    });
  });
});
