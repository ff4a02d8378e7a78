import type { AppConfig, Config } from '../config/config';
import { type SyncJob, syncJobGroupId } from '../contracts/syncJob';
import { KfBridgeError } from '../errors';
import type { Log } from '../logger';
import type { PlatformCall } from '../platform/client';
import type { PublishBatch } from '../queue/publisher';
import type { CursorStore, KnownAccount } from './cursors';
import { CALLBACK_TOKEN_LIFETIME_MS } from './puller';

/**
 * WeCom blocks a corp's `sync_msg` calls without a callback Token for a minute once they reach 10 in a minute
 * (45009; reference §5, a WeCom staff answer). The schedule uses 8 of them, leaving room for the continuation
 * jobs of pulls that outlived their Token.
 */
export const TOKENLESS_PULLS_PER_MINUTE = 8;

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

/** Every kf account of the app, and whether it is handed to API management (only those may be pulled). */
async function listedAccounts(deps: FallbackDeps, app: AppConfig): Promise<Map<string, boolean>> {
  const accounts = new Map<string, boolean>();
  for (let offset = 0; ; offset += 100) {
    const page = (await deps.call(app, 'wecom', {
      path: '/cgi-bin/kf/account/list',
      body: { offset, limit: 100 },
    })) as { account_list?: { open_kfid: string; manage_privilege?: boolean }[] };
    const list = page.account_list ?? [];
    // An answer without the flag predates it: such an account was pullable before the flag existed.
    for (const account of list) accounts.set(account.open_kfid, account.manage_privilege !== false);
    if (list.length < 100) return accounts;
  }
}

function fallbackJob(app: string, account: KnownAccount, now: number): SyncJob {
  // Reusing the last callback Token while it is valid spares the corp's allowance of token-less pulls.
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
 * The accounts of one app the schedule may pull: those `kf/account/list` shows handed to the API, and those the
 * cursors know that the list does not show, whose pull lets WeCom itself say whether they are gone (95004; the
 * puller then retires them). When the list cannot be read, the known accounts stand in for it.
 */
async function pullableAccounts(deps: FallbackDeps, app: AppConfig): Promise<KnownAccount[]> {
  const known = await deps.cursors.known(app.name);
  let listed: Map<string, boolean>;
  try {
    listed = await listedAccounts(deps, app);
  } catch (error) {
    deps.log.warn('kf/account/list failed; falling back to known accounts', {
      app: app.name,
      reason: error instanceof KfBridgeError ? error.message : 'unexpected error',
    });
    return known;
  }
  const byId = new Map(known.map((account) => [account.openKfId, account]));
  return [
    ...[...listed]
      .filter(([, managedByApi]) => managedByApi)
      .map(([openKfId]) => byId.get(openKfId) ?? { openKfId }),
    ...known.filter((account) => !listed.has(account.openKfId)),
  ];
}

/** This period's share of a corp's token-less jobs, taken in turn so every account is reached. */
function inTurn(jobs: SyncJob[], period: number, perPeriod: number): SyncJob[] {
  if (jobs.length <= perPeriod) return jobs;
  const sorted = jobs.toSorted((a, b) => `${a.app}#${a.openKfId}`.localeCompare(`${b.app}#${b.openKfId}`));
  const start = (period * perPeriod) % sorted.length;
  return Array.from({ length: perPeriod }, (_, i) => sorted[(start + i) % sorted.length] as SyncJob);
}

/**
 * The fallback schedule: a sync job for every kf account the API may pull, so a lost callback delays a message
 * by a period while a corp has at most 8 quiet accounts, and by ⌈quiet accounts / 8⌉ periods beyond. Accounts
 * whose callback Token is still valid are pulled every period; the others share the corp's token-less
 * allowance in turn. Jobs go through sync-jobs.fifo, one group per account, so they never race a callback's job;
 * their deduplication id is per period.
 */
export async function enqueueFallbackJobs(deps: FallbackDeps): Promise<number> {
  const now = deps.now();
  const periodMs = deps.periodMs ?? 60_000;
  const period = Math.floor(now / periodMs);
  // A period longer than a minute still spends its jobs within about a minute, so it gets one minute's share.
  const perPeriod = Math.max(
    1,
    Math.floor((TOKENLESS_PULLS_PER_MINUTE * Math.min(periodMs, 60_000)) / 60_000),
  );
  const jobs: SyncJob[] = [];
  const tokenlessByCorp = new Map<string, SyncJob[]>();
  for (const app of deps.config.apps.values()) {
    if (!app.wecom) continue;
    for (const account of await pullableAccounts(deps, app)) {
      const job = fallbackJob(app.name, account, now);
      if (job.token) jobs.push(job);
      else tokenlessByCorp.set(app.wecom.corpId, [...(tokenlessByCorp.get(app.wecom.corpId) ?? []), job]);
    }
  }
  for (const tokenless of tokenlessByCorp.values()) jobs.push(...inTurn(tokenless, period, perPeriod));
  await deps.publishBatch(
    deps.config.queues.syncJobsUrl,
    jobs.map((job) => ({
      body: JSON.stringify(job),
      groupId: syncJobGroupId(job),
      deduplicationId: `fallback-${job.app}-${job.openKfId}-${period}`,
    })),
  );
  deps.log.info('fallback sync jobs enqueued', { count: jobs.length });
  return jobs.length;
}
