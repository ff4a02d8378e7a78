import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { apiWiring } from '../lib/api/wiring';
import { awsClientConfig } from '../lib/aws/clientConfig';
import { s3ObjectsFor } from '../lib/aws/s3';
import { callbackWiring } from '../lib/callback/wiring';
import { parseConfig } from '../lib/config/config';
import type { FunctionName } from '../lib/config/functionSettings';
import { type OutboundRequest, outboundGroupId } from '../lib/contracts/outbound';
import { syncPullerWiring } from '../lib/inbound/wiring';
import type { Invocation } from '../lib/invocation';
import { documentClientItemStore } from '../lib/items/documentClientItemStore';
import { itemStoreFor, PUSH_ITEM_CALL_POLICY } from '../lib/items/signedItemStore';
import type { Log } from '../lib/logger';
import { NO_METRICS } from '../lib/metrics';
import { msgidFor } from '../lib/outbound/sender';
import { SendLedger } from '../lib/outbound/sendLedger';
import { senderWiring } from '../lib/outbound/wiring';
import { queueClientFor } from '../lib/queue/signedQueueClient';
import { type Simulator, startSimulator } from '../simulator';
import { SeededRandom } from '../simulator/core';
import type { FaultRule } from '../simulator/faults';
import { serveCallback } from './callbackServer';
import { kfReplies, mpReplies } from './e2eReplies';
import { sqsMappingsOf } from './functionMappings';
import {
  type AwsCallLog,
  actingAs,
  asFunction,
  createAwsCallLog,
  createMeter,
  localTarget,
  type Meter,
  metered,
  meterItemStore,
  meterSignedCalls,
  meterSqs,
  observeAll,
  recordAwsCalls,
  recordSignedCalls,
} from './metering';
import { readServiceDefinition, type ServiceDefinition } from './serviceDefinition';
import { refuseBatchEntries, SQS_REFUSALS } from './sqsBatchRefusals';
import { startEventSourceMappings } from './sqsEventSource';
import { type LocalStack, startLocalStack } from './stack';

export type FaultProfile = 'none' | 'default' | 'harsh' | 'aws';

export interface E2eOptions {
  readonly messages: number;
  readonly faults: FaultProfile;
  readonly seed: number;
  readonly accounts?: number;
  readonly customersPerAccount?: number;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Customers write over time (the default), or all at once to measure throughput. */
  readonly paced?: boolean;
  /** Pollers per event-source mapping (default 1); Lambda runs several on a FIFO queue with many groups. */
  readonly pollers?: number;
}

export interface E2eResult {
  readonly inbound: {
    expected: number;
    delivered: number;
    duplicates: number;
    lost: number;
    outOfOrder: number;
    /** Messages SQS would never take, delivered in order as a stand-in whose content is kept in S3. */
    quarantined: number;
    /** Of those, the stand-ins whose S3 content is the message itself, under the same id. */
    quarantineKept: number;
    /** Media messages published without their file, by reason (expired, unavailable, timeout, too_large). */
    mediaNotArchived: Record<string, number>;
  };
  readonly durationMs: number;
  /** From the first customer message to the last one on inbound.fifo; from queueing the replies to the last one recorded. */
  readonly timings: { inboundMs: number; outboundMs: number };
  /** What the product asked of SQS, DynamoDB and its functions; the company's own consumer is not counted. */
  readonly usage: Meter;
  /** Every distinct AWS call each function made, for checking against its role. */
  readonly awsCalls: Pick<AwsCallLog, 'target' | 'calls'>;
  readonly faults: FaultProfile;
  readonly seed: number;
  readonly outbound: {
    requested: number;
    delivered: number;
    duplicates: number;
    rejected: number;
    failed: number;
    /** Replies that may or may not have reached the customer (an attempt got no clear answer); never sent twice. */
    uncertain: number;
    /** Replies that reached a customer after one queued behind them. */
    outOfOrder: number;
  };
  readonly injected: {
    crashesBeforeCursorCommit: number;
    platformFaults: number;
    tokenRevocations: number;
    /**
     * Sends without a clear answer, which the sender records as uncertain: kf answers lost after WeCom carried
     * the send out (the retry's msgid is refused); MP connections dropped, answers lost and 5xx answers (MP
     * cannot refuse a repeat, so it is not asked again).
     */
    unansweredSends: number;
    /** Entries of SendMessageBatch calls refused the way AWS refuses them (aws profile). */
    sqsEntriesRefused: number;
    /** Customer messages SQS will never take (refused for good, or over its size): each must be quarantined. */
    toQuarantine: number;
  };
}

/**
 * What each profile injects. `crash` is the chance a puller dies between publishing a page and committing its
 * cursor (the first commit of a faulty run always dies).
 */
interface Profile {
  rules: FaultRule[];
  crash: number;
  revokeToken: boolean;
  /** Faults only AWS shows: per-entry batch refusals, content SQS refuses, slow media, an oversized message. */
  aws?: { transientRefusal: number; slowMediaMs: number };
}

const PROFILES: Record<FaultProfile, Profile> = {
  none: { rules: [], crash: 0, revokeToken: false },
  aws: {
    rules: [{ endpoint: 'kf/sync_msg', kind: 'errcode', errcode: -1, probability: 0.05 }],
    crash: 0.1,
    revokeToken: false,
    aws: { transientRefusal: 0.05, slowMediaMs: 2500 },
  },
  default: {
    rules: [
      { endpoint: 'kf/sync_msg', kind: 'errcode', errcode: -1, probability: 0.1 },
      { endpoint: 'kf/sync_msg', kind: 'http', status: 502, probability: 0.1 },
      // A dropped connection is what a client sees of a timeout.
      { endpoint: 'kf/sync_msg', kind: 'drop', probability: 0.03 },
      { endpoint: 'callback', kind: 'callback_lost', probability: 0.1 },
      { endpoint: 'callback', kind: 'callback_duplicate', probability: 0.1 },
      { endpoint: 'kf/send_msg', kind: 'errcode', errcode: -1, probability: 0.1 },
      { endpoint: 'kf/send_msg', kind: 'http', status: 502, probability: 0.1 },
      { endpoint: 'message/custom/send', kind: 'errcode', errcode: -1, probability: 0.1 },
      // A 5xx leaves an MP send's fate unknown, so it is recorded uncertain (harsh injects that): here MP says no.
      { endpoint: 'message/custom/send', kind: 'errcode', errcode: 45033, probability: 0.1 },
    ],
    crash: 0.1,
    revokeToken: true,
  },
  harsh: {
    rules: [
      { endpoint: 'kf/sync_msg', kind: 'errcode', errcode: -1, probability: 0.2 },
      { endpoint: 'kf/sync_msg', kind: 'errcode', errcode: 45033, probability: 0.1 },
      { endpoint: 'kf/sync_msg', kind: 'http', status: 503, probability: 0.15 },
      { endpoint: 'kf/sync_msg', kind: 'drop', probability: 0.05 },
      { endpoint: 'kf/sync_msg', kind: 'latency', ms: 300, probability: 0.2 },
      { endpoint: 'gettoken', kind: 'errcode', errcode: -1, probability: 0.2 },
      { endpoint: 'callback', kind: 'callback_lost', probability: 0.25 },
      { endpoint: 'callback', kind: 'callback_duplicate', probability: 0.25 },
      { endpoint: 'kf/send_msg', kind: 'errcode', errcode: 45033, probability: 0.2 },
      { endpoint: 'kf/send_msg', kind: 'http', status: 503, probability: 0.15 },
      { endpoint: 'kf/send_msg', kind: 'drop', probability: 0.05 },
      { endpoint: 'kf/send_msg', kind: 'lost_answer', probability: 0.05 },
      { endpoint: 'message/custom/send', kind: 'errcode', errcode: 45033, probability: 0.2 },
      { endpoint: 'message/custom/send', kind: 'http', status: 503, probability: 0.15 },
      // MP cannot refuse a repeat: a send without an answer is uncertain, never sent twice.
      { endpoint: 'message/custom/send', kind: 'drop', probability: 0.03 },
      { endpoint: 'message/custom/send', kind: 'lost_answer', probability: 0.03 },
    ],
    crash: 0.25,
    revokeToken: true,
  },
};

/**
 * Feeds a function's batch handler the way Lambda's event-source mapping feeds the function, with the mapping
 * serverless.yml declares (batch size, partial batch failures): several pollers, and each invocation ended at
 * the function's timeout as Lambda ends it (its signal aborted, the whole batch failed and left to come back).
 */
function consumeInProcess(
  definition: ServiceDefinition,
  stack: LocalStack,
  functionName: string,
  onBatch: (records: SQSEvent['Records'], invocation: Invocation) => Promise<SQSBatchResponse>,
  options: { sqs: SQSClient; meter: Meter; log: (line: string) => void; pollers: number },
) {
  const mapping = sqsMappingsOf(definition, stack).find((m) => m.functionName === functionName);
  if (!mapping) throw new Error(`serverless.yml gives ${functionName} no SQS event source`);
  const timeoutMs = (definition.functions[functionName]?.timeout ?? 6) * 1000;
  const mappingOptions: Parameters<typeof startEventSourceMappings>[1] = {
    sqs: options.sqs,
    region: stack.region,
    waitTimeSeconds: 1,
    log: options.log,
    invoke: metered(options.meter, functionName, async (_, event) => {
      const deadline = Date.now() + timeoutMs;
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new Error(`${functionName} timed out`)), timeoutMs);
      const timedOut = new Promise<never>((_, reject) =>
        timeout.signal.addEventListener('abort', () => reject(timeout.signal.reason)),
      );
      try {
        return await Promise.race([
          onBatch((event as SQSEvent).Records, {
            remainingMs: () => deadline - Date.now(),
            signal: timeout.signal,
          }),
          timedOut,
        ]);
      } finally {
        clearTimeout(timer);
      }
    }),
  };
  // Lambda's pollers use the function's role, as the function does.
  return actingAs(functionName, () =>
    startEventSourceMappings(Array(options.pollers).fill(mapping), mappingOptions),
  );
}

/** How many times the simulator recorded a request reaching its customer. */
function timesReceived(sim: Simulator, request: OutboundRequest): number {
  if (request.channel === 'kf') return sim.wecom.sent.filter((s) => s.msgid === msgidFor(request)).length;
  const { openid, message } = request;
  // Each follower gets one typing and messages of distinct types, so (follower, type) names one request.
  if (message.type === 'typing') return sim.mp.typings.filter((t) => t.touser === openid).length;
  return sim.mp.sent.filter((s) => s.touser === openid && s.msgtype === message.type).length;
}

/**
 * Replies that reached their customer after one queued behind them for the same customer: each customer's
 * requests are posted one after another, so their order on the queue is their order in `requests`.
 */
export function repliesOutOfOrder(sim: Simulator, requests: OutboundRequest[]): number {
  const index = (request: OutboundRequest | undefined) => (request ? requests.indexOf(request) : -1);
  const deliveries = new Map<string, number[]>();
  const delivered = (recipient: string, position: number) => {
    if (position >= 0) deliveries.set(recipient, [...(deliveries.get(recipient) ?? []), position]);
  };
  for (const sent of sim.wecom.sent)
    delivered(
      `kf#${sent.touser}`,
      index(requests.find((r) => r.channel === 'kf' && msgidFor(r) === sent.msgid)),
    );
  for (const sent of sim.mp.sent)
    delivered(
      `mp#${sent.touser}`,
      index(
        requests.find(
          (r) => r.channel === 'mp' && r.openid === sent.touser && r.message.type === sent.msgtype,
        ),
      ),
    );
  let outOfOrder = 0;
  for (const positions of deliveries.values()) {
    let latest = -1;
    for (const position of positions) {
      if (position < latest) outOfOrder++;
      latest = Math.max(latest, position);
    }
  }
  return outOfOrder;
}

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Log;
const CORP = {
  id: 'wwe2e00000000001',
  secret: 'e2e-secret',
  token: 'e2eToken',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
};
const MP_APP = {
  appId: 'wxe2e0000000000001',
  secret: 'e2e-mp-secret',
  token: 'e2eMpToken',
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};
const MP_FOLLOWERS = 8;
/** Text the aws profile's SQS refuses whatever the retry, standing for content only AWS refuses. */
const PERMANENTLY_REFUSED = 'refused-by-sqs';
const text = (content: string) => ({ msgtype: 'text', text: { content } });
/** A chat record of 3000 items: its JSON is over SQS's 256 KiB. */
const oversized = (i: number) => ({
  msgtype: 'merged_msg',
  merged_msg: {
    title: `message ${i}`,
    item: Array.from({ length: 3000 }, (_, n) => ({
      send_time: 1700000000 + n,
      msgtype: 'text',
      sender_name: '客户',
      msg_content: JSON.stringify({ msgtype: 'text', text: { content: `第${n}条聊天记录` } }),
    })),
  },
});
const E2E_API_KEY = 'e2e-outbound-api-key-0123';

/** Counts what a consumer of inbound.fifo saw against what customers wrote. */
export function tally(expected: Map<string, string[]>, delivered: { customer: string; id: string }[]) {
  const seen = new Set<string>();
  let duplicates = 0;
  let outOfOrder = 0;
  const lastIndex = new Map<string, number>();
  const position = new Map<string, number>();
  for (const ids of expected.values()) {
    for (const [index, id] of ids.entries()) position.set(id, index);
  }
  for (const { customer, id } of delivered) {
    if (seen.has(id)) {
      duplicates++;
      continue;
    }
    seen.add(id);
    const index = position.get(id) ?? -1;
    if (index < (lastIndex.get(customer) ?? -1)) outOfOrder++;
    lastIndex.set(customer, Math.max(index, lastIndex.get(customer) ?? -1));
  }
  const total = [...expected.values()].reduce((sum, ids) => sum + ids.length, 0);
  const lost = [...position.keys()].filter((id) => !seen.has(id)).length;
  return { expected: total, delivered: seen.size, duplicates, lost, outOfOrder };
}

/**
 * Customers write through the simulator; the simulator calls the callback logic over HTTP; sync jobs reach the
 * puller through the SQS event-source mapping; a consumer reads inbound.fifo. Everything is the product's code
 * on the embedded stack; only the faults are added.
 */
export async function runInboundE2e(options: E2eOptions): Promise<E2eResult> {
  const log = options.log ?? (() => {});
  const profile = PROFILES[options.faults];
  const started = Date.now();
  const definition = await readServiceDefinition();
  const stack = await startLocalStack({ resources: definition.resources, region: definition.region });
  const sim = await startSimulator({ seed: options.seed, callbacks: { retryDelayMs: 300 } });
  const stops: (() => Promise<void> | void)[] = [() => stack.stop(), () => sim.stop()];
  try {
    // Each function runs with only its own settings, as deployed.
    const env = {
      SYNC_JOBS_QUEUE_URL: stack.queues.SyncJobsQueue,
      INBOUND_QUEUE_URL: stack.queues.InboundQueue,
      OUTBOUND_QUEUE_URL: stack.queues.OutboundQueue,
      STATE_TABLE: stack.tables.StateTable,
      WECOM_CORP_ID: CORP.id,
      WECOM_KF_SECRET: CORP.secret,
      WECOM_CALLBACK_TOKEN: CORP.token,
      WECOM_ENCODING_AES_KEY: CORP.aesKey,
      WECOM_API_BASE: sim.url,
      MP_APP_ID: MP_APP.appId,
      MP_APP_SECRET: MP_APP.secret,
      MP_TOKEN: MP_APP.token,
      MP_ENCODING_AES_KEY: MP_APP.aesKey,
      MP_API_BASE: sim.url,
      CALLBACK_MAX_CLOCK_SKEW_SECONDS: '0',
      KF_BRIDGE_STAGE: 'local',
      OUTBOUND_API_KEY: E2E_API_KEY,
      MEDIA_BUCKET: stack.buckets.MediaBucket,
      ...(profile.aws && { INBOUND_MEDIA_TO_S3: 'true' }),
    };
    const configOf = (functionName: FunctionName) => parseConfig(env, functionName);
    // The product's clients are metered; the company's consumer and the run's own checks use unmetered ones.
    const meter = createMeter();
    const awsCalls = createAwsCallLog(localTarget(definition, stack));
    const sqs = new SQSClient({ region: stack.region, ...awsClientConfig('sqs', stack.env) });
    meterSqs(sqs, meter);
    recordAwsCalls(sqs, 'sqs', awsCalls);
    const s3 = s3ObjectsFor(stack.env, {
      observe: observeAll(meterSignedCalls(meter), recordSignedCalls(awsCalls)),
    });
    // AWS refuses batch entries one by one where the local queue is kind: its size and character limits always,
    // and on the aws profile passing internal errors and a permanent refusal of chosen content.
    const refusalRandom = new SeededRandom(options.seed * 104729);
    // The functions' own SQS calls are signed requests, as in the functions: metered and recorded likewise. The
    // SDK client above is the event-source mappings' (Lambda's polling, billed too).
    const queue = queueClientFor(stack.env, {
      observe: observeAll(meterSignedCalls(meter), recordSignedCalls(awsCalls)),
    });
    const refusals = refuseBatchEntries(queue, {
      rules: profile.aws
        ? [
            (entry) =>
              entry.MessageBody?.includes(PERMANENTLY_REFUSED) ? SQS_REFUSALS.invalidContents : undefined,
            () =>
              refusalRandom.next() < (profile.aws?.transientRefusal ?? 0)
                ? SQS_REFUSALS.internalError
                : undefined,
          ]
        : [],
    });
    // The functions' item calls are signed requests of their own, as in the functions: metered, and recorded as
    // IAM authorises them.
    const items = meterItemStore(itemStoreFor(stack.env, { observe: recordSignedCalls(awsCalls) }), meter);
    const pollers = options.pollers ?? 1;

    const clients = { sqs: queue, items, s3, log: silent, meter: NO_METRICS };
    const puller = syncPullerWiring(configOf('syncPuller'), clients);
    const observedLedger = new SendLedger(
      documentClientItemStore(DynamoDBDocumentClient.from(stack.clients.dynamodb)),
      configOf('sender').stateTable,
    );

    // The callback endpoint the simulator pushes to: the callback function's wiring behind plain HTTP, its item
    // calls signed requests of its own as in the function.
    const callbackItems = itemStoreFor(stack.env, {
      policy: PUSH_ITEM_CALL_POLICY,
      observe: recordSignedCalls(awsCalls),
    });
    const callback = callbackWiring(configOf('callback'), {
      ...clients,
      items: meterItemStore(callbackItems, meter),
    });
    const handleCallback = metered(meter, 'callback', asFunction('callback', callback.handle));
    const callbackServer = await serveCallback(handleCallback);
    stops.unshift(callbackServer.stop);

    // The puller, with a crash injected between publishing a page and committing its cursor.
    const random = new SeededRandom(options.seed * 7919);
    let crashes = 0;
    const cursors = puller.services.cursors;
    const commit = cursors.commit.bind(cursors);
    let commits = 0;
    cursors.commit = async (...args) => {
      // The first commit always dies, so every faulty run includes a crash; later ones by chance.
      if (profile.crash > 0 && (commits++ === 0 || random.next() < profile.crash)) {
        crashes++;
        throw new Error('puller killed between publishing and committing the cursor');
      }
      return commit(...args);
    };
    const pullers = consumeInProcess(definition, stack, 'syncPuller', puller.onBatch, {
      sqs,
      meter,
      log,
      pollers,
    });
    stops.unshift(() => pullers.stop());

    // The fallback schedule, compressed from a minute to 5 s.
    const onSchedule = metered(meter, 'syncPullerSchedule', asFunction('syncPuller', puller.onSchedule));
    const fallback = setInterval(() => {
      onSchedule({ periodMs: 5000 }).catch((error: Error) => log(`fallback failed: ${error.message}`));
    }, 5000);
    stops.unshift(() => clearInterval(fallback));

    // The company's consumer of inbound.fifo.
    const inboundUrl = stack.queues.InboundQueue ?? '';
    const delivered: { customer: string; id: string }[] = [];
    const quarantined: { id: string; message: { content: { bucket: string; key: string } } }[] = [];
    const mediaNotArchived: Record<string, number> = {};
    let lastDeliveredAt = 0;
    const followersHeard = new Set<string>();
    let consuming = true;
    const consumer = (async () => {
      while (consuming) {
        const { Messages = [] } = await stack.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: inboundUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const message of Messages) {
          const body = JSON.parse(message.Body ?? '{}');
          if (body.channel === 'mp') {
            if (body.origin === 'customer') followersHeard.add(body.customer);
          } else {
            // A stand-in counts as its message: in order, once, under the message's id.
            delivered.push({ customer: `${body.account}#${body.customer}`, id: body.id });
            if (body.message?.type === 'quarantined') quarantined.push(body);
            const notArchived = body.mediaNotArchived?.reason;
            if (notArchived) mediaNotArchived[notArchived] = (mediaNotArchived[notArchived] ?? 0) + 1;
            lastDeliveredAt = performance.now();
          }
        }
        if (Messages.length > 0) {
          await stack.clients.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: inboundUrl,
              Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
      }
    })();
    stops.unshift(async () => {
      consuming = false;
      await consumer;
    });

    // Customers write.
    sim.sim.createCorp({
      corpId: CORP.id,
      secrets: [CORP.secret],
      callback: {
        url: callbackServer.url,
        token: CORP.token,
        encodingAesKey: CORP.aesKey,
      },
    });
    sim.sim.createMpApp({
      appId: MP_APP.appId,
      secret: MP_APP.secret,
      token: MP_APP.token,
      encodingAesKey: MP_APP.aesKey,
      callbackUrl: callbackServer.url,
      mode: 'safe',
    });
    const accounts = Array.from({ length: options.accounts ?? 3 }, (_, i) =>
      sim.sim.createKfAccount(CORP.id, `客服${i + 1}`),
    );
    const customers = accounts.flatMap((openKfId) =>
      Array.from({ length: options.customersPerAccount ?? 8 }, (_, i) => ({
        openKfId,
        customer: `wmE2e${openKfId.slice(-4)}${i}`,
      })),
    );
    sim.sim.setFaults(
      [
        ...profile.rules,
        ...(profile.aws
          ? [{ endpoint: 'media/get', kind: 'latency' as const, ms: profile.aws.slowMediaMs }]
          : []),
      ],
      options.seed,
    );
    const photo = profile.aws && sim.sim.uploadMedia(CORP.id, 'image', 'photo.jpg', Buffer.alloc(2048, 7));
    let toQuarantine = 0;
    /** On the aws profile, a few messages AWS treats unkindly: characters SQS refuses, a permanently refused
     * one, an image whose download is slow, and one over SQS's size limit. */
    const awsWorkload = (i: number): Record<string, unknown> | undefined => {
      if (!profile.aws) return undefined;
      if (i === 401 || i % 211 === 7) toQuarantine++;
      if (i === 401) return oversized(i);
      if (i % 97 === 13) return text(`message ${i} \uFFFF\uD800 😀`);
      if (i % 211 === 7) return text(`message ${i} ${PERMANENTLY_REFUSED}`);
      if (i % 53 === 29) return { msgtype: 'image', image: { media_id: photo } };
      return undefined;
    };
    const expected = new Map<string, string[]>();
    const workload = new SeededRandom(options.seed);
    const writingStarted = performance.now();
    for (let i = 0; i < options.messages; i++) {
      const who = customers[Math.floor(workload.next() * customers.length)] ?? customers[0];
      if (!who) break;
      const key = `${who.openKfId}#${who.customer}`;
      expected.set(key, [
        ...(expected.get(key) ?? []),
        sim.sim.customerWrites(who.openKfId, who.customer, awsWorkload(i) ?? text(`message ${i}`)),
      ]);
      if (profile.revokeToken && i === Math.floor(options.messages / 2)) sim.sim.invalidateTokens('revoke');
      // Customers write over time, not in one burst: many callbacks, many pulls, many commits to crash.
      if (options.paced !== false && i % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    log(
      `${options.messages} messages written by ${customers.length} customers on ${accounts.length} kf accounts`,
    );

    const deadline = Date.now() + (options.timeoutMs ?? 180_000);
    while (tally(expected, delivered).delivered < options.messages && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // A late repeat would show up within a couple of pulls.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const quarantineKept = (
      await Promise.all(
        quarantined.map(async ({ id, message }) => {
          const object = await stack.clients.s3.send(
            new GetObjectCommand({ Bucket: message.content.bucket, Key: message.content.key }),
          );
          return JSON.parse((await object.Body?.transformToString()) ?? '{}').id === id;
        }),
      )
    ).filter(Boolean).length;
    const inbound = {
      ...tally(expected, delivered),
      quarantined: quarantined.length,
      quarantineKept,
      mediaNotArchived,
    };
    const inboundMs = lastDeliveredAt - writingStarted;

    // Official Account followers follow and write; replies go only to those whose message arrived, as a
    // company's consumer would answer only what it received.
    const followers = Array.from({ length: MP_FOLLOWERS }, (_, i) => `oE2eFollower${i}`);
    for (const openid of followers)
      sim.sim.mpUserWrites(MP_APP.appId, openid, { MsgType: 'event', Event: 'subscribe' });
    // MP never re-sends a push it lost, and has nothing to pull: a follower not answered writes again.
    for (let round = 0; round < 5 && followersHeard.size < followers.length; round++) {
      for (const openid of followers.filter((f) => !followersHeard.has(f)))
        sim.sim.mpUserWrites(MP_APP.appId, openid, { MsgType: 'text', Content: round ? '在吗？' : '你好' });
      const heardBy = Date.now() + 3000;
      while (followersHeard.size < followers.length && Date.now() < heardBy)
        await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Outbound: kf customers get three replies of every kf type between them; followers typing and five
    // replies of every MP type between them.
    const senders = consumeInProcess(
      definition,
      stack,
      'sender',
      senderWiring(configOf('sender'), clients).onBatch,
      {
        sqs,
        meter,
        log,
        pollers,
      },
    );
    stops.unshift(() => senders.stop());
    const requests: OutboundRequest[] = [
      ...kfReplies([...expected.keys()], (type, filename, data) =>
        sim.sim.uploadMedia(CORP.id, type, filename, data),
      ),
      ...mpReplies([...followersHeard], (type, filename, data) =>
        sim.sim.uploadMedia(MP_APP.appId, type, filename, data),
      ),
    ];
    const queuedAt = performance.now();
    // The company's system posts each reply to the messages API, 20 at a time.
    const api = metered(meter, 'api', asFunction('api', apiWiring(configOf('api'), clients).handle));
    // Each customer's replies one after another, so their order on the queue is known; customers side by side.
    const byRecipient = new Map<string, OutboundRequest[]>();
    for (const request of requests)
      byRecipient.set(outboundGroupId(request), [
        ...(byRecipient.get(outboundGroupId(request)) ?? []),
        request,
      ]);
    const recipients = [...byRecipient.values()];
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let replies = recipients[next++]; replies; replies = recipients[next++])
          for (const request of replies) {
            const answer = await api({
              method: 'POST',
              path: '/v1/messages',
              query: {},
              headers: { 'x-api-key': E2E_API_KEY },
              body: JSON.stringify(request),
            });
            if (answer.status !== 202) throw new Error(`messages API answered ${answer.status}`);
          }
      }),
    );
    log(`${requests.length} outbound requests queued`);
    // The simulator's record is cheap to count often, so it times the last delivery closely; the ledger says
    // when every request has its outcome (a failed one never reaches the simulator).
    const recorded = () => sim.sim.wecom.sent.length + sim.sim.mp.sent.length + sim.sim.mp.typings.length;
    const alreadyRecorded = recorded();
    const settled = async () =>
      (await Promise.all(requests.map((r) => observedLedger.read(r.app, r.requestId)))).filter(
        (o) => o && o.status !== 'queued',
      ).length;
    let outboundMs = 0;
    for (let checked = 0; Date.now() < deadline; checked++) {
      if (!outboundMs && recorded() - alreadyRecorded >= requests.length)
        outboundMs = performance.now() - queuedAt;
      if (checked % 25 === 0 && (await settled()) === requests.length) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    outboundMs ||= performance.now() - queuedAt;
    const outcomes = await Promise.all(requests.map((r) => observedLedger.read(r.app, r.requestId)));
    for (const [i, outcome] of outcomes.entries())
      if (outcome?.status !== 'sent') log(`${requests[i]?.requestId}: ${JSON.stringify(outcome)}`);
    const sends = requests.map((r) => timesReceived(sim.sim, r));
    return {
      inbound,
      outbound: {
        requested: requests.length,
        delivered: sends.filter((n) => n > 0).length,
        duplicates: sends.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
        rejected: outcomes.filter((o) => o?.status === 'rejected').length,
        failed: outcomes.filter((o) => o?.status === 'failed').length,
        uncertain: outcomes.filter((o) => o?.status === 'uncertain').length,
        outOfOrder: repliesOutOfOrder(sim.sim, requests),
      },
      durationMs: Date.now() - started,
      timings: { inboundMs, outboundMs },
      usage: meter,
      awsCalls,
      faults: options.faults,
      seed: options.seed,
      injected: {
        crashesBeforeCursorCommit: crashes,
        platformFaults: sim.sim.faults.log.length,
        tokenRevocations: profile.revokeToken ? 1 : 0,
        sqsEntriesRefused: refusals.refused.length,
        toQuarantine,
        unansweredSends: sim.sim.faults.log.filter(
          (fault) =>
            (fault.endpoint === 'kf/send_msg' && fault.kind === 'lost_answer') ||
            (fault.endpoint === 'message/custom/send' &&
              (fault.kind === 'drop' || fault.kind === 'lost_answer' || fault.kind === 'http')),
        ).length,
      },
    };
  } finally {
    for (const stop of stops) await stop();
  }
}
