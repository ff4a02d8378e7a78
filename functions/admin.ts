import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ADMIN_MAX_BODY_BYTES, type AdminDeps, handleAdminApi } from '../lib/admin/adminApi';
import { openApiDocument } from '../lib/admin/openApi';
import { adminDeps } from '../lib/admin/wiring';
import { awsClientConfig } from '../lib/aws/clientConfig';
import { s3ObjectsFor } from '../lib/aws/s3';
import { loadConfigOnce } from '../lib/config';
import { bodyOf, httpErrors, jsonResponse } from '../lib/http/httpApi';
import { itemStoreFor } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';

const log = createLogger('admin');
const metrics = createMetrics('admin', log);
const config = loadConfigOnce('admin');
const sqs = new SQSClient(awsClientConfig('sqs'));
const items = itemStoreFor(process.env);
const s3 = s3ObjectsFor(process.env);
let deps: AdminDeps | undefined;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
  timeoutEarlyInMillis: 500,
})
  .use(injectLambdaContext(log))
  .use(logMetrics(metrics))
  .use(httpErrors(log, 'json'))
  .handler(async (event, _context, { signal }) => {
    if (event.rawPath === '/v1/openapi.json') return jsonResponse(200, openApiDocument());
    deps ??= adminDeps(await config(), items, s3, sqs, log, meterOf(metrics));
    const response = await handleAdminApi(
      {
        method: event.requestContext.http.method,
        path: event.rawPath,
        query: event.queryStringParameters ?? {},
        headers: event.headers ?? {},
        body: bodyOf(event, ADMIN_MAX_BODY_BYTES),
        signal,
      },
      deps,
    );
    return jsonResponse(response.status, response.body);
  });
