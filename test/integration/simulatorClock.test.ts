import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackWiring } from '../../lib/callback/wiring';
import { parseConfig } from '../../lib/config/config';
import { parseInboundMessage } from '../../lib/contracts/inbound';
import { parseSyncJob } from '../../lib/contracts/syncJob';
import { errorResponse } from '../../lib/http/httpApi';
import { NO_METRICS } from '../../lib/metrics';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { HOUR } from '../../simulator/core';
import { drain, itemStores, localStack, queueClient, sqsClient } from '../support/aws';
import { recordingLog } from '../support/recording';
import { testEnv } from '../support/wechat';

const stack = localStack();
const sqs = sqsClient();
const syncJobsUrl = stack.queues.SyncJobsQueue ?? '';
const inboundUrl = stack.queues.InboundQueue ?? '';
let simulator: RunningSimulator;
let bridge: Server;

/** The callback function's real wiring behind HTTP, as serverless offline serves it. */
function callbackServer(): Server {
  const { log } = recordingLog();
  const callback = callbackWiring(
    parseConfig({ ...testEnv, SYNC_JOBS_QUEUE_URL: syncJobsUrl, INBOUND_QUEUE_URL: inboundUrl }),
    { sqs: queueClient(), items: itemStores().signed, log, meter: NO_METRICS },
  );
  return createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://callback');
    let body = '';
    for await (const chunk of request) body += chunk;
    const answer = await callback
      .handle({
        method: request.method ?? 'POST',
        app: url.pathname.split('/').pop() ?? '',
        query: Object.fromEntries(url.searchParams),
        body,
      })
      .catch((error) => {
        const { statusCode = 500, body = '' } = errorResponse(error, log);
        return { status: statusCode, body };
      });
    response.writeHead(answer.status, { 'content-type': 'text/plain' });
    response.end(answer.body);
  });
}

beforeAll(async () => {
  bridge = callbackServer();
  await new Promise<void>((resolve) => bridge.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}/callback/default`;
  simulator = await startSimulator({ callbacks: { retries: 0 } });
  const { sim } = simulator;
  sim.createCorp({
    corpId: testEnv.WECOM_CORP_ID,
    secrets: [testEnv.WECOM_KF_SECRET],
    callback: {
      url: callbackUrl,
      token: testEnv.WECOM_CALLBACK_TOKEN,
      encodingAesKey: testEnv.WECOM_ENCODING_AES_KEY,
    },
  });
  sim.createMpApp({
    appId: testEnv.MP_APP_ID,
    secret: testEnv.MP_APP_SECRET,
    token: testEnv.MP_TOKEN,
    encodingAesKey: testEnv.MP_ENCODING_AES_KEY,
    callbackUrl,
    mode: 'safe',
  });
});

afterAll(async () => {
  await simulator?.stop();
  await new Promise((resolve) => bridge?.close(resolve));
});

describe("the simulator's business clock, against the callback's timestamp check", () => {
  it('moves 48 h windows forward while pushes stay signed on the wall clock, so the callback accepts them', async () => {
    const { sim } = simulator;
    const openKfId = sim.createKfAccount(testEnv.WECOM_CORP_ID, 'clock');
    sim.advanceClock(49 * HOUR);

    sim.customerSays(openKfId, 'wmClockCustomer', 'after two days');
    const writtenFrom = Math.floor(sim.clock.now() / 1000);
    sim.mpUserWrites(testEnv.MP_APP_ID, 'oClockFollower', { MsgType: 'text', Content: 'after two days' });
    const writtenTo = Math.floor(sim.clock.now() / 1000);
    await sim.callbacks.idle();

    expect(sim.callbacks.deliveries.map((delivery) => delivery.attempts.map((a) => a.status))).toEqual([
      [200],
      [200],
    ]);
    const jobs = (await drain(sqs, syncJobsUrl)).map((m) => parseSyncJob(JSON.parse(m.Body ?? '')));
    expect(jobs.filter((job) => job.openKfId === openKfId)).toHaveLength(1);
    const inbound = (await drain(sqs, inboundUrl)).map((m) => parseInboundMessage(JSON.parse(m.Body ?? '')));
    const follower = inbound.filter((message) => message.customer === 'oClockFollower');
    // The message's own time is the platform's business time, two days on (read on either side of the write,
    // which may straddle a second).
    expect(follower).toEqual([
      expect.objectContaining({ message: { type: 'text', content: 'after two days' } }),
    ]);
    expect(follower[0]?.sentAt).toBeGreaterThanOrEqual(writtenFrom);
    expect(follower[0]?.sentAt).toBeLessThanOrEqual(writtenTo);
    expect(writtenFrom).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 48 * 3600);
  });
});
