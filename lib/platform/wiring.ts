import type { Config } from '../config/config';
import type { ItemStore } from '../items/itemStore';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
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
  items: ItemStore,
  log: Log,
  meter: Meter,
  now: () => number = Date.now,
) {
  const tokens = createTokenProvider({
    store: new TokenStore(items, config.stateTable),
    fetchToken: fetchPlatformToken,
    now,
    log,
    meter,
  });
  const deps = { tokens, log, meter };
  return {
    call: createPlatformClient(deps),
    download: createPlatformDownload(deps),
    upload: createPlatformUpload(deps),
    multipart: createPlatformMultipart(deps),
  };
}
