import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BudgetStore } from '../budgets';
import type { Config } from '../config/config';
import type { Log } from '../logger';
import { fetchFile, mediaResolver } from '../outbound/mediaUpload';
import { platformFor } from '../platform/wiring';
import type { AdminDeps } from './adminApi';

/** What the admin API runs with: the platform client on the state table's tokens, media from URLs and S3. */
export function adminDeps(
  config: Config,
  db: DynamoDBDocumentClient,
  s3: S3Client,
  log: Log,
  now: () => number = Date.now,
): AdminDeps {
  const platform = platformFor(config, db, log, now);
  return {
    config,
    log,
    call: platform.call,
    upload: platform.upload,
    multipart: platform.multipart,
    resolveMedia: mediaResolver({ db, table: config.stateTable, s3, upload: platform.upload, now }),
    fetchFile: (source, signal) => fetchFile(s3, source, signal),
    budgets: new BudgetStore(db, config.stateTable),
    now,
  };
}
