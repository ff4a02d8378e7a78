import { z } from 'zod';
import { ContractError } from '../errors';
import { describeIssues } from './inbound';

/** A request to pull one kf account's new messages, produced by the callback and consumed by the puller. */
export const syncJob = z.object({
  schema: z.literal('kf-bridge.sync-job/v1'),
  app: z.string().min(1),
  openKfId: z.string().min(1),
  /** The callback Token: valid 10 minutes, lifts sync_msg's strict token-less throttle. */
  token: z.string().min(1).max(128).optional(),
  receivedAt: z.iso.datetime(),
});

export type SyncJob = z.infer<typeof syncJob>;

export function parseSyncJob(value: unknown): SyncJob {
  const result = syncJob.safeParse(value);
  if (!result.success) throw new ContractError(`sync job: ${describeIssues(result.error)}`);
  return result.data;
}

/** One pull at a time per kf account, across every Lambda. */
export function syncJobGroupId(job: Pick<SyncJob, 'app' | 'openKfId'>): string {
  return `${job.app}#${job.openKfId}`;
}
