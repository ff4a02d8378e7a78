import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BudgetStore } from '../budgets';
import type { Config } from '../config/config';
import { type SafeFetch, safeFetcher } from '../http/safeFetch';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { fileFetcher, mediaResolver } from '../outbound/mediaUpload';
import { platformFor } from '../platform/wiring';
import type { AdminDeps } from './adminApi';
import { callerImageFetcher } from './callerImages';

/**
 * What the admin API runs with: the platform client on the state table's tokens, media from URLs (public https
 * only, unless a test hands its own fetcher) and S3.
 */
export function adminDeps(
  config: Config,
  db: DynamoDBDocumentClient,
  s3: S3Client,
  log: Log,
  meter: Meter,
  now: () => number = Date.now,
  safeFetch: SafeFetch = safeFetcher(),
): AdminDeps {
  const platform = platformFor(config, db, log, meter, now);
  const fetchFile = callerImageFetcher(fileFetcher({ s3, safeFetch }));
  return {
    config,
    log,
    call: platform.call,
    upload: platform.upload,
    multipart: platform.multipart,
    resolveMedia: mediaResolver({ db, table: config.stateTable, fetchFile, upload: platform.upload, now }),
    fetchFile,
    budgets: new BudgetStore(db, config.stateTable),
    now,
  };
}
