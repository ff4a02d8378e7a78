import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config/config';
import type { Log } from '../logger';
import { fetchPlatformToken } from '../tokens/platformToken';
import { createTokenProvider } from '../tokens/provider';
import { TokenStore } from '../tokens/store';
import {
  createPlatformClient,
  createPlatformDownload,
  createPlatformMultipart,
  createPlatformUpload,
} from './client';

/** The platform client of a function: tokens from the state table, and the calls, downloads and uploads that use them. */
export function platformFor(
  config: Config,
  db: DynamoDBDocumentClient,
  log: Log,
  now: () => number = Date.now,
) {
  const tokens = createTokenProvider({
    store: new TokenStore(db, config.stateTable),
    fetchToken: fetchPlatformToken,
    now,
    log,
  });
  return {
    call: createPlatformClient({ tokens, log }),
    download: createPlatformDownload({ tokens, log }),
    upload: createPlatformUpload({ tokens, log }),
    multipart: createPlatformMultipart({ tokens, log }),
  };
}
