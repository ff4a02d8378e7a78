import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { privateBuildFolder } from '../../local/buildFolder';
import { ROOT } from '../../local/serviceDefinition';

export interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON, read by the assertions
  Properties: Record<string, any>;
}
export interface Template {
  Resources: Record<string, Resource>;
  Conditions: Record<string, unknown>;
  Outputs: Record<string, { Condition?: string; Value: unknown }>;
}

/** Packages the prod stage offline (no AWS credentials, no network) into a new folder; returns the folder. */
export async function packageProd(...params: string[]): Promise<string> {
  const into = await mkdtemp(join(tmpdir(), 'kf-bridge-package-'));
  // Its own build folder: tests package in parallel, beside a running local system.
  const build = await privateBuildFolder('package');
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_'))),
    ...build.env,
  };
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/serverless/bin/serverless.js'),
      'package',
      '--stage',
      'prod',
      '--package',
      into,
      ...params.flatMap((param) => ['--param', param]),
    ],
    { cwd: ROOT, env },
  ).finally(() => build.remove());
  return into;
}

export const readTemplate = async (
  folder: string,
  which: 'create' | 'update' = 'update',
): Promise<Template> =>
  JSON.parse(await readFile(join(folder, `cloudformation-template-${which}-stack.json`), 'utf8'));

/** `callback` → `Callback`, as the framework names a function's resources. */
export const logicalName = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
