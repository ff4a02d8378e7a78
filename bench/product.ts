import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { apiWiring } from '../lib/api/wiring';
import { awsClientConfig } from '../lib/aws/clientConfig';
import { s3ObjectsFor } from '../lib/aws/s3';
import { parseConfig } from '../lib/config/config';
import type { FunctionName } from '../lib/config/functionSettings';
import type { KfOutboundRequest } from '../lib/contracts/outbound';
import { syncPullerWiring } from '../lib/inbound/wiring';
import type { Invocation } from '../lib/invocation';
import { itemStoreFor } from '../lib/items/signedItemStore';
import type { Log } from '../lib/logger';
import { NO_METRICS } from '../lib/metrics';
import { msgidFor } from '../lib/outbound/sender';
import { senderWiring } from '../lib/outbound/wiring';
import type { QueueClient } from '../lib/queue/queueClient';
import { queueClientFor } from '../lib/queue/signedQueueClient';
import { kfReplies } from '../local/e2eReplies';
import {
  createMeter,
  type InvocationTrace,
  type Meter,
  mergeMeters,
  meterItemStore,
  meterSignedCalls,
  observeAll,
  sequentialCalls,
  type TracedCall,
  traced,
  tracePlatformCalls,
  traceSignedCalls,
} from '../local/metering';
import { readServiceDefinition } from '../local/serviceDefinition';
import { BENCH_API_KEY, startRemoteStack, type Written } from './remoteStack';
import { median, percentile, round } from './stats';

const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Log;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMs = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};

/** What one phase of the run asked of AWS and of this process, with every invocation's trace. */
export interface PhaseUsage {
  readonly inbound: number;
  readonly outbound: number;
  /** The product's requests (this process's functions, the callback, Lambda's pollers). */
  readonly usage: Meter;
  readonly traces: InvocationTrace[];
  /** CPU this process spent in the phase: the sync puller's, or the api's and the sender's. */
  readonly cpuMs: number;
}

/** Requests per message by function and `service:Operation`, rounded. */
export function callsPerMessage(traces: readonly InvocationTrace[], messages: number) {
  const counts: Record<string, Record<string, number>> = {};
  for (const trace of traces) {
    const ofFunction = counts[trace.functionName] ?? {};
    counts[trace.functionName] = ofFunction;
    for (const call of trace.calls) {
      const kind = `${call.service}:${call.service === 'platform' ? call.operation.replace(/^\/cgi-bin\//, '') : call.operation}`;
      ofFunction[kind] = (ofFunction[kind] ?? 0) + 1;
    }
  }
  return Object.fromEntries(
    Object.entries(counts).map(([name, kinds]) => [
      name,
      Object.fromEntries(Object.entries(kinds).map(([kind, n]) => [kind, round(n / messages, 2)])),
    ]),
  );
}

/** The requests of an invocation that waited for one another, up to and including the first `until`. */
function chainUntil(trace: InvocationTrace, until: (call: TracedCall) => boolean) {
  const end = trace.calls.filter(until).sort((a, b) => a.endedAt - b.endedAt)[0]?.endedAt ?? Infinity;
  const chain = sequentialCalls(trace.calls.filter((call) => call.endedAt <= end));
  return {
    aws: chain.filter((call) => call.service !== 'platform').length,
    platform: chain.filter((call) => call.service === 'platform').length,
  };
}

const medianOf = (traces: InvocationTrace[], name: string, until: (call: TracedCall) => boolean) => {
  const chains = traces.filter((trace) => trace.functionName === name).map((t) => chainUntil(t, until));
  if (chains.length === 0) return { aws: 0, platform: 0 };
  return { aws: median(chains.map((c) => c.aws)), platform: median(chains.map((c) => c.platform)) };
};

/**
 * The sequential requests between a customer's message and inbound.fifo (the callback's, one receive by
 * Lambda's poller, the puller's up to its publish), and between a POST /v1/messages and the platform call
 * (the api's, one receive, the sender's up to its send), from invocations that each carried one message.
 */
export function roundTripsPerPath(traces: InvocationTrace[]) {
  const everything = () => false;
  const callback = medianOf(traces, 'callback', everything);
  const puller = medianOf(traces, 'syncPuller', (call) => call.operation.startsWith('SendMessage'));
  const api = medianOf(traces, 'api', everything);
  const sender = medianOf(traces, 'sender', (call) => call.operation.endsWith('/send_msg'));
  return {
    inbound: { aws: callback.aws + 1 + puller.aws, platform: callback.platform + puller.platform },
    reply: { aws: api.aws + 1 + sender.aws, platform: api.platform + sender.platform },
  };
}

function latency(samplesMs: number[], sqsRoundTripMs: number) {
  const p50 = percentile(samplesMs, 50);
  const p99 = percentile(samplesMs, 99);
  return {
    samples: samplesMs.length,
    p50Ms: round(p50),
    p99Ms: round(p99),
    p50RoundTrips: round(p50 / sqsRoundTripMs),
    p99RoundTrips: round(p99 / sqsRoundTripMs),
  };
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * A bare SendMessage to the same SQS through a client built as the functions build theirs, `count` times one
 * after another: the median round trip, and the median CPU this process spent on one, in ms.
 */
async function bareSendMessage(env: Record<string, string>, region: string, count = 200) {
  const sqs = new SQSClient({ region, ...awsClientConfig('sqs', env) });
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-round-trip' }));
    const roundTrips: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `{"n":${i}}` }));
      cpu.push(cpuMs(cpuBefore));
      roundTrips.push(performance.now() - started);
    }
    // The first calls open connections and compile code: a warm function's calls are the later ones.
    return { roundTripMs: median(roundTrips.slice(count / 5)), cpuMs: median(cpu.slice(count / 5)) };
  } finally {
    sqs.destroy();
  }
}

/** A bare GetItem's round trip to the same DynamoDB, median of `count` one after another, in ms. */
async function bareGetItem(env: Record<string, string>, region: string, count = 200) {
  const dynamodb = new DynamoDBClient({ region, ...awsClientConfig('dynamodb', env) });
  try {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await dynamodb.send(
        new GetItemCommand({
          TableName: env.STATE_TABLE,
          Key: { pk: { S: 'bench' }, sk: { S: 'round-trip' } },
        }),
      );
      samples.push(performance.now() - started);
    }
    return median(samples.slice(count / 5));
  } finally {
    dynamodb.destroy();
  }
}

/**
 * The product's own work per message, in this process: the sync puller, the messages API and the sender run
 * here on their wiring (what the Lambdas run), while the local stack, the simulator, the callback and Lambda's
 * pollers run in a child process (./stackProcess.ts). Customers write at a steady pace (40 messages a second
 * over 4 kf accounts and 40 customers), then replies are posted 40 a second; afterwards, at low traffic, every message and
 * every reply travels alone (one per callback, page and batch). CPU is process.cpuUsage() over each phase, the
 * queues drained before it is read.
 */
export async function measureProduct(options: {
  messages: number;
  replyEveryMs?: number;
  lowTrafficMessages?: number;
}) {
  const definition = await readServiceDefinition();
  const remote = await startRemoteStack();
  const restoreFetch = tracePlatformCalls(new URL(remote.simUrl).origin);
  try {
    const configOf = (name: FunctionName) => parseConfig(remote.env, name);
    const meter = createMeter();
    let traces: InvocationTrace[] = [];
    // The functions' SQS calls are signed requests of their own, as in the functions.
    const signedSqs = queueClientFor(
      { AWS_REGION: remote.region, ...remote.env },
      { observe: observeAll(meterSignedCalls(meter), traceSignedCalls()) },
    );
    // The functions' item calls are signed requests of their own: metered (requests, consumed capacity) and
    // traced as the SDK's were.
    const items = meterItemStore(
      itemStoreFor({ AWS_REGION: remote.region, ...remote.env }, { observe: traceSignedCalls() }),
      meter,
    );
    const s3 = s3ObjectsFor(
      { AWS_REGION: remote.region, ...remote.env },
      { observe: observeAll(meterSignedCalls(meter), traceSignedCalls()) },
    );

    // When each customer message reached inbound.fifo, from the puller's publishes.
    const inboundUrl = remote.env.INBOUND_QUEUE_URL;
    const onInbound = new Map<string, number>();
    const justArrived: string[] = [];
    const sqs: QueueClient = {
      ...signedSqs,
      async sendMessageBatch(input, options) {
        const answer = await signedSqs.sendMessageBatch(input, options);
        if (input.QueueUrl === inboundUrl) {
          const ok = new Set(answer.Successful.map((entry) => entry.Id));
          for (const entry of input.Entries)
            if (ok.has(entry.Id)) {
              const { id } = JSON.parse(entry.MessageBody) as { id: string };
              if (!onInbound.has(id)) justArrived.push(id);
              onInbound.set(id, Date.now());
            }
        }
        return answer;
      },
    };

    // The metering middleware holds on to the meter it was given: keep the object, empty it between phases.
    const takeUsage = async () => {
      const own = structuredClone(meter);
      Object.assign(meter, createMeter());
      const taken = traces;
      traces = [];
      const child = await remote.call<{ usage: Meter; traces: InvocationTrace[] }>('takeUsage');
      return { usage: mergeMeters(own, child.usage), traces: [...taken, ...child.traces] };
    };

    const clients = { sqs, items, s3, log: silent, meter: NO_METRICS };
    const puller = syncPullerWiring(configOf('syncPuller'), clients);
    const sender = senderWiring(configOf('sender'), clients);
    const api = traced('api', apiWiring(configOf('api'), clients).handle, (trace) => traces.push(trace));
    const batchHandlers: Record<
      string,
      (records: SQSEvent['Records'], i: Invocation) => Promise<SQSBatchResponse>
    > = { syncPuller: puller.onBatch, sender: sender.onBatch };
    let inFlight = 0;
    let oneAtATime = false;
    remote.onInvoke(async (functionName, event) => {
      const onBatch = batchHandlers[functionName];
      if (!onBatch) throw new Error(`no function ${functionName} here`);
      const timeoutMs = (definition.functions[functionName]?.timeout ?? 6) * 1000;
      const deadline = Date.now() + timeoutMs;
      inFlight++;
      try {
        return await traced(functionName, onBatch, (trace) => traces.push(trace))(
          (event as SQSEvent).Records,
          { remainingMs: () => deadline - Date.now() },
        );
      } finally {
        inFlight--;
        // A writer waiting for one message at a time learns it arrived once the page is committed.
        const arrived = justArrived.splice(0);
        if (oneAtATime) for (const id of arrived) remote.call('arrived', id).catch(() => {});
      }
    });
    const drained = async (queue: string) =>
      inFlight === 0 && (await remote.call<number>('depth', queue)) === 0;
    const allOnInbound = (written: Written[]) => written.every((w) => onInbound.has(w.id));

    const upload = new Map<string, string>();
    for (const [type, filename] of [
      ['image', 'photo.png'],
      ['voice', 'note.amr'],
      ['video', 'clip.mp4'],
      ['file', 'terms.pdf'],
    ] as const)
      upload.set(type, await remote.call<string>('uploadMedia', type, filename, Buffer.from('bench media')));
    const repliesTo = (written: Written[], tag: string): KfOutboundRequest[] =>
      kfReplies([...new Set(written.map((w) => `${w.openKfId}#${w.customer}`))], (type) => {
        const id = upload.get(type);
        if (!id) throw new Error(`no ${type} uploaded`);
        return id;
      }).map((request) => ({ ...request, requestId: `${tag}-${request.requestId}` }));
    const sentAt = async () =>
      new Map((await remote.call<{ msgid: string; at: number }[]>('sent')).map((s) => [s.msgid, s.at]));
    const post = async (request: KfOutboundRequest) => {
      const answer = await api({
        method: 'POST',
        path: '/v1/messages',
        query: {},
        headers: { 'x-api-key': BENCH_API_KEY },
        body: JSON.stringify(request),
      });
      if (answer.status !== 202) throw new Error(`messages API answered ${answer.status}: ${answer.body}`);
    };

    /** Customers write, paced or one at a time; the phase ends with sync-jobs.fifo drained. */
    const inboundPhase = async (
      write: Record<string, unknown>,
    ): Promise<PhaseUsage & { written: Written[] }> => {
      oneAtATime = write.oneAtATime === true;
      const started = process.cpuUsage();
      const written = await remote.call<Written[]>('write', write);
      await until(() => allOnInbound(written), 'every customer message on inbound.fifo');
      await until(() => drained(remote.env.SYNC_JOBS_QUEUE_URL ?? ''), 'sync-jobs.fifo to drain');
      const cpu = cpuMs(started);
      return { ...(await takeUsage()), inbound: written.length, outbound: 0, cpuMs: cpu, written };
    };
    /** Replies posted `everyMs` apart, or each one after the one before reached the platform. */
    const replyPhase = async (requests: KfOutboundRequest[], everyMs?: number) => {
      const started = process.cpuUsage();
      const postedAt = new Map<string, number>();
      for (const request of requests) {
        postedAt.set(msgidFor(request), Date.now());
        await post(request);
        if (everyMs) await sleep(everyMs);
        else
          await until(async () => (await sentAt()).has(msgidFor(request)), 'a reply to reach the platform');
      }
      await until(async () => {
        const sent = await sentAt();
        return requests.every((request) => sent.has(msgidFor(request)));
      }, 'every reply on the platform');
      await until(() => drained(remote.env.OUTBOUND_QUEUE_URL ?? ''), 'outbound.fifo to drain');
      const cpu = cpuMs(started);
      const sent = await sentAt();
      const latencies = [...postedAt].map(([msgid, at]) => (sent.get(msgid) ?? Infinity) - at);
      return {
        ...(await takeUsage()),
        inbound: 0,
        outbound: requests.length,
        cpuMs: cpu,
        latencies,
      } satisfies PhaseUsage & { latencies: number[] };
    };

    await remote.call('startPollers', ['syncPuller', 'sender'], 2);
    // Warm every path once (tokens fetched and cached, code compiled), as a warm container is.
    const warm = await inboundPhase({
      tag: 'warm',
      messages: 50,
      accounts: 2,
      customersPerAccount: 5,
      seed: 9,
      perTick: 5,
      tickMs: 25,
    });
    await replyPhase(repliesTo(warm.written, 'warm').slice(0, 20), 20);

    const emulatorsBefore = await remote.call<number>('cpuMs');
    const inbound = await inboundPhase({
      tag: 'mix',
      messages: options.messages,
      accounts: 4,
      customersPerAccount: 10,
      seed: 1,
      perTick: 1,
      tickMs: 25,
    });
    const replies = await replyPhase(repliesTo(inbound.written, 'mix'), options.replyEveryMs ?? 25);
    const emulatorsMs = (await remote.call<number>('cpuMs')) - emulatorsBefore;
    const lowInbound = await inboundPhase({
      tag: 'low',
      messages: options.lowTrafficMessages ?? 60,
      accounts: 2,
      customersPerAccount: 5,
      seed: 3,
      perTick: 1,
      tickMs: 0,
      oneAtATime: true,
    });
    const lowReplies = await replyPhase(repliesTo(lowInbound.written, 'low').slice(0, 30));
    await remote.call('stopPollers');
    const bare = await bareSendMessage(remote.env, remote.region);
    const roundTripMs = bare.roundTripMs;
    const dynamodbRoundTripMs = await bareGetItem(remote.env, remote.region);

    const inboundLatencies = inbound.written.map((w) => (onInbound.get(w.id) ?? Infinity) - w.at);
    return {
      phases: { inbound, replies, lowInbound, lowReplies },
      product: {
        cpuMsPerInbound: round(inbound.cpuMs / inbound.inbound, 2),
        cpuMsPerReply: round(replies.cpuMs / replies.outbound, 2),
        /** The floor beside them: one bare SendMessage's CPU, in this process, in this run. */
        sdkCallCpuMs: round(bare.cpuMs, 2),
        /**
         * Of all the CPU the paced run used, the share of the functions measured here; the rest is DynamoDB
         * Local, fauxqs, the simulator, Lambda's pollers and the callback (whose own share is its floor ratio's).
         */
        cpuShareOfRun: round(
          (inbound.cpuMs + replies.cpuMs) / (inbound.cpuMs + replies.cpuMs + emulatorsMs),
          2,
        ),
        lowTraffic: {
          cpuMsPerInbound: round(lowInbound.cpuMs / lowInbound.inbound, 2),
          cpuMsPerReply: round(lowReplies.cpuMs / lowReplies.outbound, 2),
        },
        callsPerInbound: callsPerMessage(inbound.traces, inbound.inbound),
        callsPerReply: callsPerMessage(replies.traces, replies.outbound),
        lowTrafficCallsPerInbound: callsPerMessage(lowInbound.traces, lowInbound.inbound),
        lowTrafficCallsPerReply: callsPerMessage(lowReplies.traces, lowReplies.outbound),
      },
      latency: {
        sqsRoundTripMs: round(roundTripMs, 2),
        /** DynamoDB Local's, beside it: most of the paths' round trips are DynamoDB's. */
        dynamodbRoundTripMs: round(dynamodbRoundTripMs, 2),
        inbound: latency(inboundLatencies, roundTripMs),
        reply: latency(replies.latencies, roundTripMs),
        lowTraffic: {
          inbound: latency(
            lowInbound.written.map((w) => (onInbound.get(w.id) ?? Infinity) - w.at),
            roundTripMs,
          ),
          reply: latency(lowReplies.latencies, roundTripMs),
        },
        sequentialRoundTrips: roundTripsPerPath([...lowInbound.traces, ...lowReplies.traces]),
      },
    };
  } finally {
    restoreFetch();
    await remote.stop();
  }
}
