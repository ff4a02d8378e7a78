import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws';
import { loadConfigOnce } from '../lib/config';
import { enqueueFallbackJobs } from '../lib/inbound/fallback';
import { type InboundServices, inboundServices, syncJobHandler } from '../lib/inbound/services';
import { createLogger } from '../lib/logger';
import { consumeFifo, visibilityBackoff } from '../lib/queue/fifoConsumer';

const log = createLogger('syncPuller');
const config = loadConfigOnce();
const sqs = new SQSClient(awsClientConfig('sqs'));
const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb')));
const s3 = new S3Client(awsClientConfig('s3'));
let services: InboundServices | undefined;

/** sync-jobs.fifo batches pull kf accounts; the one-minute schedule enqueues a job for every known account. */
export const handler = middy<SQSEvent | ScheduledEvent, SQSBatchResponse | undefined>().handler(
  async (event, context, { signal }) => {
    services ??= inboundServices(await config(), { sqs, db, s3, log });
    if (!('Records' in event)) {
      await enqueueFallbackJobs(services);
      return undefined;
    }
    const pull = syncJobHandler(services, () => context.getRemainingTimeInMillis(), signal);
    return consumeFifo(
      event.Records,
      async (record) => {
        const report = await pull(record);
        log.info('sync job done', { messageId: record.messageId, ...report });
      },
      { log, retryIn: visibilityBackoff(sqs, services.config.queues.syncJobsUrl) },
    );
  },
);
