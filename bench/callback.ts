import { randomBytes } from 'node:crypto';
import { decrypt as floorDecrypt, getSignature as floorSignature } from '@wecom/crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { decodeEncodingAesKey, encrypt, signature } from '../lib/crypto/wxBizMsgCrypt';
import { callbackHttpEvent } from '../local/callbackEvent';
import type { LocalStack } from '../local/stack';
import { median, percentile, round } from './stats';

const APP = {
  corpId: 'wwbench000000001',
  token: 'benchToken',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
};

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

interface Push {
  readonly query: { msg_signature: string; timestamp: string; nonce: string };
  readonly encrypted: string;
  readonly body: string;
}

/** WeCom kf event pushes as WeCom sends them: one per callback, spread over 50 kf accounts. */
function pushes(count: number): Push[] {
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

/**
 * The callback function's handler, in process, answering WeCom pushes one after another: signature check,
 * decryption, parsing and the sync job's SendMessage to the local stack's sync-jobs.fifo. The floor is
 * @wecom/crypto's signature and decryption of the same pushes, timed the same way in the same run.
 */
export async function measureCallback(stack: LocalStack, rounds = 5, requestsPerRound = 1000) {
  Object.assign(process.env, stack.env, {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    STATE_TABLE: stack.tables.StateTable,
    SYNC_JOBS_QUEUE_URL: stack.queues.SyncJobsQueue,
    INBOUND_QUEUE_URL: stack.queues.InboundQueue,
    OUTBOUND_QUEUE_URL: stack.queues.OutboundQueue,
    WECOM_CORP_ID: APP.corpId,
    WECOM_KF_SECRET: 'bench-secret',
    WECOM_CALLBACK_TOKEN: APP.token,
    WECOM_ENCODING_AES_KEY: APP.aesKey,
  });
  const { handler } = (await import('../functions/callback')) as unknown as { handler: Handler };
  const context = { getRemainingTimeInMillis: () => 5000 } as Context;
  const answer = async (push: Push) => {
    const event = callbackHttpEvent({ method: 'POST', app: 'default', query: push.query, body: push.body });
    const started = process.hrtime.bigint();
    const response = await handler(event, context);
    const us = microseconds(started);
    if (response.statusCode !== 200)
      throw new Error(`callback answered ${response.statusCode}: ${response.body}`);
    return us;
  };
  const floor = (push: Push) => {
    const started = process.hrtime.bigint();
    const expected = floorSignature(APP.token, push.query.timestamp, push.query.nonce, push.encrypted);
    const { id } = floorDecrypt(APP.aesKey, push.encrypted);
    const us = microseconds(started);
    if (expected !== push.query.msg_signature || id !== APP.corpId) throw new Error('floor check failed');
    return us;
  };

  for (const push of pushes(500)) {
    await answer(push);
    floor(push);
  }
  // Rounds, and the median of each statistic across them: one GC pause or noisy neighbour moves one round only.
  const stats = { p50: [] as number[], p99: [] as number[], floor: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const batch = pushes(requestsPerRound);
    const latencies: number[] = [];
    for (const push of batch) latencies.push(await answer(push));
    stats.p50.push(percentile(latencies, 50));
    stats.p99.push(percentile(latencies, 99));
    stats.floor.push(percentile(batch.map(floor), 50));
  }
  const p50Us = median(stats.p50);
  const floorUs = median(stats.floor);
  return {
    p50Us: round(p50Us),
    p99Us: round(median(stats.p99)),
    floorP50Us: round(floorUs, 2),
    floorRatio: round(p50Us / floorUs),
  };
}
