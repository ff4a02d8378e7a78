import { randomBytes } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { decrypt as floorDecrypt, getSignature as floorSignature } from '@wecom/crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { awsClientConfig } from '../lib/aws/clientConfig';
import { decodeEncodingAesKey, encrypt, signature } from '../lib/crypto/wxBizMsgCrypt';
import { callbackHttpEvent } from '../local/callbackEvent';
import type { LocalStack } from '../local/stack';
import { median, percentile, round } from './stats';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

interface Push {
  readonly query: { msg_signature: string; timestamp: string; nonce: string };
  readonly encrypted: string;
  readonly body: string;
}

interface App {
  readonly corpId: string;
  readonly token: string;
  readonly aesKey: string;
}

/** WeCom kf event pushes as WeCom sends them: one per callback, spread over 50 kf accounts. */
function pushes(APP: App, count: number): Push[] {
  const cipher = { token: APP.token, receiveId: APP.corpId, aesKey: decodeEncodingAesKey(APP.aesKey) };
  return Array.from({ length: count }, (_, i) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(randomBytes(4).readUInt32BE());
    const xml = `<xml><ToUserName><![CDATA[${APP.corpId}]]></ToUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENC${i}${nonce}]]></Token><OpenKfId><![CDATA[wkBench${i % 50}]]></OpenKfId></xml>`;
    const encrypted = encrypt(cipher, xml);
    return {
      query: { msg_signature: signature(APP.token, timestamp, nonce, encrypted), timestamp, nonce },
      encrypted,
      body: `<xml><ToUserName><![CDATA[${APP.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>`,
    };
  });
}

const microseconds = (started: bigint) => Number(process.hrtime.bigint() - started) / 1000;
const cpuMicroseconds = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return user + system;
};

/** A push answered: how long it took, and the CPU it used (nothing else runs in this process meanwhile). */
interface Answered {
  readonly us: number;
  readonly cpuUs: number;
}

/** The callback function's settings for the bench's app on `stack`. */
export function callbackEnv(stack: LocalStack): Record<string, string> {
  return {
    ...stack.env,
    STATE_TABLE: stack.tables.StateTable ?? '',
    SYNC_JOBS_QUEUE_URL: stack.queues.SyncJobsQueue ?? '',
    INBOUND_QUEUE_URL: stack.queues.InboundQueue ?? '',
    OUTBOUND_QUEUE_URL: stack.queues.OutboundQueue ?? '',
    WECOM_CORP_ID: 'wwbench000000001',
    WECOM_KF_SECRET: 'bench-secret',
    WECOM_CALLBACK_TOKEN: 'benchToken',
    WECOM_ENCODING_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  };
}

/**
 * The callback function's handler, in process, answering WeCom pushes one after another: signature check,
 * decryption, parsing and the sync job's SendMessage to sync-jobs.fifo on the local stack (fauxqs serves in
 * this process, as it did when CI's p99 budget was set; DynamoDB Local is its own). Two floors, timed the same way in the same rounds: `crypto`, @wecom/crypto's signature
 * check and decryption of the same pushes; `sdk`, those plus one bare SendMessage of the push to the same
 * queue through an SQS client built as the callback function builds its own. Product and floors share the
 * same fauxqs, so their ratio compares like with like; the CPU figures include fauxqs serving the call.
 */
export async function measureCallback(env: Record<string, string>, rounds = 5, requestsPerRound = 1000) {
  const APP: App = {
    corpId: env.WECOM_CORP_ID ?? '',
    token: env.WECOM_CALLBACK_TOKEN ?? '',
    aesKey: env.WECOM_ENCODING_AES_KEY ?? '',
  };
  Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'SILENT' });
  const { handler } = (await import('../functions/callback')) as unknown as { handler: Handler };
  const context = { getRemainingTimeInMillis: () => 5000 } as Context;
  const sqs = new SQSClient(awsClientConfig('sqs'));
  const syncJobsUrl = env.SYNC_JOBS_QUEUE_URL ?? '';
  const answer = async (push: Push): Promise<Answered> => {
    const event = callbackHttpEvent({ method: 'POST', app: 'default', query: push.query, body: push.body });
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const response = await handler(event, context);
    const us = microseconds(started);
    const cpuUs = cpuMicroseconds(cpu);
    if (response.statusCode !== 200)
      throw new Error(`callback answered ${response.statusCode}: ${response.body}`);
    return { us, cpuUs };
  };
  const check = (push: Push) => {
    const expected = floorSignature(APP.token, push.query.timestamp, push.query.nonce, push.encrypted);
    const { id, message } = floorDecrypt(APP.aesKey, push.encrypted);
    if (expected !== push.query.msg_signature || id !== APP.corpId) throw new Error('floor check failed');
    return message;
  };
  const cryptoFloor = (push: Push) => {
    const started = process.hrtime.bigint();
    check(push);
    return microseconds(started);
  };
  const sdkFloor = async (push: Push): Promise<Answered> => {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: syncJobsUrl,
        MessageBody: check(push),
        MessageGroupId: 'floor',
        MessageDeduplicationId: push.query.nonce + push.query.timestamp,
      }),
    );
    return { us: microseconds(started), cpuUs: cpuMicroseconds(cpu) };
  };

  for (const push of pushes(APP, 500)) {
    await answer(push);
    cryptoFloor(push);
    await sdkFloor(push);
  }
  // Rounds, and the median of each statistic across them: one GC pause or noisy neighbour moves one round only.
  const stats = {
    p50: [] as number[],
    p99: [] as number[],
    cpu: [] as number[],
    crypto: [] as number[],
    sdk: [] as number[],
    sdkP99: [] as number[],
    sdkCpu: [] as number[],
  };
  for (let round = 0; round < rounds; round++) {
    const batch = pushes(APP, requestsPerRound);
    const product: Answered[] = [];
    const floor: Answered[] = [];
    // One after the other, push by push: whatever the machine does meanwhile weighs on both alike.
    for (const push of batch) {
      product.push(await answer(push));
      floor.push(await sdkFloor(push));
    }
    const latencies = product.map((a) => a.us);
    const floorLatencies = floor.map((a) => a.us);
    stats.p50.push(percentile(latencies, 50));
    stats.p99.push(percentile(latencies, 99));
    stats.cpu.push(
      percentile(
        product.map((a) => a.cpuUs),
        50,
      ),
    );
    stats.sdk.push(percentile(floorLatencies, 50));
    stats.sdkP99.push(percentile(floorLatencies, 99));
    stats.sdkCpu.push(
      percentile(
        floor.map((a) => a.cpuUs),
        50,
      ),
    );
    stats.crypto.push(percentile(batch.map(cryptoFloor), 50));
  }
  sqs.destroy();
  const p50Us = median(stats.p50);
  const cpuUs = median(stats.cpu);
  const cryptoUs = median(stats.crypto);
  const sdkUs = median(stats.sdk);
  const sdkCpuUs = median(stats.sdkCpu);
  return {
    p50Us: round(p50Us),
    p99Us: round(median(stats.p99)),
    cpuP50Us: round(cpuUs),
    cryptoFloorP50Us: round(cryptoUs, 2),
    cryptoFloorRatio: round(p50Us / cryptoUs),
    sdkFloorP50Us: round(sdkUs),
    sdkFloorCpuP50Us: round(sdkCpuUs),
    sdkFloorRatio: round(p50Us / sdkUs, 2),
    /** The callback's p99 over the SDK floor's p99, push by push in the same rounds: what CI holds it to. */
    sdkFloorP99Ratio: round(median(stats.p99) / median(stats.sdkP99), 2),
    sdkFloorCpuRatio: round(cpuUs / sdkCpuUs, 2),
  };
}
