import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { apiWiring } from '../lib/api/wiring';
import { loadConfigOnce } from '../lib/config';
import { bodyOf, httpErrors, jsonResponse } from '../lib/http/httpApi';
import { itemStoreFor } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { queueClientFor } from '../lib/queue/signedQueueClient';

const log = createLogger('api');
const config = loadConfigOnce('api');
const clients = {
  // SQS over our own signed requests: the SQS SDK client weighs on every bundle and cold start.
  sqs: queueClientFor(process.env),
  items: itemStoreFor(process.env),
  log,
};
let wiring: ReturnType<typeof apiWiring> | undefined;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
  timeoutEarlyInMillis: 500,
})
  .use(injectLambdaContext(log))
  .use(httpErrors(log, 'json'))
  .handler(async (event, _context, { signal }) => {
    wiring ??= apiWiring(await config(), clients);
    const response = await wiring.handle({
      method: event.requestContext.http.method,
      path: event.rawPath,
      ...(event.pathParameters?.requestId && { requestId: event.pathParameters.requestId }),
      query: event.queryStringParameters ?? {},
      headers: event.headers ?? {},
      body: bodyOf(event),
      signal,
    });
    return jsonResponse(response.status, response.body);
  });
