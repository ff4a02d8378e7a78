import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startAutoReplyBot } from '../examples/autoReplyBot';
import { LOCAL_CREDENTIALS } from '../lib/aws/clientConfig';
import { documentClientItemStore } from '../lib/items/documentClientItemStore';
import { traceSource } from '../lib/trace/trace';
import { type RunningSimulator, startSimulator } from '../simulator';
import { privateBuildFolder } from './buildFolder';
import { configureDemo, effectiveSettings } from './demo';
import { sqsMappingsOf } from './functionMappings';
import { startHttpFront } from './httpFront';
import { type Schedule, schedulesOf, startSchedules } from './schedules';
import { ROOT, readServiceDefinition } from './serviceDefinition';
import { type EventSourceMapping, type Invoke, startEventSourceMappings } from './sqsEventSource';
import { freePort, type LocalStack, startLocalStack } from './stack';

export interface LocalSystemOptions {
  readonly httpPort: number;
  readonly lambdaPort: number;
  readonly dynamodbPort: number;
  readonly fauxqsPort: number;
  readonly simPort: number;
  /** Settings for the functions; WECOM_*, MP_* and CALLBACK_* here override the demo app. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  /** Runs the example auto-reply bot on inbound.fifo (npm start does; tests read the queue themselves). */
  readonly demoBot?: boolean;
}

export interface LocalSystem {
  readonly stack: LocalStack;
  readonly simulator: RunningSimulator;
  readonly demo: ReturnType<typeof configureDemo>;
  readonly httpUrl: string;
  readonly mappings: EventSourceMapping[];
  readonly schedules: Schedule[];
  /** Where serverless offline loads the functions from: this system's own build, no other build touches it. */
  readonly buildFolder: string;
  stop(): Promise<void>;
}

/** Invokes a function through serverless-offline's Lambda API, as the AWS event-source mapping would. */
function offlineInvoke(
  service: string,
  lambdaPort: number,
  region: string,
): { invoke: Invoke; client: LambdaClient } {
  const client = new LambdaClient({
    endpoint: `http://127.0.0.1:${lambdaPort}`,
    region,
    credentials: LOCAL_CREDENTIALS,
  });
  const invoke: Invoke = async (functionName: string, event: unknown) => {
    const response = await client.send(
      new InvokeCommand({ FunctionName: `${service}-local-${functionName}`, Payload: JSON.stringify(event) }),
    );
    const payload = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    if (response.FunctionError) throw new Error(`${response.FunctionError}: ${payload.slice(0, 500)}`);
    return payload ? JSON.parse(payload) : null;
  };
  return { invoke, client };
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serverless offline exited with code ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`serverless offline did not answer on ${url} within ${timeoutMs / 1000} s`);
}

function pipeLines(stream: NodeJS.ReadableStream | null, log: (line: string) => void, prefix: string): void {
  let pending = '';
  stream?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) log(`${prefix} ${line}`);
  });
}

/**
 * Everything `npm start` runs: the embedded AWS stack, the WeCom + MP simulator with the demo app, serverless
 * offline and the SQS event-source mappings.
 */
export async function startLocalSystem(options: LocalSystemOptions): Promise<LocalSystem> {
  const definition = await readServiceDefinition();
  const stack = await startLocalStack({
    resources: definition.resources,
    region: definition.region,
    dynamodbPort: options.dynamodbPort,
    fauxqsPort: options.fauxqsPort,
  });
  const settings = effectiveSettings(definition.localParams, options.env);
  // A simulator that cannot start (its port taken meanwhile) must not leave the stack's processes behind.
  const simulator = await startSimulator({
    port: options.simPort,
    // The page's traces read the product's ledgers and dead-letter queues for the demo app it configures.
    traceSource: traceSource({
      items: documentClientItemStore(DynamoDBDocumentClient.from(stack.clients.dynamodb)),
      table: stack.tables.StateTable ?? '',
      sqs: stack.clients.sqs,
      deadLetterQueues: {
        syncJobs: stack.queues.SyncJobsDlq ?? '',
        inbound: stack.queues.InboundDlq ?? '',
        outbound: stack.queues.OutboundDlq ?? '',
      },
      apps: new Map([
        [
          'default',
          { wecom: { corpId: settings.WECOM_CORP_ID ?? '' }, mp: { appId: settings.MP_APP_ID ?? '' } },
        ],
      ]),
    }),
  }).catch(async (error: unknown) => {
    await stack.stop();
    throw error;
  });
  const httpUrl = `http://127.0.0.1:${options.httpPort}`;
  const buildFolder = await privateBuildFolder('offline');
  // Callers reach serverless offline through the HTTP front (local/httpFront.ts), on the port they were given.
  const offlinePort = await freePort();
  const demo = configureDemo(simulator.sim, settings, `${httpUrl}/callback/default`);
  const offline = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules/serverless/bin/serverless.js'),
      'offline',
      'start',
      '--stage',
      'local',
      '--noPrependStageInUrl',
    ],
    {
      cwd: ROOT,
      env: {
        // The functions call the simulator unless the environment points them elsewhere.
        WECOM_API_BASE: options.env.WECOM_API_BASE || simulator.url,
        MP_API_BASE: options.env.MP_API_BASE || simulator.url,
        ...options.env,
        ...stack.env,
        ...buildFolder.env,
        HTTP_PORT: String(offlinePort),
        LAMBDA_PORT: String(options.lambdaPort),
        SIM_PORT: String(options.simPort),
        // startSchedules below runs the schedules; serverless offline running them too would run each twice.
        KF_BRIDGE_OFFLINE_SCHEDULES: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  pipeLines(offline.stdout, options.log, '[offline]');
  pipeLines(offline.stderr, options.log, '[offline]');
  const { invoke, client } = offlineInvoke(definition.service, options.lambdaPort, definition.region);
  const mappings = sqsMappingsOf(definition, stack);
  const schedules = schedulesOf(definition, options.log);
  let pollers: { stop(): Promise<void> } | undefined;
  let timers: { stop(): void } | undefined;
  let bot: { stop(): Promise<void> } | undefined;
  let front: { stop(): Promise<void> } | undefined;

  const stop = async () => {
    timers?.stop();
    await bot?.stop();
    await front?.stop();
    await pollers?.stop();
    client.destroy();
    if (offline.exitCode === null && offline.pid) {
      const exited = new Promise((resolve) => offline.once('exit', resolve));
      process.kill(-offline.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (offline.exitCode === null) process.kill(-offline.pid, 'SIGKILL');
    }
    await simulator.sim.callbacks.idle();
    await simulator.stop();
    await stack.stop();
    await buildFolder.remove();
  };

  try {
    await waitForHttp(`http://127.0.0.1:${offlinePort}`, offline, 60_000);
    front = await startHttpFront({ port: options.httpPort, offlinePort, log: options.log });
    pollers = startEventSourceMappings(mappings, {
      sqs: stack.clients.sqs,
      invoke,
      region: stack.region,
      log: (line) => options.log(`[sqs] ${line}`),
    });
    timers = startSchedules(schedules, invoke, options.log);
    if (options.demoBot) {
      bot = startAutoReplyBot({
        sqs: stack.clients.sqs,
        inboundUrl: stack.queues.InboundQueue ?? '',
        outboundUrl: stack.queues.OutboundQueue ?? '',
        log: options.log,
      });
    }
    return { stack, simulator, demo, httpUrl, mappings, schedules, buildFolder: buildFolder.path, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
