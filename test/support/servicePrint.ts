import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../local/serviceDefinition';

/** What the framework resolved serverless.yml to, and what it said on stderr. */
export interface Printed {
  readonly service: {
    functions: Record<string, { events?: { schedule?: { enabled?: unknown } }[] }>;
    custom: { localPorts: Record<string, unknown> };
  };
  readonly stderr: string;
}

/**
 * `serverless print` of a copy of this clone whose `.kf-bridge/local.json` holds `record` (absent when undefined):
 * the copy has its own serverless.yml, deploy/ and local/, so the record it reads is never this clone's, which a
 * running `npm start` owns.
 */
export async function printService(
  stage: string,
  env: Record<string, string>,
  record?: string,
): Promise<Printed> {
  const clone = await mkdtemp(join(tmpdir(), 'kf-bridge-print-'));
  try {
    const copied = new Set(['serverless.yml', 'package.json', 'deploy', 'local']);
    for (const entry of await readdir(ROOT)) {
      if (entry.startsWith('.')) continue;
      if (copied.has(entry)) await cp(join(ROOT, entry), join(clone, entry), { recursive: true });
      else await symlink(join(ROOT, entry), join(clone, entry));
    }
    if (record !== undefined) {
      await mkdir(join(clone, '.kf-bridge'));
      await writeFile(join(clone, '.kf-bridge/local.json'), record);
    }
    const inherited = Object.entries(process.env).filter(
      ([name]) => !/^(AWS_|KF_BRIDGE_|HTTP_PORT|LAMBDA_PORT|DYNAMODB_PORT|FAUXQS_PORT|SIM_PORT)/.test(name),
    );
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules/serverless/bin/serverless.js'),
        'print',
        '--format',
        'json',
        '--stage',
        stage,
      ],
      { cwd: clone, env: { ...Object.fromEntries(inherited), ...env }, maxBuffer: 16 * 1024 * 1024 },
    );
    return { service: JSON.parse(stdout.slice(stdout.indexOf('{'))), stderr };
  } finally {
    await rm(clone, { recursive: true, force: true });
  }
}

/** Every schedule event's `enabled`, by function. */
export const schedulesEnabled = ({ service }: Printed) =>
  Object.fromEntries(
    Object.entries(service.functions).flatMap(([name, fn]) =>
      (fn.events ?? []).flatMap((event) => (event.schedule ? [[name, event.schedule.enabled]] : [])),
    ),
  );
