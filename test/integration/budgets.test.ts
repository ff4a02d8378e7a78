import { describe, expect, it } from 'vitest';
import { type BudgetChange, BudgetStore, budgetRefusal } from '../../lib/budgets';
import { itemStores } from '../support/aws';
import { testEnv } from '../support/wechat';

const T = 1_800_000_000_000;
const customer = () => ({
  app: 'budgets',
  scope: 'wkTie',
  customer: `wm${Math.random().toString(36).slice(2)}`,
});

// The SDK's DocumentClient carries the puller's, sender's and admin's calls; our signed requests the callback's.
describe.each(['sdk', 'signed'] as const)('kf session budgets in the state table (%s item calls)', (port) => {
  const budgets = new BudgetStore(itemStores()[port], testEnv.STATE_TABLE);
  it('give a page applied again after a crash the same result: an end and a message in one second', async () => {
    const key = customer();
    await budgets.apply({ ...key, lastCustomerMessageAt: T - 3_600_000, lastCustomerMessageId: 'm0' });
    await budgets.apply({ ...key, session: { state: 'servicer', at: T - 3_000_000 } });
    // The servicer ends the session, and the customer writes again in that same second.
    const page: BudgetChange[] = [
      { ...key, session: { state: 'ended', at: T } },
      { ...key, lastCustomerMessageAt: T, lastCustomerMessageId: 'm1' },
    ];
    for (const change of page) await budgets.apply(change);
    expect(budgetRefusal(await budgets.read(key), T + 1000)).toBeUndefined();
    // The puller crashed after the budgets and before the ledger recorded the page: the page comes again.
    for (const change of page) await budgets.apply(change);
    const replayed = await budgets.read(key);
    expect(budgetRefusal(replayed, T + 1000)).toBeUndefined();
    expect(replayed).toMatchObject({ session: 'open', repliesLeft: 5 });
  });
});
