import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import type { Day } from './days';

/** A day's files in a local folder: `{folder}/{app}/{day}/`, laid out as under `reports/` in the bucket. */
export const dayFolder = (folder: string, app: string, day: Day) => join(folder, app, day);

/** Writes a day's files into a local folder, creating it if missing; the manifest, written last, stays last. */
export async function writeToFolder(
  folder: string,
  app: string,
  day: Day,
  files: readonly { name: string; body: string }[],
): Promise<void> {
  const target = dayFolder(folder, app, day);
  try {
    await mkdir(target, { recursive: true });
    for (const file of files) await writeFile(join(target, file.name), file.body);
  } catch (error) {
    throw new ConfigError(`writing the reports into ${folder} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
