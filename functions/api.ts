import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ADMIN_MAX_BODY_BYTES, ADMIN_PREFIX } from '../lib/admin/adminApi';
import { openApiDocument } from '../lib/admin/openApi';
import { apiWiring } from '../lib/api/wiring';
import { awsClientConfig } from '../lib/aws';
import { loadConfigOnce } from '../lib/config';
import { bodyOf, httpErrors, jsonResponse } from '../lib/http/httpApi';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';

const log = createLogger('api');
const metrics = createMetrics('api', log);
const config = loadConfigOnce('api');
const clients = {
  sqs: new SQSClient(awsClientConfig('sqs')),
  db: DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb'))),
  s3: new S3Client(awsClientConfig('s3')),
  log,
  meter: meterOf(metrics),
};
let wiring: ReturnType<typeof apiWiring> | undefined;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
  timeoutEarlyInMillis: 500,
})
  .use(injectLambdaContext(log))
  .use(logMetrics(metrics))
  .use(httpErrors(log, 'json'))
  .handler(async (event, _context, { signal }) => {
    if (event.rawPath === '/v1/openapi.json') return jsonResponse(200, openApiDocument());
    wiring ??= apiWiring(await config(), clients);
    const response = await wiring.handle({
      method: event.requestContext.http.method,
      path: event.rawPath,
      ...(event.pathParameters?.requestId && { requestId: event.pathParameters.requestId }),
      query: event.queryStringParameters ?? {},
      headers: event.headers ?? {},
      body: event.rawPath.startsWith(ADMIN_PREFIX) ? bodyOf(event, ADMIN_MAX_BODY_BYTES) : bodyOf(event),
      signal,
    });
    return jsonResponse(response.status, response.body);
  });
