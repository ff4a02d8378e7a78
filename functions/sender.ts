import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws/clientConfig';
import { s3ObjectsFor } from '../lib/aws/s3';
import { serviceTarget } from '../lib/aws/signedRequest';
import { loadConfigOnce } from '../lib/config';
import { signedItemStore } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';
import { senderWiring } from '../lib/outbound/wiring';

const log = createLogger('sender');
const metrics = createMetrics('sender', log);
const config = loadConfigOnce('sender');
const clients = {
  sqs: new SQSClient(awsClientConfig('sqs')),
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
