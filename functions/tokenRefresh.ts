import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws';
import { loadConfigOnce } from '../lib/config';
import { KfBridgeError } from '../lib/errors';
import { createLogger } from '../lib/logger';
import { fetchPlatformToken } from '../lib/tokens/platformToken';
import { createTokenProvider, type TokenProvider } from '../lib/tokens/provider';
import { refreshAllTokens } from '../lib/tokens/refreshAll';
import { TokenStore } from '../lib/tokens/store';

const log = createLogger('tokenRefresh');
const config = loadConfigOnce();
const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig('dynamodb')));

let tokens: TokenProvider | undefined;

export const handler = middy<ScheduledEvent | Record<string, never>>().handler(async () => {
  const settings = await config();
  tokens ??= createTokenProvider({
    store: new TokenStore(db, settings.stateTable),
    fetchToken: fetchPlatformToken,
    now: Date.now,
    log,
  });
  const report = await refreshAllTokens(settings, tokens, settings.tokenRefreshMarginSeconds * 1000, log);
  // A failed refresh fails the invocation, so Lambda's error metric and its alarm see it.
  if (report.failed.length > 0) {
    throw new KfBridgeError(
      `token refresh failed for ${report.failed.map((f) => `${f.app}/${f.platform}`).join(', ')}`,
    );
  }
  return report;
});
