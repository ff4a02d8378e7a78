import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageBuildOptions } from '../../bench/bundles';
import { ROOT } from '../../local/serviceDefinition';
import { startSimulator } from '../../simulator';
import { testConfig } from '../support/wechat';

/** Builds one module with the settings `serverless package` uses and imports the bundle. */
async function bundled<T>(source: string, run: (module: T, code: string) => Promise<void>): Promise<void> {
  const out = await mkdtemp(join(tmpdir(), 'kf-bridge-bundle-'));
  try {
    const outfile = join(out, 'bundle.mjs');
    await build({ ...(await packageBuildOptions()), entryPoints: [join(ROOT, source)], outfile });
    await run((await import(pathToFileURL(outfile).href)) as T, await readFile(outfile, 'utf8'));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

it('keeps class names in minified bundles, so logs and stack traces name the error', async () => {
  await bundled<typeof import('../../lib/errors')>('lib/errors.ts', async (errors) => {
    const thrown = (() => {
      try {
        throw new errors.UncertainOutcomeError('no answer from kf/send_msg');
      } catch (error) {
        return error as Error;
      }
    })();
    expect(thrown.name).toBe('UncertainOutcomeError');
    expect(thrown.stack).toMatch(/^UncertainOutcomeError: no answer from kf\/send_msg\n/);
    expect(new errors.BadRequestError('x').constructor.name).toBe('BadRequestError');
  });
});

it("calls the platform through ofetch on Node's own fetch, without the node-fetch-native polyfill", async () => {
  const sim = await startSimulator();
  try {
    sim.sim.createCorp({ corpId: 'wwbundle', secrets: ['bundle-secret'] });
    const app = testConfig({
      WECOM_CORP_ID: 'wwbundle',
      WECOM_KF_SECRET: 'bundle-secret',
      WECOM_API_BASE: sim.url,
    }).apps.get('default');
    await bundled<typeof import('../../lib/tokens/platformToken')>(
      'lib/tokens/platformToken.ts',
      async ({ fetchPlatformToken }, code) => {
        expect(code.includes('node-fetch-native'), 'node-fetch-native is in the bundle').toBe(false);
        const token = await fetchPlatformToken(app as NonNullable<typeof app>, 'wecom', {
          forceRefresh: false,
        });
        expect(token.token).toMatch(/\S{16,}/);
        expect(sim.sim.calls.get('gettoken')).toBe(1);
      },
    );
  } finally {
    await sim.stop();
  }
});

const readService = async () => parse(await readFile(join(ROOT, 'serverless.yml'), 'utf8'));

/** esbuild's record of every function built as `serverless package` builds them. */
async function metafileOfEveryFunction(): Promise<Metafile> {
  const handlers = Object.values<{ handler: string }>((await readService()).functions).map(
    (fn) => `${fn.handler.replace(/\.[^.]+$/, '')}.ts`,
  );
  expect(handlers).toContain('functions/callback.ts');
  const { metafile } = await build({
    ...(await packageBuildOptions()),
    entryPoints: handlers.map((handler) => join(ROOT, handler)),
    outdir: join(tmpdir(), 'kf-bridge-bundle-inputs'),
    write: false,
    metafile: true,
  });
  return metafile;
}

it('keeps fast-xml-parser out of every function bundle: WeChat XML is read by lib/xml.ts alone', async () => {
  const bundled = Object.values((await metafileOfEveryFunction()).outputs).flatMap((output) =>
    Object.entries(output.inputs).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : [])),
  );
  expect(bundled.some((input) => input.endsWith('lib/xml.ts'))).toBe(true);
  expect(bundled.filter((input) => /node_modules\/fast-xml-parser\//.test(input))).toEqual([]);
});

/** The files of the project and of node_modules that one function's bundle holds. */
async function inputsOf(handler: string): Promise<string[]> {
  const { metafile } = await build({
    ...(await packageBuildOptions()),
    entryPoints: [join(ROOT, handler)],
    outfile: join(tmpdir(), 'kf-bridge-bundle-inputs', 'bundle.mjs'),
    write: false,
    metafile: true,
  });
  return Object.values(metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : [])),
  );
}

it('keeps the SQS SDK out of the bundles of the functions that only send: their SQS calls are signed requests of their own', async () => {
  const sqsSdk = (inputs: string[]) =>
    inputs.filter((input) => /node_modules\/@aws-sdk\/(client-sqs|middleware-sdk-sqs)\//.test(input));
  for (const handler of ['callback', 'api', 'syncPuller', 'sender']) {
    const inputs = await inputsOf(`functions/${handler}.ts`);
    expect(inputs.some((input) => input.endsWith('lib/queue/signedQueueClient.ts'))).toBe(true);
    expect({ handler, sdk: sqsSdk(inputs) }).toEqual({ handler, sdk: [] });
  }
  // The admin API reads and redrives dead-letter queues with the SDK's client: the pattern above does find it.
  expect(sqsSdk(await inputsOf('functions/admin.ts'))).toEqual(
    expect.arrayContaining([expect.stringContaining('node_modules/@aws-sdk/client-sqs/')]),
  );
}, 60_000);

const LEAN_FUNCTIONS = ['callback', 'api', 'syncPuller', 'sender', 'tokenRefresh', 'statsExport'];

it('keeps the DynamoDB SDK out of every function: their item calls are signed requests of their own (#19)', async () => {
  const dynamoDbSdk = (inputs: string[]) =>
    inputs.filter((input) =>
      /node_modules\/(@aws-sdk\/(client-dynamodb|lib-dynamodb|util-dynamodb|endpoint-cache)|mnemonist)\//.test(
        input,
      ),
    );
  for (const handler of [...LEAN_FUNCTIONS, 'admin']) {
    const inputs = await inputsOf(`functions/${handler}.ts`);
    expect(inputs.some((input) => input.endsWith('lib/items/signedItemStore.ts'))).toBe(true);
    expect({ handler, sdk: dynamoDbSdk(inputs) }).toEqual({ handler, sdk: [] });
  }
  // The local tools' item store is the SDK's DocumentClient: the pattern above does find it.
  expect(dynamoDbSdk(await inputsOf('lib/items/documentClientItemStore.ts'))).toEqual(
    expect.arrayContaining([expect.stringContaining('node_modules/@aws-sdk/lib-dynamodb/')]),
  );
}, 60_000);

it("keeps the SDK's credential chain out of every function but admin: they sign with Lambda's environment credentials (#19)", async () => {
  const chain = (inputs: string[]) =>
    inputs.filter((input) =>
      /node_modules\/@aws-sdk\/(credential-provider-[a-z-]+|nested-clients)\//.test(input),
    );
  for (const handler of LEAN_FUNCTIONS) {
    const inputs = await inputsOf(`functions/${handler}.ts`);
    expect(inputs.some((input) => input.endsWith('lib/aws/lambdaCredentials.ts'))).toBe(true);
    expect({ handler, chain: chain(inputs) }).toEqual({ handler, chain: [] });
  }
  expect(chain(await inputsOf('functions/admin.ts'))).toEqual(
    expect.arrayContaining([expect.stringContaining('node_modules/@aws-sdk/credential-provider-node/')]),
  );
}, 60_000);

/**
 * The files serverless-esbuild's watcher under `npm start` sees: chokidar started from the service's folder, as
 * serverless offline runs it, with the plugin's way of combining serverless.yml's watch settings and package
 * patterns, over a copy of the project's file tree (each file `{}`, which any reader of it accepts).
 */
async function watchedFiles(files: readonly string[]): Promise<string[]> {
  const service = await readService();
  const { pattern, ignore } = service.custom.esbuild.watch;
  const packagePatterns: string[] = [
    ...(service.package?.patterns ?? []),
    ...Object.values<{ package?: { patterns?: string[] } }>(service.functions).flatMap(
      (fn) => fn.package?.patterns ?? [],
    ),
  ];
  const options = {
    patterns: [pattern, ...packagePatterns.filter((p) => !p.startsWith('!'))].flat(),
    // Without serverless-esbuild's default ignore list (.esbuild, .build, dist, node_modules): stricter.
    ignored: [
      ignore ?? [],
      ...packagePatterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1)),
    ].flat(),
  };
  const tree = await mkdtemp(join(tmpdir(), 'kf-bridge-watch-'));
  try {
    for (const file of files) {
      await mkdir(dirname(join(tree, file)), { recursive: true });
      await writeFile(join(tree, file), '{}');
    }
    const script = `
      const chokidar = require(${JSON.stringify(join(ROOT, 'node_modules/chokidar'))});
      const { patterns, ignored } = ${JSON.stringify(options)};
      const seen = [];
      const watcher = chokidar.watch(patterns, { ignored, ignoreInitial: false });
      watcher.on('add', (path) => seen.push(path)).on('ready', async () => {
        await watcher.close();
        process.stdout.write(JSON.stringify(seen));
      });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: tree });
    return (JSON.parse(stdout) as string[]).map((path) => path.replace(/^\.\//, '')).sort();
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

it('rebuilds under npm start only for a change to what the functions are built from, so `npx kf-bridge` (which touches bin/kf-bridge.js) does not reload them mid-request', async () => {
  const tracked = (await promisify(execFile)('git', ['ls-files', '-z'], { cwd: ROOT })).stdout
    .split('\0')
    .filter(Boolean);
  const others = ['node_modules/ofetch/dist/index.mjs', '.local/builds/offline-x/.build/functions/admin.js'];
  const watched = await watchedFiles([...tracked, ...others]);

  const sources = Object.keys((await metafileOfEveryFunction()).inputs).filter(
    (input) => !input.includes('node_modules/'),
  );
  expect(sources).toContain('functions/admin.ts');
  expect(
    sources.filter((source) => !watched.includes(source)),
    'bundled but not watched',
  ).toEqual([]);
  expect(
    watched.filter((file) => !/^(functions|lib)\//.test(file)),
    'watched, but no function is built from it',
  ).toEqual([]);
}, 60_000);
