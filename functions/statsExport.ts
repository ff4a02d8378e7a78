import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { s3ObjectsFor } from '../lib/aws/s3';
import { loadConfigOnce } from '../lib/config';
import { itemStoreFor } from '../lib/items/signedItemStore';
import { createLogger } from '../lib/logger';
import { createMetrics, meterOf } from '../lib/metrics';
import type { ExportSummary } from '../lib/reports/export';
import { statsExportWiring } from '../lib/reports/wiring';

const log = createLogger('statsExport');
const metrics = createMetrics('statsExport', log);
const config = loadConfigOnce('statsExport');
const clients = {
  items: itemStoreFor(process.env),
  s3: s3ObjectsFor(process.env),
  log,
  meter: meterOf(metrics),
};
let wiring: ReturnType<typeof statsExportWiring> | undefined;

/** The daily schedule exports yesterday; `{"from": "yyyy-mm-dd", "to": "yyyy-mm-dd"}` exports a range. */
export const handler = middy<unknown, ExportSummary>()
  .use(injectLambdaContext(log))
  .use(logMetrics(metrics))
  .handler(async (event, context: Context, { signal }) => {
    wiring ??= statsExportWiring(await config(), clients);
    return wiring.run(event, { remainingMs: () => context.getRemainingTimeInMillis(), signal });
  });
