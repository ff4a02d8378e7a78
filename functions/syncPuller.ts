import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { s3ObjectsFor } from '../lib/aws/s3';
import { loadConfigOnce } from '../lib/config';
import { syncPullerWiring } from '../lib/inbound/wiring';
import { itemStoreFor } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';
import { queueClientFor } from '../lib/queue/signedQueueClient';

const log = createLogger('syncPuller');
const metrics = createMetrics('syncPuller', log);
const config = loadConfigOnce('syncPuller');
const clients = {
  // SQS over our own signed requests: the SQS SDK client weighs on every bundle and cold start.
  sqs: queueClientFor(process.env),
  items: itemStoreFor(process.env),
  s3: s3ObjectsFor(process.env),
  log,
  meter: meterOf(metrics),
};
let wiring: ReturnType<typeof syncPullerWiring> | undefined;

/** sync-jobs.fifo batches pull kf accounts; the one-minute schedule enqueues a job for every known account. */
export const handler = middy<SQSEvent | ScheduledEvent, SQSBatchResponse | undefined>()
  .use(injectLambdaContext(log))
  .use(logMetrics(metrics))
  .handler(async (event, context, { signal }) => {
    wiring ??= syncPullerWiring(await config(), clients);
    if (!('Records' in event)) {
      await wiring.onSchedule();
      return undefined;
    }
    return wiring.onBatch(event.Records, { remainingMs: () => context.getRemainingTimeInMillis(), signal });
  });
