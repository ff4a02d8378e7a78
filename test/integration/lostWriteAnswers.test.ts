import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../lib/aws/clientConfig';
import { BudgetStore } from '../../lib/budgets';
import { CursorStore } from '../../lib/inbound/cursors';
import { signedItemStore } from '../../lib/items/signedItemStore';
import { SendLedger } from '../../lib/outbound/sendLedger';
import { TokenStore } from '../../lib/tokens/store';
import { localStack } from '../support/aws';
import { testEnv } from '../support/wechat';

/**
 * AWS applies a write and the answer never arrives (the connection resets, the try's timeout passes): the signed
 * store tries the call again, as the SDK does. A write whose retry reads its own first try as someone else's
 * must not turn that into a reply never sent or a pull stopped.
 */
let proxy: Server;
/** Operations (x-amz-target's) whose next request DynamoDB Local applies and whose answer is then lost. */
const loseNext = new Set<string>();
/** Operations whose every answer is lost, while they are here. */
const loseAll = new Set<string>();

beforeAll(async () => {
  const { endpoint } = awsClientConfig('dynamodb', localStack().env) as { endpoint?: string };
  const target = new URL(endpoint ?? '');
  proxy = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const operation =
        String(incoming.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      const lose = loseNext.delete(operation) || loseAll.has(operation);
      const forwarded = httpRequest(
        {
          hostname: target.hostname,
          port: target.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            // Applied by DynamoDB; its answer lost on the way back.
            if (lose) return void outgoing.socket?.destroy();
            outgoing.writeHead(answer.statusCode ?? 500, answer.headers).end(Buffer.concat(body));
          });
        },
      );
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
});

const items = () =>
  signedItemStore({
    target: () => ({
      endpoint: new URL(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`),
      region: localStack().region,
      credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
    }),
    policy: { baseDelayMs: 5 },
  });
const unique = () => Math.random().toString(36).slice(2);

describe('a write applied whose answer was lost', () => {
  it("an MP send's attempt note is this attempt's own, not an earlier one's: the reply is still sent", async () => {
    const ledger = new SendLedger(items(), testEnv.STATE_TABLE);
    const requestId = `lost-note-${unique()}`;
    loseNext.add('UpdateItem');
    expect(await ledger.noteAttempt('default', requestId, Date.now())).toEqual({
      earlier: false,
      attempts: 1,
    });
    expect(loseNext.size).toBe(0);
    // Another delivery's note is still an earlier attempt.
    expect(await ledger.noteAttempt('default', requestId, Date.now())).toMatchObject({ earlier: true });
  });

  it('an MP attempt note whose read back got no answer is taken back: the next delivery sends, and counts it once', async () => {
    const ledger = new SendLedger(items(), testEnv.STATE_TABLE);
    const requestId = `lost-note-read-${unique()}`;
    loseNext.add('UpdateItem');
    loseAll.add('GetItem');
    try {
      await expect(ledger.noteAttempt('default', requestId, Date.now())).rejects.toThrow(
        'send ledger attempt read failed',
      );
    } finally {
      loseAll.delete('GetItem');
    }
    // MP was never called: nothing says an attempt may have reached the customer.
    expect(await ledger.state('default', requestId)).toEqual({ attempts: 0 });
    expect(await ledger.countAttempt('default', requestId)).toBe(1);
  }, 20_000);

  it("a kf send's msgid index is this attempt's own, not an earlier one's: a refusal is not made uncertain", async () => {
    const ledger = new SendLedger(items(), testEnv.STATE_TABLE);
    const requestId = `lost-index-${unique()}`;
    loseNext.add('UpdateItem');
    expect(await ledger.indexMsgid('default', `m-${requestId}`, requestId, Date.now())).toEqual({
      unknown: false,
      presented: false,
      attempts: 1,
    });
    expect(loseNext.size).toBe(0);
    // The next attempt, after this one was cleared, and the one after that, which finds it not cleared.
    await ledger.clearMsgidAttempt('default', `m-${requestId}`);
    loseNext.add('UpdateItem');
    expect(await ledger.indexMsgid('default', `m-${requestId}`, requestId, Date.now())).toEqual({
      unknown: false,
      presented: true,
      attempts: 2,
    });
    expect(await ledger.indexMsgid('default', `m-${requestId}`, requestId, Date.now())).toEqual({
      unknown: true,
      presented: true,
      attempts: 3,
    });
  });

  it("a cursor commit is this puller's own, not another's: the pull goes on", async () => {
    const cursors = new CursorStore(items(), testEnv.STATE_TABLE);
    const openKfId = `wk-lost-${unique()}`;
    loseNext.add('UpdateItem');
    const first = await cursors.read('default', openKfId);
    expect(await cursors.commit('default', openKfId, first, 'c1', Date.now())).toBe(true);
    expect(loseNext.size).toBe(0);
    const second = await cursors.read('default', openKfId);
    expect(second).toMatchObject({ cursor: 'c1', version: 1 });
    loseNext.add('UpdateItem');
    expect(await cursors.commit('default', openKfId, second, 'c2', Date.now())).toBe(true);
    // A commit from a stale read still loses to the one that moved the cursor.
    expect(await cursors.commit('default', openKfId, second, 'c3', Date.now())).toBe(false);
  });

  it("a token lease is this container's own, not another's: it fetches the token", async () => {
    const tokens = new TokenStore(items(), testEnv.STATE_TABLE);
    const key = `TOKEN#lost-${unique()}`;
    const now = Date.now();
    loseNext.add('UpdateItem');
    expect(await tokens.acquireLease(key, 'owner-a', now, 10_000, now + 300_000, now - 60_000)).toBe(true);
    expect(loseNext.size).toBe(0);
    // Another container, or this one later, still finds the lease held.
    expect(await tokens.acquireLease(key, 'owner-b', now + 1, 10_000, now + 300_000, now - 60_000)).toBe(
      false,
    );
    expect(await tokens.acquireLease(key, 'owner-a', now + 1, 10_000, now + 300_000, now - 60_000)).toBe(
      false,
    );
  });

  it('a reply spent is spent once, not once a try', async () => {
    const budgets = new BudgetStore(items(), testEnv.STATE_TABLE);
    const key = { app: 'default', scope: 'mp', customer: `lost-${unique()}` } as const;
    await budgets.apply({ ...key, lastCustomerMessageAt: Date.now(), lastCustomerMessageId: 'm1' });
    const before = (await budgets.read(key)).repliesLeft ?? 0;
    loseNext.add('UpdateItem');
    await budgets.spend(key, 'message');
    expect(loseNext.size).toBe(0);
    expect((await budgets.read(key)).repliesLeft).toBe(before - 1);
    await budgets.spend(key, 'message');
    expect((await budgets.read(key)).repliesLeft).toBe(before - 2);
  });
});
