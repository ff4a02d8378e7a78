import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, readServiceDefinition } from '../../local/serviceDefinition';
import { testEnv } from '../support/wechat';

const run = promisify(execFile);
let out: string;
let functions: string[];

beforeAll(async () => {
  functions = Object.keys((await readServiceDefinition()).functions);
  out = await mkdtemp(join(tmpdir(), 'kf-bridge-package-'));
  // No AWS credentials and no network: packaging must work offline.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  await run(
    process.execPath,
    [join(ROOT, 'node_modules/serverless/bin/serverless.js'), 'package', '--stage', 'prod', '--package', out],
    { cwd: ROOT, env },
  );
}, 180_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

async function unzip(zipPath: string, into: string) {
  const zip = await JSZip.loadAsync(await readFile(zipPath));
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    const target = join(into, entry.name);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, await entry.async('nodebuffer'));
  }
  return Object.keys(zip.files);
}

describe('serverless package', () => {
  it('produces one bundle per function and a CloudFormation template', async () => {
    const files = await readdir(out);
    expect(files.filter((file) => file.endsWith('.zip')).sort()).toEqual(
      functions.map((name) => `${name}.zip`).sort(),
    );
    expect(files).toContain('cloudformation-template-update-stack.json');
  });

  it('ships each handler with the package.json Lambda needs to load it as ESM, and it loads', async () => {
    for (const name of functions) {
      const into = await mkdtemp(join(tmpdir(), 'kf-bridge-zip-'));
      const entries = await unzip(join(out, `${name}.zip`), into);
      expect(entries).toEqual(expect.arrayContaining([`functions/${name}.js`, 'functions/package.json']));
      expect(entries.some((entry) => entry.startsWith('node_modules/'))).toBe(false);
      expect(JSON.parse(await readFile(join(into, 'functions/package.json'), 'utf8'))).toEqual({
        type: 'module',
      });
      // Load it as the nodejs24.x runtime would: a plain `node` import of the .js file, no loader, no TypeScript.
      const probe = `const m = await import('./functions/${name}.js'); console.log(typeof m.handler);`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: into,
        env: { PATH: process.env.PATH, ...testEnv, AWS_REGION: 'ap-southeast-1' },
      });
      expect(stdout.trim(), name).toBe('function');
      await rm(into, { recursive: true, force: true });
    }
  });

  it('keeps secrets out of the template: deployed stages read them from SSM', async () => {
    const template = await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8');
    const variables = JSON.parse(template).Resources.CallbackLambdaFunction.Properties.Environment.Variables;
    expect(variables.KF_BRIDGE_SSM_PREFIX).toBe('/kf-bridge/prod/');
    for (const name of [
      'WECOM_KF_SECRET',
      'WECOM_CALLBACK_TOKEN',
      'WECOM_ENCODING_AES_KEY',
      'MP_APP_SECRET',
      'MP_TOKEN',
      'MP_ENCODING_AES_KEY',
    ]) {
      expect(variables[name] ?? '').toBe('');
    }
    expect(template).not.toContain('local-demo');
  });
});
