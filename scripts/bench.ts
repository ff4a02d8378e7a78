import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { type Baseline, budgetViolations } from '../bench/budgets';
import { type BundleMeasure, measureBundles } from '../bench/bundles';
import { callbackEnv, measureCallback } from '../bench/callback';
import { productCost } from '../bench/costModel';
import { measureProduct } from '../bench/product';
import { measureCeiling, measurePipeline } from '../bench/throughput';
import { measureTokenStampede } from '../bench/tokens';
import { ROOT, readServiceDefinition } from '../local/serviceDefinition';
import { startLocalStack } from '../local/stack';
import { startSimulator } from '../simulator';
import { answerHelp } from './usage';

answerHelp(`
usage: npm run bench -- [--json] [--only bundles,callback,product,throughput,tokens,cost] [--check] [--record]
                       [--messages N]

Measures bundle sizes and import times, the callback against its floors, the product's CPU, requests and
latency per message, pipeline throughput, the token stampede and a cost model. --json prints one JSON object; --check holds the bundles and the callback to CI's
budgets (bench/baseline.json; exit 1 on a breach); --record writes this run's bundles as the new baseline.
See BENCHMARKS.md.
`);

/**
 * `npm run bench [-- --json] [--only bundles,callback,product,throughput,tokens,cost] [--check] [--record]`: measures,
 * prints one JSON object with --json, checks CI's budgets against bench/baseline.json with --check (exit 1 on a
 * breach), and writes this run's bundles as the new baseline with --record.
 */
const SUITES = ['bundles', 'callback', 'product', 'throughput', 'tokens', 'cost'] as const;
const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
    only: { type: 'string', default: SUITES.join(',') },
    messages: { type: 'string', default: '4000' },
  },
});
const only = new Set(values.only.split(','));
const unknown = [...only].filter((suite) => !(SUITES as readonly string[]).includes(suite));
const messages = Number(values.messages);
if (unknown.length > 0 || !Number.isInteger(messages) || messages < 100) {
  console.error(
    `--only takes ${SUITES.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}; --messages a whole number of at least 100`,
  );
  process.exit(2);
}
const say = (line: string) => values.json || console.error(line);
const BASELINE = join(ROOT, 'bench/baseline.json');

const result: Record<string, unknown> = {
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
};

if (only.has('bundles')) {
  say('bundles: building each function and timing its import…');
  result.bundles = await measureBundles();
}

let callbackCpuUs: number | undefined;
const needsStack = ['callback', 'tokens', 'cost'].some((suite) => only.has(suite));
if (needsStack) {
  const definition = await readServiceDefinition();
  const stack = await startLocalStack({ resources: definition.resources, region: definition.region });
  const sim = await startSimulator();
  try {
    if (only.has('callback')) {
      say('callback: WeCom pushes through the handler against the local stack…');
      const callback = await measureCallback(callbackEnv(stack));
      result.callback = callback;
      callbackCpuUs = callback.cpuP50Us;
    } else if (only.has('cost')) {
      say('cost: the CPU the callback spends per push…');
      callbackCpuUs = (await measureCallback(callbackEnv(stack), 1, 300)).cpuP50Us;
    }
    if (only.has('tokens')) {
      say('tokens: 1,000 cold callers at once…');
      result.tokens = await measureTokenStampede(stack, sim);
    }
  } finally {
    await sim.stop();
    await stack.stop();
  }
}

let product: Awaited<ReturnType<typeof measureProduct>> | undefined;
if (only.has('product') || only.has('cost')) {
  say('product: customers write at a steady pace, replies follow, then one message at a time…');
  product = await measureProduct({ messages: 1000 });
  if (only.has('product')) {
    result.product = product.product;
    result.latency = product.latency;
  }
}

if (only.has('throughput')) {
  say('ceiling: the simulator serving requests alone…');
  const sim = await startSimulator();
  try {
    result.ceiling = await measureCeiling(sim);
  } finally {
    await sim.stop();
  }
  say(`throughput: ${messages} customer messages in at a platform's pace, replies out…`);
  const throughput = await measurePipeline(messages);
  Object.assign(result, throughput);
}

if (product && only.has('cost')) {
  const service = parse(await readFile(join(ROOT, 'serverless.yml'), 'utf8'));
  const memory = (name: string) => service.functions[name]?.memorySize ?? service.provider.memorySize;
  const memoryMb = Object.fromEntries(
    ['callback', 'api', 'syncPuller', 'sender'].map((name) => [name, memory(name)]),
  );
  result.cost = productCost(product.phases, { memoryMb, callbackCpuMs: (callbackCpuUs ?? 0) / 1000 });
}

let exitCode = 0;
if (values.check) {
  const baseline = JSON.parse(await readFile(BASELINE, 'utf8')) as Baseline;
  let violations = budgetViolations(result as Parameters<typeof budgetViolations>[0], baseline);
  const bundles = result.bundles as Record<string, BundleMeasure> | undefined;
  if (bundles && violations.some((violation) => violation.includes(' imports in '))) {
    // A busy machine slows one measurement; a slower bundle is slower in both. Keep each bundle's better one.
    say('an import time is over budget: measuring again to confirm…');
    const again = await measureBundles();
    for (const [name, measure] of Object.entries(bundles))
      bundles[name] = {
        ...measure,
        importRatio: Math.min(measure.importRatio, again[name]?.importRatio ?? Infinity),
      };
    violations = budgetViolations(result as Parameters<typeof budgetViolations>[0], baseline);
  }
  result.budgets = { baseline: baseline.recorded, violations };
  for (const violation of violations) console.error(`budget: ${violation}`);
  if (violations.length > 0) exitCode = 1;
  else say('budgets: all within limits');
}
if (values.record) {
  if (!result.bundles) {
    console.error('--record needs the bundles suite');
    process.exit(2);
  }
  const baseline: Baseline = {
    recorded: new Date().toISOString().slice(0, 10),
    bundles: result.bundles as Baseline['bundles'],
  };
  await writeFile(BASELINE, `${JSON.stringify(baseline, null, 2)}\n`);
  say(`baseline written to bench/baseline.json`);
}
console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
process.exit(exitCode);
