import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../lib/aws';
import { parseConfig } from '../lib/config/config';
import { KfBridgeError } from '../lib/errors';
import { createLogger } from '../lib/logger';
import { NO_METRICS } from '../lib/metrics';
import { platformFor } from '../lib/platform/wiring';
import { exportReports } from '../lib/reports/export';
import { ExportProgress } from '../lib/reports/progress';
import { exportRange } from '../lib/reports/range';
import { localFunctionEnvironment, readServiceDefinition } from '../local/serviceDefinition';
import { answerHelp } from './usage';

answerHelp(`
usage: npm run export -- [--from yyyy-mm-dd --to yyyy-mm-dd]

Runs the statsExport function's work against npm start's stack and simulator (or what the environment points
at): daily kf statistics and Official Account chat records to the reports bucket, as CSV, JSON Lines and an
HTML report. Without dates it exports yesterday; a run that stops continues when started again with the same
dates.
`);

/**
 * `npm run export -- [--from yyyy-mm-dd --to yyyy-mm-dd]`: the statsExport function's work, run here against
 * `npm start`'s stack and simulator (or whatever the environment points at), with a progress bar on a terminal.
 * Without dates it exports yesterday. A run that stops can be started again with the same dates: it continues.
 */
// Progress shows on the terminal; the functions' info lines would only get in its way.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } });
const definition = await readServiceDefinition();
// As on Lambda, where the runtime sets the region.
const env = { AWS_REGION: definition.region, ...localFunctionEnvironment(definition, process.env) };
const region = env.AWS_REGION;
const bar = (done: number, total: number, label: string) => {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}  `);
};
try {
  const config = parseConfig(env);
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region, ...awsClientConfig('dynamodb', env) }));
  const log = createLogger('export');
  const summary = await exportReports(exportRange(values.from || values.to ? values : {}, Date.now()), {
    config,
    call: platformFor(config, db, log, NO_METRICS).call,
    s3: new S3Client({ region, ...awsClientConfig('s3', env) }),
    progress: new ExportProgress(db, config.stateTable),
    now: Date.now,
    log,
    onDay: (done, total, app, day) => bar(done, total, `${app} ${day}`),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(JSON.stringify(summary));
} catch (error) {
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.error(`export failed: ${error instanceof KfBridgeError ? error.message : String(error)}`);
  process.exit(1);
}
