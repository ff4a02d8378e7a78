import { copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compiledLoopbackLauncher,
  type DynamoDbLocalRelease,
  dynamoDbLocalRelease,
  javaVersion,
  LOOPBACK_LAUNCHER_SOURCE,
} from '../../local/dynamodb/loopbackLauncher';

let scratch: string;
let release: DynamoDbLocalRelease;
let java: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kf-bridge-launcher-'));
  release = dynamoDbLocalRelease();
  java = await javaVersion();
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const classFile = (folder: string) => join(folder, 'LoopbackDynamoDbLocal.class');

async function freshCache(name: string): Promise<string> {
  const folder = join(scratch, name);
  await mkdir(folder);
  return folder;
}

describe('the DynamoDB Local loopback launcher', () => {
  it('is compiled on the first start and reused, unchanged, on the next', async () => {
    const build = {
      source: LOOPBACK_LAUNCHER_SOURCE,
      release,
      javaVersion: java,
      cacheFolder: await freshCache('reuse'),
    };
    const first = await compiledLoopbackLauncher(build);
    expect(first?.compiled).toBe(true);
    const compiledAt = (await stat(classFile(first?.folder ?? ''))).mtimeMs;

    const second = await compiledLoopbackLauncher(build);
    expect(second).toEqual({ folder: first?.folder, compiled: false });
    expect((await stat(classFile(second?.folder ?? ''))).mtimeMs).toBe(compiledAt);
  }, 120_000);

  it('is compiled anew when its source or the Java version changes', async () => {
    const cacheFolder = await freshCache('changes');
    const original = await compiledLoopbackLauncher({
      source: LOOPBACK_LAUNCHER_SOURCE,
      release,
      javaVersion: java,
      cacheFolder,
    });
    // javac wants a public class in a file of its name.
    const editedSource = join(await freshCache('edited'), basename(LOOPBACK_LAUNCHER_SOURCE));
    await copyFile(LOOPBACK_LAUNCHER_SOURCE, editedSource);
    await writeFile(editedSource, '// edited\n', { flag: 'a' });

    const edited = await compiledLoopbackLauncher({
      source: editedSource,
      release,
      javaVersion: java,
      cacheFolder,
    });
    const otherJava = await compiledLoopbackLauncher({
      source: LOOPBACK_LAUNCHER_SOURCE,
      release,
      javaVersion: `${java} (another build)`,
      cacheFolder,
    });

    expect(edited?.compiled).toBe(true);
    expect(otherJava?.compiled).toBe(true);
    const folders = [original?.folder, edited?.folder, otherJava?.folder];
    expect(new Set(folders).size).toBe(3);
    for (const folder of folders) await stat(classFile(folder ?? ''));
  }, 180_000);

  it('gives parallel first starts one complete class and leaves no half-compiled folder behind', async () => {
    const cacheFolder = await freshCache('parallel');
    const build = { source: LOOPBACK_LAUNCHER_SOURCE, release, javaVersion: java, cacheFolder };
    const starts = await Promise.all([compiledLoopbackLauncher(build), compiledLoopbackLauncher(build)]);

    expect(starts[1]?.folder).toBe(starts[0]?.folder);
    expect(await readdir(cacheFolder)).toEqual([basename(starts[0]?.folder ?? '')]);
    expect(await readdir(starts[0]?.folder ?? '')).toEqual(['LoopbackDynamoDbLocal.class']);
  }, 120_000);

  it('refuses a source that does not compile, naming it, and caches nothing', async () => {
    const cacheFolder = await freshCache('broken');
    const brokenSource = join(await freshCache('broken-source'), basename(LOOPBACK_LAUNCHER_SOURCE));
    await writeFile(brokenSource, 'public class LoopbackDynamoDbLocal { not java }\n');

    await expect(
      compiledLoopbackLauncher({ source: brokenSource, release, javaVersion: java, cacheFolder }),
    ).rejects.toThrow(/^LoopbackDynamoDbLocal\.java does not compile: .*error/s);
    expect(await readdir(cacheFolder)).toEqual([]);
  }, 60_000);
});
