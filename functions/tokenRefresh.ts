import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws';
import { loadConfigOnce } from '../lib/config';
import { createLogger } from '../lib/logger';
import { tokenRefreshWiring } from '../lib/tokens/wiring';

const log = createLogger('tokenRefresh');
const config = loadConfigOnce('tokenRefresh');
const clients = { db: DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb'))), log };
let wiring: ReturnType<typeof tokenRefreshWiring> | undefined;

export const handler = middy<ScheduledEvent | Record<string, never>>().handler(async () => {
  wiring ??= tokenRefreshWiring(await config(), clients);
  return wiring.refresh();
});
