import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutoReplyBot } from '../../examples/autoReplyBot';
import { LOCAL_CREDENTIALS } from '../../lib/aws/clientConfig';
import { s3ObjectsFor } from '../../lib/aws/s3';
import { INBOUND_SCHEMA, type InboundMessage, inboundFifoMessage } from '../../lib/contracts/inbound';
import { TEXT_MAX_BYTES } from '../../lib/contracts/outbound';
import { inboundQuarantine } from '../../lib/inbound/quarantine';
import { NO_METRICS } from '../../lib/metrics';
import { sqsPublisher } from '../../lib/queue/publisher';
import { sdkQueueClient } from '../../lib/queue/sdkQueueClient';
import { ROOT } from '../../local/serviceDefinition';
import type { LocalSystem } from '../../local/system';
import { startTestSystem } from '../support/localSystem';
import { waitFor } from '../support/wait';
import { testEnv } from '../support/wechat';

let system: LocalSystem;

beforeAll(async () => {
  // What `npm start` runs; each test starts the consumer it is about, so only one reads inbound.fifo at a time.
  system = await startTestSystem();
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');
const botAnswer = (text: string) => `您好！我是 kf-bridge 演示机器人。您说的是：「${text}」`;

/** The texts sent to one customer, once there are at least `count`. */
async function textsSentTo(customer: string, count: number, channel: 'wecom' | 'mp' = 'wecom') {
  const sent = await waitFor(async () => {
    const texts = system.simulator.sim[channel].sent
      .filter((s) => s.touser === customer)
      .map((s) => String((s.body as { content?: unknown }).content));
    return texts.length >= count ? [texts] : [];
  }, 40_000);
  return sent[0] ?? [];
}

describe('the demo bot (examples/autoReplyBot.ts)', () => {
  let bot: { stop(): Promise<void> };
  beforeAll(() => {
    bot = startAutoReplyBot({
      sqs: system.stack.clients.sqs,
      inboundUrl: system.stack.queues.InboundQueue ?? '',
      outboundUrl: system.stack.queues.OutboundQueue ?? '',
      log: () => {},
    });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('answers a 3,000-character kf message in several in-order replies, each within the 2,048 bytes WeCom takes', async () => {
    const long = '您好，我想咨询一下订单的配送进度。'.repeat(177).slice(0, 3000);
    system.simulator.sim.customerSays(system.demo.openKfId, 'wmLongMessage', long);
    const texts = await textsSentTo('wmLongMessage', 5);
    expect(texts.length).toBe(5);
    for (const text of texts) expect(bytesOf(text)).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    expect(texts.join('')).toBe(botAnswer(long));
  });

  it('answers an Official Account follower in parts as well', async () => {
    const openid = `oLongMessage${Date.now()}`;
    const long = 'Where is my parcel? '.repeat(150);
    system.simulator.sim.mpUserWrites(testEnv.MP_APP_ID, openid, { MsgType: 'text', Content: long });
    const texts = await textsSentTo(openid, 2, 'mp');
    expect(texts.length).toBe(2);
    for (const text of texts) expect(bytesOf(text)).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    expect(texts.join('')).toBe(botAnswer(long));
  });

  it('keeps to the 5 replies a customer message allows, marking the answer cut short', async () => {
    const emoji = '😀'.repeat(3000);
    system.simulator.sim.customerSays(system.demo.openKfId, 'wmEmojiMessage', emoji);
    const texts = await textsSentTo('wmEmojiMessage', 5);
    expect(texts.length).toBe(5);
    for (const text of texts) expect(bytesOf(text)).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    const answer = texts.join('');
    expect(answer.endsWith('…')).toBe(true);
    expect(botAnswer(emoji).startsWith(answer.slice(0, -1))).toBe(true);
  });
});

/** Why the Python consumer cannot run here, if it cannot: CI machines have python3 and boto3. */
function pythonMissing(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
  if (probe.error) return `python3 is not installed (${probe.error.message})`;
  if (probe.status !== 0)
    return `python3 cannot import boto3: pip install -r examples/python/requirements.txt`;
  return undefined;
}
const PYTHON_MISSING = pythonMissing();

/**
 * The messages API as the consumer reaches it, through a proxy that can answer 503 in its place: a failed reply
 * the consumer must leave to come back.
 */
async function flakyProxy(target: string) {
  const proxy = { failNext: 0, posts: [] as { status: number; body: Record<string, unknown> }[] };
  const server: Server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    let status = 503;
    let answer = '{"error":"service unavailable"}';
    if (proxy.failNext > 0) proxy.failNext--;
    else {
      const response = await fetch(`${target}${incoming.url}`, {
        method: incoming.method ?? 'GET',
        headers: incoming.headers as Record<string, string>,
        ...(incoming.method === 'POST' && { body }),
      });
      status = response.status;
      answer = await response.text();
    }
    proxy.posts.push({ status, body: JSON.parse(body.toString('utf8') || '{}') });
    outgoing.writeHead(status, { 'content-type': 'application/json' });
    outgoing.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    proxy,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(PYTHON_MISSING)('the Python example consumer (examples/python/consumer.py)', () => {
  let api: Awaited<ReturnType<typeof flakyProxy>>;
  let consumer: ChildProcess;
  let output = '';
  const ack = (text: string) => `您好，我们已收到您的消息：「${text}」，客服会尽快回复您。`;

  beforeAll(async () => {
    api = await flakyProxy(system.httpUrl);
    consumer = spawn('python3', [join(ROOT, 'examples/python/consumer.py')], {
      env: {
        PATH: process.env.PATH,
        KF_BRIDGE_INBOUND_QUEUE_URL: system.stack.queues.InboundQueue ?? '',
        KF_BRIDGE_API_URL: api.url,
        KF_BRIDGE_API_KEY: 'local-demo-api-key-0123456789',
        KF_BRIDGE_RETRY_SECONDS: '1',
        AWS_REGION: system.stack.region,
        AWS_ENDPOINT_URL_SQS: system.stack.endpoints.sqs,
        AWS_ENDPOINT_URL_S3: system.stack.endpoints.s3,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [consumer.stdout, consumer.stderr])
      stream?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
  });

  afterAll(async () => {
    if (consumer && consumer.exitCode === null) {
      const exited = new Promise((resolve) => consumer.once('exit', resolve));
      consumer.kill('SIGTERM');
      await exited;
    }
    await api?.stop();
  });

  it('answers a kf customer through the messages API, and deletes the message once the reply is accepted', async () => {
    system.simulator.sim.customerSays(system.demo.openKfId, 'wmPython', '你好，Python');
    expect(await textsSentTo('wmPython', 1), output).toEqual([ack('你好，Python')]);
    expect(api.proxy.posts.filter((post) => post.body.externalUserId === 'wmPython')).toMatchObject([
      { status: 202, body: { channel: 'kf', openKfId: system.demo.openKfId, message: { type: 'text' } } },
    ]);
  });

  it("leaves a message whose reply failed to come back, holding its customer's later messages behind it", async () => {
    api.proxy.failNext = 1;
    system.simulator.sim.customerSays(system.demo.openKfId, 'wmPythonRetry', '第一条');
    system.simulator.sim.customerSays(system.demo.openKfId, 'wmPythonRetry', '第二条');
    expect(await textsSentTo('wmPythonRetry', 2)).toEqual([ack('第一条'), ack('第二条')]);
    const posts = api.proxy.posts.filter((post) => post.body.externalUserId === 'wmPythonRetry');
    expect(posts.map((post) => [post.status, (post.body.message as { content: string }).content])).toEqual([
      [503, ack('第一条')],
      [202, ack('第一条')],
      [202, ack('第二条')],
    ]);
  });

  it('reads a quarantined message from the media bucket and answers it in its place', async () => {
    system.simulator.sim.customerSays(system.demo.openKfId, 'wmPythonQuarantine', '在吗');
    expect(await textsSentTo('wmPythonQuarantine', 1)).toEqual([ack('在吗')]);
    // What the puller does with a message SQS will not take: the original kept, its stand-in in its place.
    const original: InboundMessage = {
      schema: INBOUND_SCHEMA,
      app: 'default',
      channel: 'kf',
      id: `quarantined-${Date.now()}`,
      account: system.demo.openKfId,
      customer: 'wmPythonQuarantine',
      origin: 'customer',
      sentAt: Math.floor(Date.now() / 1000),
      receivedAt: new Date().toISOString(),
      message: { type: 'text', content: '被隔离的消息' },
    };
    const quarantine = inboundQuarantine({
      s3: s3ObjectsFor(system.stack.env),
      bucket: 'mediabucket',
      meter: NO_METRICS,
    });
    const standIn = await quarantine(inboundFifoMessage(original), { reason: 'too_large', bytes: 300_000 });
    await sqsPublisher(sdkQueueClient(system.stack.clients.sqs))(
      system.stack.queues.InboundQueue ?? '',
      standIn,
    );
    expect(await textsSentTo('wmPythonQuarantine', 2)).toEqual([ack('在吗'), ack('被隔离的消息')]);
  });

  it('stops on SIGTERM, exiting 0, having deleted every message it answered', async () => {
    expect(consumer.exitCode, output).toBeNull();
    const exited = new Promise<number | null>((resolve) => consumer.once('exit', resolve));
    consumer.kill('SIGTERM');
    // It ends once the long poll in progress answers: within SQS's 20 s.
    expect(await exited, output).toBe(0);
    const { Attributes } = await system.stack.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: system.stack.queues.InboundQueue,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });
});

// Said in the report (the skipped test's name) and on the console, never a silent skip.
if (PYTHON_MISSING) {
  console.warn(`skipping the Python example consumer: ${PYTHON_MISSING}`);
  it.skip(`the Python example consumer: ${PYTHON_MISSING}`, () => {});
}
