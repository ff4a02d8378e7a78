import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws';
import { handleCallback } from '../lib/callback/handleCallback';
import { loadConfigOnce } from '../lib/config';
import { bodyOf, httpErrors, queryOf, textResponse } from '../lib/http/httpApi';
import { createLogger } from '../lib/logger';
import { BudgetStore } from '../lib/outbound/budgets';
import { sqsPublisher } from '../lib/queue/publisher';

const log = createLogger('callback');
const config = loadConfigOnce();
const publish = sqsPublisher(new SQSClient(awsClientConfig('sqs')));
const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb')));
let budgets: BudgetStore | undefined;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
  timeoutEarlyInMillis: 500,
})
  .use(httpErrors(log))
  .handler(async (event, _context, { signal }) => {
    const settings = await config();
    budgets ??= new BudgetStore(db, settings.stateTable);
    const response = await handleCallback(
      {
        method: event.requestContext.http.method,
        app: event.pathParameters?.app ?? '',
        query: queryOf(event),
        body: bodyOf(event),
        signal,
      },
      { config: settings, publish, budgets, now: () => new Date(), log },
    );
    return textResponse(response.status, response.body);
  });
