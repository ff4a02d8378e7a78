import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws';
import { loadConfigOnce } from '../lib/config';
import { createLogger } from '../lib/logger';
import { BudgetStore } from '../lib/outbound/budgets';
import { mediaResolver } from '../lib/outbound/mediaUpload';
import { type SenderDeps, sendRecord } from '../lib/outbound/sender';
import { SendLedger } from '../lib/outbound/sendLedger';
import { platformFor } from '../lib/platform/wiring';
import { consumeFifo, visibilityBackoff } from '../lib/queue/fifoConsumer';

const log = createLogger('sender');
const config = loadConfigOnce();
const sqs = new SQSClient(awsClientConfig('sqs'));
const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb')));
const s3 = new S3Client(awsClientConfig('s3'));
let deps: Omit<SenderDeps, 'signal'> | undefined;

/** outbound.fifo batches: each request sent once, in order per customer. */
export const handler = middy<SQSEvent, SQSBatchResponse>().handler(async (event, _context, { signal }) => {
  const settings = await config();
  if (!deps) {
    const platform = platformFor(settings, db, log);
    deps = {
      config: settings,
      call: platform.call,
      ledger: new SendLedger(db, settings.stateTable),
      budgets: new BudgetStore(db, settings.stateTable),
      resolveMedia: mediaResolver({
        db,
        table: settings.stateTable,
        s3,
        upload: platform.upload,
        now: Date.now,
      }),
      now: Date.now,
      log,
    };
  }

  const current = { ...deps, signal };
  return consumeFifo(
    event.Records,
    async (record) => {
      await sendRecord(record, current);
    },
    {
      log,
      retryIn: visibilityBackoff(sqs, settings.queues.outboundUrl),
      concurrency: settings.senderConcurrency,
    },
  );
});
