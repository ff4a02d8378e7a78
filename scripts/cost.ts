import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderCostTables, withCostTables } from '../bench/costTable';
import { readDeployment } from '../bench/monthlyCost';
import { ROOT } from '../local/serviceDefinition';
import { answerHelp } from './usage';

answerHelp(`
usage: npm run cost -- [--write]

Prints the monthly cost tables (with no traffic, and at 1,000, 10,000 and 100,000 messages a day) computed from
the cost model (bench/costModel.ts, bench/monthlyCost.ts) and this stack's serverless.yml and alarms. --write puts
them into README.md, between its cost-table markers.
`);

const { values } = parseArgs({ options: { write: { type: 'boolean', default: false } } });
const tables = renderCostTables(await readDeployment());
if (values.write) {
  const path = join(ROOT, 'README.md');
  await writeFile(path, withCostTables(await readFile(path, 'utf8'), tables));
  console.error(`cost tables written to ${path}`);
} else {
  console.log(tables);
}
