import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../lib/aws/clientConfig';
import { s3ObjectsFor } from '../lib/aws/s3';
import { parseConfig } from '../lib/config/config';
import { ConfigError, KfBridgeError } from '../lib/errors';
import { documentClientItemStore } from '../lib/items/documentClientItemStore';
import { createLogger } from '../lib/logger';
import { NO_METRICS } from '../lib/metrics';
import { platformFor } from '../lib/platform/wiring';
import { daysFrom } from '../lib/reports/days';
import { exportReports } from '../lib/reports/export';
import { dayFolder } from '../lib/reports/folder';
import { ExportProgress } from '../lib/reports/progress';
import { exportRange } from '../lib/reports/range';
import { localEndpoints } from '../local/endpoints';
import { localFunctionEnvironment, ROOT, readServiceDefinition } from '../local/serviceDefinition';
import { answerHelp } from './usage';

const USAGE = `
usage: npm run export -- [--from yyyy-mm-dd --to yyyy-mm-dd] [--out <dir>]

Runs the statsExport function's work against npm start's stack and simulator (or what the environment points
at): daily kf statistics and Official Account chat records, as CSV, JSON Lines and an HTML report with
charts, into the reports bucket (REPORTS_BUCKET) and into a folder: <dir>/{app}/{yyyy-mm-dd}/, created if
missing. Against npm start's stack the folder is ./reports/ unless --out names another; elsewhere only --out
writes one. It prints where the reports are. Without dates it exports yesterday; a run that stops continues
when started again with the same dates.

  --from, --to   the first and last day, China time: yesterday back to 180 days
  --out <dir>    the folder for the files
`;
answerHelp(USAGE);

/**
 * `npm run export -- [--from yyyy-mm-dd --to yyyy-mm-dd] [--out <dir>]`: the statsExport function's work, run
 * here against `npm start`'s stack and simulator (or whatever the environment points at), with a progress bar
 * on a terminal. Without dates it exports yesterday. A run that stops can be started again with the same dates:
 * it continues.
 */
// Progress shows on the terminal; the functions' info lines would only get in its way.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
let values: { from?: string; to?: string; out?: string };
try {
  ({ values } = parseArgs({
    options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
  }));
} catch (error) {
  console.error(`export: ${(error as Error).message}\n${USAGE.trim()}`);
  process.exit(2);
}
const definition = await readServiceDefinition();
// As on Lambda, where the runtime sets the region.
const { ports } = await localEndpoints(process.env);
const env = { AWS_REGION: definition.region, ...localFunctionEnvironment(definition, process.env, ports) };
const region = env.AWS_REGION;
const bar = (done: number, total: number, label: string) => {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}  `);
};
try {
  const config = parseConfig(env);
  const s3 = awsClientConfig('s3', env);
  // Locally the bucket lives in the embedded stack, where no browser opens it: the reports go to a folder too.
  // npm runs scripts in the package folder; INIT_CWD is where the user typed the command.
  const folder =
    values.out !== undefined
      ? resolve(process.env.INIT_CWD ?? process.cwd(), values.out)
      : 'endpoint' in s3
        ? join(ROOT, 'reports')
        : undefined;
  if (!config.reportsBucket && !folder)
    throw new ConfigError('REPORTS_BUCKET is not set: set it, or give --out <dir> for a folder');
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region, ...awsClientConfig('dynamodb', env) }));
  // A local tool: the SDK's DocumentClient carries its item calls, no bundle to keep small.
  const items = documentClientItemStore(db);
  const log = createLogger('export');
  const summary = await exportReports(exportRange(values.from || values.to ? values : {}, Date.now()), {
    config,
    call: platformFor(config, items, log, NO_METRICS).call,
    s3: s3ObjectsFor(env),
    ...(folder && { folder }),
    progress: new ExportProgress(items, config.stateTable, folder),
    now: Date.now,
    log,
    onDay: (done, total, app, day) => bar(done, total, `${app} ${day}`),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(JSON.stringify(summary));
  if (folder) {
    console.log(`reports in ${folder} (open report.html in a browser):`);
    for (const app of config.apps.keys())
      for (const day of daysFrom(summary.from, summary.to))
        console.log(`  ${join(dayFolder(folder, app, day), 'report.html')}`);
  }
  if (config.reportsBucket)
    console.log(
      `${folder ? 'also in' : 'reports in'} s3://${config.reportsBucket}/reports/{app}/{yyyy-mm-dd}/`,
    );
} catch (error) {
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.error(`export failed: ${error instanceof KfBridgeError ? error.message : String(error)}`);
  process.exit(1);
}
