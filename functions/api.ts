import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws';
import { loadConfigOnce } from '../lib/config';
import { bodyOf, httpErrors, jsonResponse } from '../lib/http/httpApi';
import { createLogger } from '../lib/logger';
import { handleMessagesApi } from '../lib/outbound/messagesApi';
import { SendLedger } from '../lib/outbound/sendLedger';
import { sqsPublisher } from '../lib/queue/publisher';

const log = createLogger('api');
const config = loadConfigOnce();
const publish = sqsPublisher(new SQSClient(awsClientConfig('sqs')));
const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb')));
let ledger: SendLedger | undefined;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
  timeoutEarlyInMillis: 500,
})
  .use(httpErrors(log, 'json'))
  .handler(async (event, _context, { signal }) => {
    const settings = await config();
    ledger ??= new SendLedger(db, settings.stateTable);
    const response = await handleMessagesApi(
      {
        method: event.requestContext.http.method,
        path: event.rawPath,
        ...(event.pathParameters?.requestId && { requestId: event.pathParameters.requestId }),
        query: event.queryStringParameters ?? {},
        headers: event.headers ?? {},
        body: bodyOf(event),
        signal,
      },
      { config: settings, publish, ledger, now: Date.now, log },
    );
    return jsonResponse(response.status, response.body);
  });
