import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_PORTS, type LocalPorts } from './endpoints';

/** The parts of the resolved `serverless.yml` the local stack needs. */
export interface ServiceDefinition {
  readonly service: string;
  readonly region: string;
  readonly resources: Record<string, CloudFormationResource>;
  readonly functions: Record<
    string,
    { handler: string; timeout?: number; events?: Record<string, unknown>[] }
  >;
  /** The local stage's params: the demo app's settings. */
  readonly localParams: Record<string, string>;
  /** The functions' environment on the local stage, with the default ports. */
  readonly environment: Record<string, string>;
}

export interface CloudFormationResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export const ROOT = new URL('..', import.meta.url).pathname;
const CACHE_DIR = join(ROOT, '.local');
/** Bumped when ServiceDefinition changes shape, so an older cached copy is not read. */
const SHAPE = 'v3';

/**
 * Resolves serverless.yml with the framework itself (so variables mean exactly what they mean on deploy),
 * for the local stage and with no WECOM_/MP_ or API key overrides. The result is cached by the file's content.
 */
export async function readServiceDefinition(): Promise<ServiceDefinition> {
  // serverless.yml includes the files under deploy/: a change to any of them is a new definition.
  const hash = createHash('sha256')
    .update(SHAPE)
    .update(await readFile(join(ROOT, 'serverless.yml')));
  for (const file of (await readdir(join(ROOT, 'deploy'))).sort())
    hash.update(await readFile(join(ROOT, 'deploy', file)));
  const cacheFile = join(CACHE_DIR, `service-${hash.digest('hex').slice(0, 16)}.json`);
  try {
    return JSON.parse(await readFile(cacheFile, 'utf8')) as ServiceDefinition;
  } catch {
    // Not cached yet.
  }
  const env = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !/^(WECOM_|MP_|CALLBACK_|KF_BRIDGE_|OUTBOUND_API_KEY|ADMIN_API_KEY)/.test(name),
      ),
    ),
    // The default ports, whatever is running: localFunctionEnvironment puts the chosen ones in.
    ...Object.fromEntries(
      Object.values(LOCAL_PORTS).map(({ variable, fallback }) => [variable, String(fallback)]),
    ),
  };
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/serverless/bin/serverless.js'),
      'print',
      '--format',
      'json',
      '--stage',
      'local',
    ],
    { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 },
  );
  const printed = JSON.parse(stdout.slice(stdout.indexOf('{')));
  const definition: ServiceDefinition = {
    service: printed.service,
    region: printed.provider.region,
    resources: printed.resources?.Resources ?? {},
    functions: printed.functions ?? {},
    localParams: printed.params?.local ?? {},
    environment: printed.provider?.environment ?? {},
  };
  await mkdir(CACHE_DIR, { recursive: true });
  await writeFile(cacheFile, JSON.stringify(definition));
  return definition;
}

/**
 * The environment `serverless invoke local` would give a function against the local system on these ports
 * (local/endpoints.ts): the local stage's, with the caller's environment over it.
 */
export function localFunctionEnvironment(
  definition: ServiceDefinition,
  env: NodeJS.ProcessEnv,
  ports: LocalPorts,
): Record<string, string | undefined> {
  const chosen = new Map(
    Object.entries(LOCAL_PORTS).map(([name, { fallback }]) => [
      String(fallback),
      String(ports[name as keyof LocalPorts]),
    ]),
  );
  const local = Object.fromEntries(
    Object.entries(definition.environment).map(([name, value]) => [
      name,
      String(value).replace(
        /127\.0\.0\.1:(\d+)/g,
        (_address, port: string) => `127.0.0.1:${chosen.get(port) ?? port}`,
      ),
    ]),
  );
  return { ...local, ...env };
}
