import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Objects } from '../aws/s3';
import { BudgetStore } from '../budgets';
import type { Config } from '../config/config';
import { DeadLetters } from '../dlq/deadLetters';
import { dlqPairs } from '../dlq/queues';
import { RedriveRecords } from '../dlq/redriveRecords';
import { type SafeFetch, safeFetcher } from '../http/safeFetch';
import type { ItemStore } from '../items/itemStore';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { fileFetcher, mediaResolver } from '../outbound/mediaUpload';
import { SendLedger } from '../outbound/sendLedger';
import { platformFor } from '../platform/wiring';
import { Tracer } from '../trace/tracer';
import type { AdminDeps } from './adminApi';
import { callerImageFetcher } from './callerImages';

/**
 * What the admin API runs with: the platform client on the state table's tokens, media from URLs (public https
 * only, unless a test hands its own fetcher) and S3, and the dead-letter queues.
 */
export function adminDeps(
  config: Config,
  /** The state table's item calls (its stores). */
  items: ItemStore,
  s3: S3Objects,
  sqs: SQSClient,
  log: Log,
  meter: Meter,
  now: () => number = Date.now,
  safeFetch: SafeFetch = safeFetcher(),
): AdminDeps {
  const platform = platformFor(config, items, log, meter, now);
  const fetchFile = callerImageFetcher(fileFetcher({ s3, safeFetch }));
  const pairOf = dlqPairs(sqs, config);
  return {
    config,
    log,
    call: platform.call,
    upload: platform.upload,
    multipart: platform.multipart,
    resolveMedia: mediaResolver({ items, table: config.stateTable, fetchFile, upload: platform.upload, now }),
    fetchFile,
    budgets: new BudgetStore(items, config.stateTable),
    deadLetters: new DeadLetters({
      sqs,
      pairOf,
      ledger: new SendLedger(items, config.stateTable),
      records: new RedriveRecords(items, config.stateTable),
      now,
      log,
    }),
    tracer: new Tracer({ items, table: config.stateTable, sqs, pairOf, now }),
    now,
  };
}
