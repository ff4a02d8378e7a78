import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { loadConfigOnce } from '../lib/config';
import { itemStoreFor } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';
import { tokenRefreshWiring } from '../lib/tokens/wiring';

const log = createLogger('tokenRefresh');
const metrics = createMetrics('tokenRefresh', log);
const config = loadConfigOnce('tokenRefresh');
const clients = {
  items: itemStoreFor(process.env),
  log,
  meter: meterOf(metrics),
};
let wiring: ReturnType<typeof tokenRefreshWiring> | undefined;

export const handler = middy<ScheduledEvent | Record<string, never>>()
  .use(injectLambdaContext(log))
  .use(logMetrics(metrics))
  .handler(async () => {
    wiring ??= tokenRefreshWiring(await config(), clients);
    return wiring.refresh();
  });
