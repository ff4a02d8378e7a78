import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { s3ObjectsFor } from '../lib/aws/s3';
import { serviceTarget } from '../lib/aws/signedRequest';
import { loadConfigOnce } from '../lib/config';
import { signedItemStore } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';
import { senderWiring } from '../lib/outbound/wiring';
import { signedQueueClient } from '../lib/queue/signedQueueClient';

const log = createLogger('sender');
const metrics = createMetrics('sender', log);
const config = loadConfigOnce('sender');
const clients = {
  // SQS over our own signed requests: the SQS SDK client weighs on every bundle and cold start.
  sqs: signedQueueClient({ target: () => serviceTarget('sqs', process.env) }),
  items: signedItemStore({ target: () => serviceTarget('dynamodb', process.env) }),
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
