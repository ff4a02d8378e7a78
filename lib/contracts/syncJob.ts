import * as v from 'valibot';
import { validate } from './validate';

/** A request to pull one kf account's new messages, produced by the callback and consumed by the puller. */
export const syncJob = v.object({
  schema: v.literal('kf-bridge.sync-job/v1'),
  app: v.pipe(v.string(), v.minLength(1)),
  openKfId: v.pipe(v.string(), v.minLength(1)),
  /** The callback Token: valid 10 minutes, lifts sync_msg's strict token-less throttle. */
  token: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  receivedAt: v.pipe(v.string(), v.isoTimestamp()),
});

export type SyncJob = v.InferOutput<typeof syncJob>;

export function parseSyncJob(value: unknown): SyncJob {
  return validate(syncJob, value, 'sync job');
}

/** One pull at a time per kf account, across every Lambda. */
export function syncJobGroupId(job: Pick<SyncJob, 'app' | 'openKfId'>): string {
  return `${job.app}#${job.openKfId}`;
}
