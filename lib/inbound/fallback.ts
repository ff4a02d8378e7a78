import type { Config } from '../config/config';
import { type SyncJob, syncJobGroupId } from '../contracts/syncJob';
import { KfBridgeError } from '../errors';
import type { Log } from '../logger';
import type { PlatformCall } from '../platform/client';
import type { PublishBatch } from '../queue/publisher';
import type { CursorStore, KnownAccount } from './cursors';
import { CALLBACK_TOKEN_LIFETIME_MS } from './puller';

export interface FallbackDeps {
  readonly config: Config;
  readonly cursors: CursorStore;
  readonly call: PlatformCall;
  readonly publishBatch: PublishBatch;
  readonly now: () => number;
  readonly log: Log;
  /** How often the schedule runs; one job per account per period (default a minute). */
  readonly periodMs?: number;
}

async function listedAccounts(deps: FallbackDeps, appName: string): Promise<string[]> {
  const app = deps.config.apps.get(appName);
  if (!app) return [];
  const accounts: string[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = (await deps.call(app, 'wecom', {
      path: '/cgi-bin/kf/account/list',
      body: { offset, limit: 100 },
    })) as {
      account_list?: { open_kfid: string }[];
    };
    const list = page.account_list ?? [];
    accounts.push(...list.map((account) => account.open_kfid));
    if (list.length < 100) return accounts;
  }
}

function fallbackJob(app: string, account: KnownAccount, now: number): SyncJob {
  // Reusing the last callback Token while it is valid spares WeCom's 10-a-minute limit on token-less pulls.
  const token =
    account.lastToken && now - account.lastToken.receivedAt < CALLBACK_TOKEN_LIFETIME_MS
      ? account.lastToken
      : undefined;
  return {
    schema: 'kf-bridge.sync-job/v1',
    app,
    openKfId: account.openKfId,
    ...(token && { token: token.value }),
    receivedAt: new Date(token?.receivedAt ?? now).toISOString(),
  };
}

/**
 * The fallback schedule: a sync job for every kf account each period, so a lost callback delays a message
 * by a period at most. Jobs go through sync-jobs.fifo, one group per account, so they never race a
 * callback's job; their deduplication id is per period. Accounts come from the cursors and `kf/account/list`.
 */
export async function enqueueFallbackJobs(deps: FallbackDeps): Promise<number> {
  const now = deps.now();
  const period = Math.floor(now / (deps.periodMs ?? 60_000));
  let enqueued = 0;
  for (const app of deps.config.apps.values()) {
    if (!app.wecom) continue;
    const accounts = new Map(
      (await deps.cursors.known(app.name)).map((account) => [account.openKfId, account]),
    );
    try {
      for (const openKfId of await listedAccounts(deps, app.name))
        if (!accounts.has(openKfId)) accounts.set(openKfId, { openKfId });
    } catch (error) {
      deps.log.warn('kf/account/list failed; falling back to known accounts', {
        app: app.name,
        reason: error instanceof KfBridgeError ? error.message : 'unexpected error',
      });
    }
    const jobs = [...accounts.values()].map((account) => fallbackJob(app.name, account, now));
    await deps.publishBatch(
      deps.config.queues.syncJobsUrl,
      jobs.map((job) => ({
        body: JSON.stringify(job),
        groupId: syncJobGroupId(job),
        deduplicationId: `fallback-${job.app}-${job.openKfId}-${period}`,
      })),
    );
    enqueued += jobs.length;
  }
  deps.log.info('fallback sync jobs enqueued', { count: enqueued });
  return enqueued;
}
