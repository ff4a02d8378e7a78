import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';
import { packageBuildOptions } from '../../bench/bundles';
import { ROOT } from '../../local/serviceDefinition';

it('keeps class names in minified bundles, so logs and stack traces name the error', async () => {
  const out = await mkdtemp(join(tmpdir(), 'kf-bridge-names-'));
  try {
    const outfile = join(out, 'errors.mjs');
    await build({ ...(await packageBuildOptions()), entryPoints: [join(ROOT, 'lib/errors.ts')], outfile });
    const errors = (await import(pathToFileURL(outfile).href)) as typeof import('../../lib/errors');
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
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
