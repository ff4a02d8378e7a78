import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { callbackAppOf } from '../lib/callback/callbackPath';
import { callbackWiring } from '../lib/callback/wiring';
import { loadConfigOnce } from '../lib/config';
import { bodyOf, httpErrors, queryOf, textResponse } from '../lib/http/httpApi';
import { itemStoreFor, PUSH_ITEM_CALL_POLICY } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';
import { queueClientFor } from '../lib/queue/signedQueueClient';

const log = createLogger('callback');
const config = loadConfigOnce('callback');
// No logMetrics middleware: the callback counts only refused pushes, each a line written at once, so a push
// taken costs no flush.
const metrics = createMetrics('callback', log);
const clients = {
  // SQS over our own signed requests: the SQS SDK client weighs on every bundle and cold start.
  sqs: queueClientFor(process.env),
  // Two conditional writes per MP push do not pay for the DynamoDB SDK's share of a cold start (#19).
  items: itemStoreFor(process.env, { policy: PUSH_ITEM_CALL_POLICY }),
  log,
  meter: meterOf(metrics),
};
let wiring: ReturnType<typeof callbackWiring> | undefined;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
  timeoutEarlyInMillis: 500,
})
  .use(injectLambdaContext(log))
  .use(httpErrors(log))
  .handler(async (event, _context, { signal }) => {
    // A function URL hands over any path: one that names no app is refused before the settings are read.
    const app = callbackAppOf(event);
    wiring ??= callbackWiring(await config(), clients);
    const response = await wiring.handle({
      method: event.requestContext.http.method,
      app,
      query: queryOf(event),
      body: bodyOf(event),
      signal,
    });
    return textResponse(response.status, response.body);
  });
