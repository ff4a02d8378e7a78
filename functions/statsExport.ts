import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws';
import { loadConfigOnce } from '../lib/config';
import { createLogger } from '../lib/logger';
import { platformFor } from '../lib/platform/wiring';
import { type ExportSummary, exportReports } from '../lib/reports/export';
import { ExportProgress } from '../lib/reports/progress';
import { exportRange } from '../lib/reports/range';

const log = createLogger('statsExport');
const config = loadConfigOnce();
const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb')));
const s3 = new S3Client(awsClientConfig('s3'));
let platform: ReturnType<typeof platformFor> | undefined;

/** The daily schedule exports yesterday; `{"from": "yyyy-mm-dd", "to": "yyyy-mm-dd"}` exports a range. */
export const handler = middy<unknown, ExportSummary>().handler(
  async (event, context: Context, { signal }) => {
    const settings = await config();
    platform ??= platformFor(settings, db, log);
    const summary = await exportReports(exportRange(event, Date.now()), {
      config: settings,
      call: platform.call,
      s3,
      progress: new ExportProgress(db, settings.stateTable),
      now: Date.now,
      log,
      // Leave a minute for the window in flight; the next run of the same range continues.
      stopAfter: Date.now() + context.getRemainingTimeInMillis() - 60_000,
      signal,
    });
    log.info('export summary', { ...summary });
    return summary;
  },
);
