import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { s3ObjectsFor } from '../lib/aws/s3';
import { loadConfigOnce } from '../lib/config';
import { itemStoreFor } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';
import { senderWiring } from '../lib/outbound/wiring';
import { queueClientFor } from '../lib/queue/signedQueueClient';

const log = createLogger('sender');
const metrics = createMetrics('sender', log);
const config = loadConfigOnce('sender');
const clients = {
  // SQS over our own signed requests: the SQS SDK client weighs on every bundle and cold start.
  sqs: queueClientFor(process.env),
  items: itemStoreFor(process.env),
  s3: s3ObjectsFor(process.env),
  log,
  meter: meterOf(metrics),
};
let wiring: ReturnType<typeof senderWiring> | undefined;

/** outbound.fifo batches: each request sent once, in order per customer. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(log))
  .use(logMetrics(metrics))
  .handler(async (event, context, { signal }) => {
    wiring ??= senderWiring(await config(), clients);
    return wiring.onBatch(event.Records, { remainingMs: () => context.getRemainingTimeInMillis(), signal });
  });
