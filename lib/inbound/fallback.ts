import type { Config } from '../config/config';
import { type SyncJob, syncJobGroupId } from '../contracts/syncJob';
import { KfBridgeError } from '../errors';
import type { Log } from '../logger';
import type { PlatformCall } from '../platform/client';
import type { PublishBatch } from '../queue/publisher';
import type { CursorStore } from './cursors';

export interface FallbackDeps {
  readonly config: Config;
  readonly cursors: CursorStore;
  readonly call: PlatformCall;
  readonly publishBatch: PublishBatch;
  readonly now: () => number;
  readonly log: Log;
}

async function listedAccounts(deps: FallbackDeps, appName: string): Promise<string[]> {
  const app = deps.config.apps.get(appName);
  if (!app) return [];
  const accounts: string[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = (await deps.call(app, 'wecom', {
      path: '/cgi-bin/kf/account/list',
      body: { offset, limit: 100 },
    })) as { account_list?: { open_kfid: string }[] };
    const list = page.account_list ?? [];
    accounts.push(...list.map((account) => account.open_kfid));
    if (list.length < 100) return accounts;
  }
}

/**
 * The fallback schedule: a sync job for every kf account each minute, so a lost callback delays a message by
 * a minute at most. Jobs go through sync-jobs.fifo, one group per account, so they never race a callback's
 * job; their deduplication id is per minute. Accounts come from the cursors and from `kf/account/list`.
 */
export async function enqueueFallbackJobs(deps: FallbackDeps): Promise<number> {
  const minute = Math.floor(deps.now() / 60_000);
  let enqueued = 0;
  for (const app of deps.config.apps.values()) {
    if (!app.wecom) continue;
    const accounts = new Set(await deps.cursors.known(app.name));
    try {
      for (const openKfId of await listedAccounts(deps, app.name)) accounts.add(openKfId);
    } catch (error) {
      deps.log.warn('kf/account/list failed; falling back to known accounts', {
        app: app.name,
        reason: error instanceof KfBridgeError ? error.message : 'unexpected error',
      });
    }
    const jobs: SyncJob[] = [...accounts].map((openKfId) => ({
      schema: 'kf-bridge.sync-job/v1',
      app: app.name,
      openKfId,
      receivedAt: new Date(deps.now()).toISOString(),
    }));
    await deps.publishBatch(
      deps.config.queues.syncJobsUrl,
      jobs.map((job) => ({
        body: JSON.stringify(job),
        groupId: syncJobGroupId(job),
        deduplicationId: `fallback-${job.app}-${job.openKfId}-${minute}`,
      })),
    );
    enqueued += jobs.length;
  }
  deps.log.info('fallback sync jobs enqueued', { count: enqueued });
  return enqueued;
}
