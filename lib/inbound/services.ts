import type { SQSRecord } from 'aws-lambda';
import type { S3Objects } from '../aws/s3';
import { BudgetStore } from '../budgets';
import type { Config } from '../config/config';
import { parseSyncJob, type SyncJob, syncJobGroupId } from '../contracts/syncJob';
import { ContractError } from '../errors';
import type { ItemStore } from '../items/itemStore';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { SendLedger } from '../outbound/sendLedger';
import type { PlatformCall } from '../platform/client';
import { platformFor } from '../platform/wiring';
import { type PublishBatch, sqsBatchPublisher } from '../queue/publisher';
import type { QueueClient } from '../queue/queueClient';
import { CursorStore } from './cursors';
import { MessageLedger } from './ledger';
import { type ArchiveMedia, mediaArchiver } from './media';
import { type PullerDeps, type PullReport, pullKfAccount } from './puller';
import { inboundQuarantine } from './quarantine';

export interface InboundServices {
  readonly config: Config;
  readonly archiveMedia?: ArchiveMedia;
  readonly cursors: CursorStore;
  readonly ledger: MessageLedger;
  readonly budgets: BudgetStore;
  readonly sendLedger: SendLedger;
  readonly publishBatch: PublishBatch;
  readonly call: PlatformCall;
  readonly log: Log;
  readonly meter: Meter;
  readonly now: () => number;
  readonly sqs: QueueClient;
}

/** The clients the puller's pieces are built on. */
export interface InboundClients {
  readonly sqs: QueueClient;
  /** The state table's item calls. */
  readonly items: ItemStore;
  readonly s3?: S3Objects;
  readonly log: Log;
  readonly meter: Meter;
  readonly now?: () => number;
}

/** The real pieces the puller runs on, built once per container. */
export function inboundServices(config: Config, clients: InboundClients): InboundServices {
  const now = clients.now ?? Date.now;
  const platform = platformFor(config, clients.items, clients.log, clients.meter, now);
  const bucket = config.inboundMediaBucket;
  return {
    config,
    ...(bucket &&
      clients.s3 && {
        archiveMedia: mediaArchiver({
          config,
          bucket,
          download: platform.download,
          s3: clients.s3,
          now,
          log: clients.log,
        }),
      }),
    cursors: new CursorStore(clients.items, config.stateTable),
    ledger: new MessageLedger(clients.items, config.stateTable),
    budgets: new BudgetStore(clients.items, config.stateTable),
    sendLedger: new SendLedger(clients.items, config.stateTable),
    publishBatch: sqsBatchPublisher(
      clients.sqs,
      config.mediaBucket && clients.s3
        ? {
            byQueueUrl: {
              [config.queues.inboundUrl]: inboundQuarantine({
                s3: clients.s3,
                bucket: config.mediaBucket,
                meter: clients.meter,
              }),
            },
            log: clients.log,
          }
        : undefined,
    ),
    call: platform.call,
    log: clients.log,
    meter: clients.meter,
    now,
    sqs: clients.sqs,
  };
}

export function parseSyncJobRecord(record: SQSRecord): SyncJob {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new ContractError('sync job is not JSON');
  }
  return parseSyncJob(body);
}

/** One sync-jobs.fifo record: pull the account, re-enqueueing itself if the Lambda runs out of time; `log` for its lines. */
export function syncJobHandler(services: InboundServices, remainingMs: () => number, signal?: AbortSignal) {
  const deps: PullerDeps = {
    ...services,
    remainingMs,
    ...(signal && { signal }),
    requeue: (job) =>
      services.publishBatch(services.config.queues.syncJobsUrl, [
        {
          body: JSON.stringify(job),
          groupId: syncJobGroupId(job),
          deduplicationId: `continue-${job.app}-${job.openKfId}-${services.now()}`,
        },
      ]),
  };
  return async (record: SQSRecord, log: Log = services.log): Promise<PullReport> =>
    pullKfAccount(parseSyncJobRecord(record), { ...deps, log });
}
