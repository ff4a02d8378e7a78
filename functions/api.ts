import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ADMIN_MAX_BODY_BYTES, ADMIN_PREFIX, type AdminDeps, handleAdminApi } from '../lib/admin/adminApi';
import { openApiDocument } from '../lib/admin/openApi';
import { adminDeps } from '../lib/admin/wiring';
import { awsClientConfig } from '../lib/aws';
import { loadConfigOnce } from '../lib/config';
import { bodyOf, httpErrors, jsonResponse } from '../lib/http/httpApi';
import { createLogger } from '../lib/logger';
import { type ApiRequest, handleMessagesApi } from '../lib/outbound/messagesApi';
import { SendLedger } from '../lib/outbound/sendLedger';
import { sqsPublisher } from '../lib/queue/publisher';

const log = createLogger('api');
const config = loadConfigOnce();
const publish = sqsPublisher(new SQSClient(awsClientConfig('sqs')));
const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb')));
const s3 = new S3Client(awsClientConfig('s3'));
let ledger: SendLedger | undefined;
let admin: AdminDeps | undefined;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
  timeoutEarlyInMillis: 500,
})
  .use(httpErrors(log, 'json'))
  .handler(async (event, _context, { signal }) => {
    if (event.rawPath === '/v1/openapi.json') return jsonResponse(200, openApiDocument());
    const settings = await config();
    const isAdmin = event.rawPath.startsWith(ADMIN_PREFIX);
    const request: ApiRequest = {
      method: event.requestContext.http.method,
      path: event.rawPath,
      ...(event.pathParameters?.requestId && { requestId: event.pathParameters.requestId }),
      query: event.queryStringParameters ?? {},
      headers: event.headers ?? {},
      body: isAdmin ? bodyOf(event, ADMIN_MAX_BODY_BYTES) : bodyOf(event),
      signal,
    };
    if (isAdmin) {
      admin ??= adminDeps(settings, db, s3, log);
      const response = await handleAdminApi(request, admin);
      return jsonResponse(response.status, response.body);
    }
    ledger ??= new SendLedger(db, settings.stateTable);
    const response = await handleMessagesApi(request, {
      config: settings,
      publish,
      ledger,
      now: Date.now,
      log,
    });
    return jsonResponse(response.status, response.body);
  });
