import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ROOT } from './serviceDefinition';

export interface BuildFolder {
  /** Environment that makes serverless-esbuild build here (serverless.yml's esbuild.outputWorkFolder). */
  readonly env: { readonly KF_BRIDGE_BUILD_FOLDER: string };
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * A build folder no other build uses: `serverless package` deletes its build folder when it is done, and a
 * running `serverless offline` loads its functions from its own, so two builds sharing one break each other.
 */
export async function privateBuildFolder(purpose: string): Promise<BuildFolder> {
  const parent = join(ROOT, '.local', 'builds');
  await mkdir(parent, { recursive: true });
  const path = await mkdtemp(join(parent, `${purpose}-`));
  return {
    // serverless-esbuild takes the folder relative to the service.
    env: { KF_BRIDGE_BUILD_FOLDER: relative(ROOT, path) },
    path,
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
