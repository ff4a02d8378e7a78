import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build } from 'esbuild';
import { parse } from 'yaml';
import { ROOT } from '../local/serviceDefinition';
import { round } from './stats';

const run = promisify(execFile);

export interface BundleMeasure {
  readonly bytes: number;
  readonly importMs: number;
  /** importMs over the import of a fixed reference module in the same rounds: what the CI budget compares. */
  readonly importRatio: number;
  /** bytes over the floor's, built in the same run (absent on the floor itself). */
  readonly floorRatio?: number;
}

/** Settings a bundle reads at import (client regions, config); no value is used, none is secret. */
const IMPORT_ENV = {
  AWS_REGION: 'ap-southeast-1',
  STATE_TABLE: 'bench-state',
  SYNC_JOBS_QUEUE_URL: 'http://127.0.0.1:1/000000000000/sync-jobs.fifo',
  INBOUND_QUEUE_URL: 'http://127.0.0.1:1/000000000000/inbound.fifo',
  OUTBOUND_QUEUE_URL: 'http://127.0.0.1:1/000000000000/outbound.fifo',
};

/**
 * A module of fixed content whose import time tracks the machine's speed at parsing and running JavaScript,
 * so the bundles' import times can be compared across runs and machines as ratios to it.
 */
function referenceModule(): string {
  const parts: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    parts.push(
      `export function f${i}(a, b) { const o = { k${i}: a + ${i}, s: \`v${i}\${b}\` }; return Object.keys(o).length + o.k${i}; }`,
    );
  }
  parts.push('let t = 0; for (let i = 0; i < 3000; i++) t += i; export const total = t;');
  return parts.join('\n');
}

const readService = async () => parse(await readFile(join(ROOT, 'serverless.yml'), 'utf8'));

/** The esbuild options `serverless package` builds with: serverless.yml's custom.esbuild. */
export async function packageBuildOptions(): Promise<BuildOptions> {
  const esbuild = (await readService()).custom.esbuild;
  return {
    bundle: esbuild.bundle,
    minify: esbuild.minify,
    keepNames: esbuild.keepNames,
    target: esbuild.target,
    platform: esbuild.platform,
    format: esbuild.format,
    mainFields: esbuild.mainFields,
    alias: esbuild.alias,
    banner: esbuild.banner,
    // serverless resolves the aliases' relative paths from the service's folder.
    absWorkingDir: ROOT,
    logLevel: 'silent',
  };
}

/** The handler the callback is held against (bench/floorHandler.ts): verify, decrypt, one SendMessage. */
export const FLOOR = 'floor';

/**
 * Builds each function as `serverless package` does (serverless.yml's esbuild settings, one entry per handler),
 * and the floor with the same settings.
 */
async function buildAll(out: string): Promise<Record<string, string>> {
  const service = await readService();
  const options = await packageBuildOptions();
  const sources: Record<string, string> = {};
  for (const [name, fn] of Object.entries<{ handler: string }>(service.functions))
    sources[name] = `${fn.handler.replace(/\.[^.]+$/, '')}.ts`;
  sources[FLOOR] = 'bench/floorHandler.ts';
  const entries: Record<string, string> = {};
  for (const [name, source] of Object.entries(sources)) {
    const outfile = join(out, `${name}.js`);
    await build({ ...options, entryPoints: [join(ROOT, source)], outfile });
    entries[name] = outfile;
  }
  return entries;
}

/** Milliseconds to import one file in a fresh Node process, Node's own start excluded. */
async function importMs(file: string): Promise<number> {
  const probe = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
    env: { PATH: process.env.PATH, ...IMPORT_ENV },
  });
  return Number(stdout.trim());
}

/**
 * Sizes and import times; rounds interleave the bundles with the reference so load on the machine hits all alike,
 * and each import time is its fastest round: neighbours only ever add time, so the minimum is the figure that
 * repeats on a shared machine (the median moved by a third between runs of the same bytes).
 */
export async function measureBundles(rounds = 15): Promise<Record<string, BundleMeasure>> {
  const out = await mkdtemp(join(tmpdir(), 'kf-bridge-bench-'));
  try {
    await writeFile(join(out, 'package.json'), '{"type":"module"}');
    const entries = await buildAll(out);
    const reference = join(out, 'reference.js');
    await writeFile(reference, referenceModule());
    const files = { reference, ...entries };
    const times = Object.fromEntries(Object.keys(files).map((name) => [name, [] as number[]]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, file] of Object.entries(files)) times[name]?.push(await importMs(file));
    }
    const referenceMs = Math.min(...(times.reference ?? []));
    const floorBytes = (await stat(entries[FLOOR] as string)).size;
    const result: Record<string, BundleMeasure> = {};
    for (const [name, file] of Object.entries(entries)) {
      const ms = Math.min(...(times[name] ?? []));
      const bytes = (await stat(file)).size;
      result[name] = {
        bytes,
        importMs: round(ms),
        importRatio: round(ms / referenceMs, 3),
        ...(name !== FLOOR && { floorRatio: round(bytes / floorBytes, 3) }),
      };
    }
    return result;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
