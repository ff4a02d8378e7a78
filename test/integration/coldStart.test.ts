import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageBuildOptions } from '../../bench/bundles';
import { parseInboundMessage } from '../../lib/contracts/inbound';
import { parseSyncJob } from '../../lib/contracts/syncJob';
import { callbackHttpEvent } from '../../local/callbackEvent';
import { ROOT } from '../../local/serviceDefinition';
import { documentClient, drain, localStack, purge, sqsClient } from '../support/aws';
import { type MotoServer, startMotoServer } from '../support/moto';
import { describeWithPythonTools } from '../support/pythonTools';
import { kfEventXml, mpPost, mpTextXml, testEnv, wecomPost } from '../support/wechat';

/**
 * The deployed callback's first invocation in a fresh process: the bundle `serverless package` builds, its
 * settings read from SSM at cold start, its queues and table on the integration test stack. WeCom (and MP)
 * give a push 5 s, then retry it; a callback that cannot answer within that on a cold start is retried forever
 * by every push that lands on a new container.
 *
 * What differs from Lambda:
 * - The process is Node started on this machine: no code download, no Lambda runtime client. The figure counts
 *   from the spawn, so Node's own start is in it, as it is in Lambda's init.
 * - CPU: a whole core of a shared 2-core machine, where a 512 MB function gets about a third of a vCPU (Lambda
 *   gives one vCPU at 1,769 MB); the child's CPU time is printed beside the wall times for that reason.
 * - AWS: SSM is moto, SQS fauxqs, DynamoDB DynamoDB Local, all on loopback without TLS, reached through AWS's
 *   endpoint settings (AWS_ENDPOINT_URL_SSM, …) with credentials in the environment as Lambda puts them: the
 *   deployed code path, which on Lambda has the regional endpoints instead.
 * - The stage is `coldstart`, not `local`: the clock-skew check stays at 300 s and cannot be turned off
 *   (lib/config/config.ts), as on a deployed stage; the stage changes nothing else but the metrics' dimension.
 *   The queues and the table are the test stack's, which carry the local stage's names.
 */

/** WeCom's and MP's deadline for an answer to a push. */
const PUSH_DEADLINE_MS = 5_000;
const STAGE = 'coldstart';
const SSM_PREFIX = `/kf-bridge/${STAGE}/`;

interface ServiceFile {
  provider: { runtime: string };
  custom: { esbuild: { sourcemap: boolean | 'linked' | 'inline' | 'external' | 'both' } };
  functions: { callback: { timeout: number } };
}

interface ColdStart {
  /** Spawn to the child's first line of script: the process and Node's start. */
  readonly bootMs: number;
  /** The bundle's import: its clients built, its settings' SSM read begun. */
  readonly importMs: number;
  /** The first invocation: waiting for the settings, then the push's work, to the answer. */
  readonly answerMs: number;
  /** Spawn to answer: what a push waits for on a cold start, before its network round trip. */
  readonly totalMs: number;
  /** The child's CPU time (user + system) by the answer. */
  readonly cpuMs: number;
  readonly response: APIGatewayProxyStructuredResultV2;
}

const stack = localStack();
const sqs = sqsClient();
const db = documentClient();
const syncJobsUrl = stack.queues.SyncJobsQueue ?? '';
const inboundUrl = stack.queues.InboundQueue ?? '';
/** The queues deduplicate for 5 minutes: each run's pushes are its own. */
const run = Date.now().toString(36);

let moto: MotoServer;
let service: ServiceFile;
let folder: string;
let bundle: string;

/** The deployed stage's environment (serverless.yml's provider.environment), its AWS on the test stack and moto. */
function deployedEnvironment(): Record<string, string> {
  return {
    AWS_REGION: stack.region,
    // Lambda's: the role's credentials, which every call of the function signs with (none of the test stack's
    // services checks them), and AWS's own endpoint settings in place of the regional endpoints.
    AWS_ACCESS_KEY_ID: 'ASIACOLDSTART',
    AWS_SECRET_ACCESS_KEY: 'cold-start-secret',
    AWS_SESSION_TOKEN: 'cold-start-session',
    AWS_ENDPOINT_URL_SSM: moto.endpoint,
    AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
    // Lambda's own: Powertools logs `cold_start` from the initialization type.
    AWS_EXECUTION_ENV: `AWS_Lambda_${service.provider.runtime}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_FUNCTION_NAME: `kf-bridge-${STAGE}-callback`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    KF_BRIDGE_SSM_PREFIX: SSM_PREFIX,
    KF_BRIDGE_STAGE: STAGE,
    SYNC_JOBS_QUEUE_URL: syncJobsUrl,
    INBOUND_QUEUE_URL: inboundUrl,
    OUTBOUND_QUEUE_URL: stack.queues.OutboundQueue ?? '',
    OUTBOUND_MAX_ATTEMPTS: '10',
    OUTBOUND_MAX_RECEIVES: '50',
    STATE_TABLE: testEnv.STATE_TABLE,
    CALLBACK_MAX_CLOCK_SKEW_SECONDS: '300',
    TOKEN_REFRESH_MARGIN_SECONDS: '1200',
    INBOUND_MEDIA_TO_S3: 'false',
    // Empty on deployed stages, so each is read from SSM.
    ...Object.fromEntries(
      Object.keys(testEnv)
        .filter((name) => /^(WECOM|MP)_/.test(name))
        .map((name) => [name, '']),
    ),
  };
}

/** Spawns a fresh Node process that imports the bundle and invokes its handler once with `event`. */
async function coldStart(event: APIGatewayProxyEventV2): Promise<ColdStart> {
  const child = join(ROOT, 'test/support/coldStartInvoke.mjs');
  const timeoutMs = String(service.functions.callback.timeout * 1000);
  const spawnedAt = performance.timeOrigin + performance.now();
  const invocation = spawn(process.execPath, [child, bundle, JSON.stringify(event), timeoutMs], {
    env: deployedEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  invocation.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  invocation.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // A child that hangs is killed well after the deadline, so the test fails with its output, not at its timeout.
  const killer = setTimeout(() => invocation.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => invocation.once('close', resolve));
  clearTimeout(killer);
  const line = stdout.split('\n').find((text) => text.startsWith('COLD_START '));
  if (!line)
    throw new Error(`the cold start reported nothing (exit ${code}): ${(stderr || stdout).slice(-2000)}`);
  const result = JSON.parse(line.slice('COLD_START '.length)) as {
    scriptAt: number;
    importedAt: number;
    answeredAt: number;
    cpuMs: number;
    response: APIGatewayProxyStructuredResultV2;
  };
  const ms = (value: number) => Math.round(value);
  return {
    bootMs: ms(result.scriptAt - spawnedAt),
    importMs: ms(result.importedAt - result.scriptAt),
    answerMs: ms(result.answeredAt - result.importedAt),
    totalMs: ms(result.answeredAt - spawnedAt),
    cpuMs: ms(result.cpuMs),
    response: result.response,
  };
}

const report = (push: string, { bootMs, importMs, answerMs, totalMs, cpuMs }: ColdStart) =>
  console.log(
    `cold start, ${push}: boot ${bootMs} ms, import ${importMs} ms, first answer ${answerMs} ms, total ${totalMs} ms (CPU ${cpuMs} ms)`,
  );

describeWithPythonTools('the packaged callback on a cold start (settings from SSM on moto)', () => {
  beforeAll(async () => {
    service = parse(await readFile(join(ROOT, 'serverless.yml'), 'utf8')) as ServiceFile;
    const runtime = Number(/^nodejs(\d+)\.x$/.exec(service.provider.runtime)?.[1]);
    const major = Number(process.versions.node.split('.')[0]);
    if (major !== runtime)
      throw new Error(
        `the cold start runs on this test's Node (${process.execPath}, ${process.version}) and the callback deploys on ${service.provider.runtime}: run the test through npx or npm, which put the project's Node first`,
      );

    folder = await mkdtemp(join(tmpdir(), 'kf-bridge-cold-start-'));
    await writeFile(join(folder, 'package.json'), '{"type":"module"}');
    bundle = join(folder, 'callback.js');
    await build({
      ...(await packageBuildOptions()),
      // With its source map beside it, as packaged: deployed functions run with --enable-source-maps.
      sourcemap: service.custom.esbuild.sourcemap,
      entryPoints: [join(ROOT, 'functions/callback.ts')],
      outfile: bundle,
    });

    moto = await startMotoServer(stack.region);
    const ssm = new SSMClient(moto.clientConfig);
    // Every setting of the default app, as a stage keeps them; the callback asks only for its own.
    for (const [name, value] of Object.entries({ ...testEnv, MP_MESSAGE_MODE: 'safe' }))
      if (/^(WECOM|MP)_/.test(name))
        await ssm.send(
          new PutParameterCommand({ Name: `${SSM_PREFIX}${name}`, Value: value, Type: 'SecureString' }),
        );
    ssm.destroy();
  }, 120_000);

  afterAll(async () => {
    await moto?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await purge(sqs, syncJobsUrl, inboundUrl);
  });

  it('answers a WeCom kf_msg_or_event push within 5 s and queues its sync job', async () => {
    const openKfId = `wkCold${run}`;
    const token = `ENCcold${run}`;

    const measured = await coldStart(callbackHttpEvent(wecomPost(kfEventXml(openKfId, token))));

    report('WeCom kf_msg_or_event', measured);
    expect(measured.response).toMatchObject({ statusCode: 200, body: 'success' });
    const jobs = (await drain(sqs, syncJobsUrl)).map((message) =>
      parseSyncJob(JSON.parse(message.Body ?? '')),
    );
    expect(jobs).toContainEqual(expect.objectContaining({ app: 'default', openKfId, token }));
    expect(measured.totalMs, 'ms from spawn to answer').toBeLessThan(PUSH_DEADLINE_MS);
  });

  it("answers a safe-mode MP text push within 5 s, claiming it and the follower's budget, and lands it on inbound", async () => {
    const openid = `oCold${run}`;
    const msgId = String(Date.now());

    const measured = await coldStart(
      callbackHttpEvent(mpPost(mpTextXml(openid, '你好', msgId), { safe: true })),
    );

    report('MP safe-mode text', measured);
    expect(measured.response).toMatchObject({ statusCode: 200, body: 'success' });
    const landed = (await drain(sqs, inboundUrl)).map((message) =>
      parseInboundMessage(JSON.parse(message.Body ?? '')),
    );
    expect(landed).toContainEqual(
      expect.objectContaining({
        channel: 'mp',
        customer: openid,
        message: { type: 'text', content: '你好' },
      }),
    );
    const { Item: budget } = await db.send(
      new GetCommand({ TableName: testEnv.STATE_TABLE, Key: { pk: 'BUDGET#default#mp', sk: openid } }),
    );
    expect(budget).toMatchObject({ lastCustomerMessageId: expect.any(String) });
    expect(measured.totalMs, 'ms from spawn to answer').toBeLessThan(PUSH_DEADLINE_MS);
  });
});
