import { readdirSync, readFileSync } from 'node:fs';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../lib/aws/clientConfig';
import { callbackWiring } from '../lib/callback/wiring';
import { parseConfig } from '../lib/config/config';
import { itemStoreFor, PUSH_ITEM_CALL_POLICY } from '../lib/items/signedItemStore';
import type { Log } from '../lib/logger';
import { NO_METRICS } from '../lib/metrics';
import { queueClientFor } from '../lib/queue/signedQueueClient';
import { serveCallback } from '../local/callbackServer';
import { sqsMappingsOf } from '../local/functionMappings';
import {
  createMeter,
  type InvocationTrace,
  meterItemStore,
  meterSignedCalls,
  meterSqs,
  observeAll,
  traceAwsCalls,
  traced,
  traceSignedCalls,
} from '../local/metering';
import { readServiceDefinition } from '../local/serviceDefinition';
import { startEventSourceMappings } from '../local/sqsEventSource';
import { startLocalStack } from '../local/stack';
import { startSimulator } from '../simulator';
import { SeededRandom } from '../simulator/core';
import {
  BENCH_API_KEY,
  type PacedWrites,
  type ParentMessage,
  type StackReady,
  type Written,
} from './remoteStack';

/**
 * Everything a product measurement must keep out of the product's process: DynamoDB Local and fauxqs, the
 * simulator, the callback the simulator pushes to (the callback has its own floor), and Lambda's event-source
 * pollers, which hand each batch to the measuring process and delete what it says succeeded. Driven over IPC
 * by ./remoteStack.ts.
 */
const send = (message: unknown) => process.send?.(message);
const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Log;
const CORP = {
  id: 'wwbench00000001',
  secret: 'bench-secret',
  token: 'benchToken',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
};

const definition = await readServiceDefinition();
const stack = await startLocalStack({ resources: definition.resources, region: definition.region });
const sim = await startSimulator({ callbacks: { retryDelayMs: 300 } });
const env: Record<string, string> = {
  SYNC_JOBS_QUEUE_URL: stack.queues.SyncJobsQueue ?? '',
  INBOUND_QUEUE_URL: stack.queues.InboundQueue ?? '',
  OUTBOUND_QUEUE_URL: stack.queues.OutboundQueue ?? '',
  STATE_TABLE: stack.tables.StateTable ?? '',
  MEDIA_BUCKET: stack.buckets.MediaBucket ?? '',
  WECOM_CORP_ID: CORP.id,
  WECOM_KF_SECRET: CORP.secret,
  WECOM_CALLBACK_TOKEN: CORP.token,
  WECOM_ENCODING_AES_KEY: CORP.aesKey,
  WECOM_API_BASE: sim.url,
  CALLBACK_MAX_CLOCK_SKEW_SECONDS: '0',
  KF_BRIDGE_STAGE: 'local',
  OUTBOUND_API_KEY: BENCH_API_KEY,
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  ...stack.env,
};

// What the callback and the event-source pollers ask of AWS is billed like the functions' own requests.
const meter = createMeter();
const traces: InvocationTrace[] = [];
const sqs = new SQSClient({ region: stack.region, ...awsClientConfig('sqs', env) });
meterSqs(sqs, meter);
traceAwsCalls(sqs, 'sqs');
// The callback's item calls are signed requests of its own, as in the function: metered and traced likewise.
const items = itemStoreFor(env, { policy: PUSH_ITEM_CALL_POLICY, observe: traceSignedCalls() });
// The callback's SQS calls are signed requests of its own too, as in the function.
const queue = queueClientFor(env, { observe: observeAll(meterSignedCalls(meter), traceSignedCalls()) });
const callback = callbackWiring(parseConfig(env, 'callback'), {
  sqs: queue,
  items: meterItemStore(items, meter),
  log: silent,
  meter: NO_METRICS,
});
const handleCallback = traced('callback', callback.handle, (trace) => traces.push(trace));
const callbackServer = await serveCallback(handleCallback);
sim.sim.createCorp({
  corpId: CORP.id,
  secrets: [CORP.secret],
  callback: {
    url: callbackServer.url,
    token: CORP.token,
    encodingAesKey: CORP.aesKey,
  },
});

// The measuring process runs the functions; each batch a poller receives is handed over and awaited.
let nextInvocation = 0;
const invocations = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
const invokeParent = (functionName: string, event: unknown) =>
  new Promise((resolve, reject) => {
    const id = nextInvocation++;
    invocations.set(id, { resolve, reject });
    send({ invoke: id, functionName, event });
  });
let pollers: { stop(): Promise<void> } | undefined;

async function writePaced(options: PacedWrites): Promise<Written[]> {
  const accounts = Array.from({ length: options.accounts }, (_, i) =>
    sim.sim.createKfAccount(CORP.id, `客服${options.tag}${i + 1}`),
  );
  const customers = accounts.flatMap((openKfId) =>
    Array.from({ length: options.customersPerAccount }, (_, i) => ({
      openKfId,
      customer: `wmBench${options.tag}${openKfId.slice(-4)}${i}`,
    })),
  );
  const random = new SeededRandom(options.seed);
  const written: Written[] = [];
  for (let i = 0; i < options.messages; i++) {
    const who = customers[Math.floor(random.next() * customers.length)] ?? customers[0];
    if (!who) break;
    const id = sim.sim.customerWrites(who.openKfId, who.customer, {
      msgtype: 'text',
      text: { content: `message ${i}` },
    });
    written.push({ id, openKfId: who.openKfId, customer: who.customer, at: Date.now() });
    if (options.waitFor) await options.waitFor(id);
    else if (i % options.perTick === options.perTick - 1)
      await new Promise((resolve) => setTimeout(resolve, options.tickMs));
  }
  return written;
}

/**
 * CPU ms this process and every process under it (DynamoDB Local's JVM) have used, from /proc: Linux counts a
 * process's CPU in clock ticks of 1/100 s, and an exited child's in its parent.
 */
function cpuOfTree(): number {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        // Fields after the command (which may hold spaces) start at its closing parenthesis.
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        return [
          { pid: Number(pid), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) },
        ];
      } catch {
        return [];
      }
    });
  const tree = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const stat of stats)
      if (!tree.has(stat.pid) && tree.has(stat.ppid)) {
        tree.add(stat.pid);
        grew = true;
      }
  }
  return stats.filter((stat) => tree.has(stat.pid)).reduce((sum, stat) => sum + stat.ticks * 10, 0);
}

/** Lets a one-at-a-time writer learn from the measuring process that a message reached inbound.fifo. */
const arrivals = new Map<string, () => void>();

const operations: Record<string, (...args: never[]) => unknown> = {
  /** Writes customers' messages; one at a time (each awaited on inbound.fifo) when `oneAtATime`. */
  write: (options: Omit<PacedWrites, 'waitFor'> & { oneAtATime?: boolean }) =>
    writePaced({
      ...options,
      ...(options.oneAtATime && {
        waitFor: (id: string) => new Promise<void>((resolve) => arrivals.set(id, resolve)),
      }),
    }),
  arrived: (id: string) => {
    arrivals.get(id)?.();
    arrivals.delete(id);
  },
  uploadMedia: (type: 'image', filename: string, data: Uint8Array) =>
    sim.sim.uploadMedia(CORP.id, type, filename, Buffer.from(data)),
  /** Replies the platform recorded: the message id and when it arrived. */
  sent: () => sim.sim.wecom.sent.map(({ msgid, at }) => ({ msgid, at })),
  cpuMs: cpuOfTree,
  startPollers: (functionNames: string[], perMapping: number) => {
    const mappings = sqsMappingsOf(definition, stack).filter((m) => functionNames.includes(m.functionName));
    pollers = startEventSourceMappings(
      mappings.flatMap((mapping) => Array(perMapping).fill(mapping)),
      {
        sqs,
        invoke: invokeParent,
        region: stack.region,
        waitTimeSeconds: 1,
        log: () => {},
      },
    );
  },
  stopPollers: async () => {
    await pollers?.stop();
    pollers = undefined;
  },
  /** Messages on the queue, visible or in flight. */
  depth: async (queueUrl: string) => {
    const { Attributes = {} } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible)
    );
  },
  /** What the callback and the pollers asked of AWS since the last call, and the callback's traces. */
  takeUsage: () => {
    const usage = structuredClone(meter);
    Object.assign(meter, createMeter());
    return { usage, traces: traces.splice(0) };
  },
  stop: async () => {
    await pollers?.stop();
    await sim.sim.callbacks.idle();
    void callbackServer.stop();
    await sim.stop();
    await stack.stop();
    setImmediate(() => process.exit(0));
  },
};

process.on('message', async (message: ParentMessage) => {
  if ('invoked' in message) {
    const pending = invocations.get(message.invoked);
    invocations.delete(message.invoked);
    if (message.error === undefined) pending?.resolve(message.result);
    else pending?.reject(new Error(message.error));
    return;
  }
  try {
    const operation = operations[message.op];
    if (!operation) throw new Error(`no operation ${message.op}`);
    send({ id: message.id, result: await operation(...(message.args as never[])) });
  } catch (error) {
    send({ id: message.id, error: (error as Error).message });
  }
});
const ready: StackReady = {
  env,
  queues: stack.queues,
  region: stack.region,
  simUrl: sim.url,
};
send({ ready });
