import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import { adminDeps } from '../../lib/admin/wiring';
import { type Config, parseConfig } from '../../lib/config/config';
import { OUTBOUND_SCHEMA, type OutboundRequest } from '../../lib/contracts/outbound';
import type { SyncJob } from '../../lib/contracts/syncJob';
import { syncJobHandler } from '../../lib/inbound/services';
import { syncPullerWiring } from '../../lib/inbound/wiring';
import { NO_METRICS } from '../../lib/metrics';
import { msgidFor, sendRequest } from '../../lib/outbound/sender';
import { senderWiring } from '../../lib/outbound/wiring';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { runCliOn, startAdminApi } from '../support/adminApi';
import { itemStores, localS3Objects, queueClient, sqsClient } from '../support/aws';
import { createQueuePairs } from '../support/deadLetterQueues';
import { recordingLog } from '../support/recording';
import { testEnv } from '../support/wechat';

const KEY = 'admin-test-key-0123456789';
const sqs = sqsClient();
/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
/** An app of this file's own, so its cursors and ledgers share nothing with other tests in the table. */
const app = `trace${Date.now().toString(36)}`;
let sim: RunningSimulator;
let openKfId: string;
let config: Config;
let api: { url: string; stop(): Promise<void> };

beforeAll(async () => {
  sim = await startSimulator();
  sim.sim.createCorp({ corpId: testEnv.WECOM_CORP_ID, secrets: [testEnv.WECOM_KF_SECRET] });
  openKfId = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '客服');
  const pairs = await createQueuePairs(sqs);
  const prefix = app.toUpperCase();
  config = parseConfig({
    ...testEnv,
    ...pairs.env,
    ADMIN_API_KEY: KEY,
    KF_BRIDGE_APPS: app,
    [`${prefix}_WECOM_CORP_ID`]: testEnv.WECOM_CORP_ID,
    [`${prefix}_WECOM_KF_SECRET`]: testEnv.WECOM_KF_SECRET,
    [`${prefix}_WECOM_CALLBACK_TOKEN`]: testEnv.WECOM_CALLBACK_TOKEN,
    [`${prefix}_WECOM_ENCODING_AES_KEY`]: testEnv.WECOM_ENCODING_AES_KEY,
    [`${prefix}_WECOM_API_BASE`]: sim.url,
  });
  api = await startAdminApi(
    adminDeps(config, items, localS3Objects(), sqs, recordingLog().log, NO_METRICS, () =>
      sim.sim.clock.now(),
    ),
  );
});
afterAll(async () => {
  await api.stop();
  await sim.stop();
});

const clients = () => ({
  sqs: queueClient(),
  items,
  s3: localS3Objects(),
  log: recordingLog().log,
  meter: NO_METRICS,
});

/** One sync job through the puller as it deploys, on the simulator's clock. */
async function pull(): Promise<void> {
  const { services } = syncPullerWiring(config, { ...clients(), now: () => sim.sim.clock.now() });
  const job: SyncJob = {
    schema: 'kf-bridge.sync-job/v1',
    app,
    openKfId,
    receivedAt: new Date(sim.sim.clock.now()).toISOString(),
  };
  const record = {
    messageId: `m${Math.random()}`,
    receiptHandle: 'r',
    body: JSON.stringify(job),
    attributes: { MessageGroupId: `${app}#${openKfId}`, ApproximateReceiveCount: '1' },
  } as unknown as SQSRecord;
  await syncJobHandler(services, () => 30_000)(record);
}

/** A reply through the sender as it deploys. */
async function reply(customer: string, content: string) {
  const { deps } = senderWiring(config, { ...clients(), now: () => sim.sim.clock.now() });
  const request: OutboundRequest = {
    schema: OUTBOUND_SCHEMA,
    requestId: `${customer}-${content}`,
    app,
    channel: 'kf',
    openKfId,
    externalUserId: customer,
    message: { type: 'text', content },
  };
  return { request, outcome: await sendRequest(request, deps) };
}

const trace = (...args: string[]) => runCliOn(api.url, KEY, ['trace', ...args, '--app', app]);

const iso = (at: number) => new Date(at).toISOString();

describe('kf-bridge trace', () => {
  it('follows a customer message from its send_time through the pull to inbound.fifo, with the reply window it opened', async () => {
    const first = sim.sim.customerSays(openKfId, 'wmTraced', '你好');
    const sentAt = Math.floor(sim.sim.clock.now() / 1000) * 1000;
    sim.sim.clock.advance(2000);
    await pull();
    sim.sim.clock.advance(60_000);
    const secondAt = Math.floor(sim.sim.clock.now() / 1000) * 1000;
    const second = sim.sim.customerSays(openKfId, 'wmTraced', '还在吗');
    await pull();

    const traced = await trace(first, '--json');
    expect(traced.code).toBe(EXIT.done);
    expect(traced.json.matches).toEqual([
      { kind: 'inbound message', msgid: first, openKfId, customer: 'wmTraced' },
    ]);
    expect(traced.json.steps).toEqual([
      {
        step: 'received',
        outcome: 'ok',
        detail: `customer wmTraced in kf account ${openKfId} (send_time)`,
        at: iso(sentAt),
      },
      {
        step: 'pulled',
        outcome: 'ok',
        detail: "by kf/sync_msg, on the account's first page",
        at: expect.any(String),
      },
      { step: 'inbound.fifo', outcome: 'ok', detail: 'published to inbound.fifo', at: expect.any(String) },
      {
        step: 'reply window',
        outcome: 'ok',
        detail: `open until ${iso(secondAt + 48 * 3600_000)}: 5 of 5 replies left since the customer last wrote`,
        at: iso(secondAt),
      },
    ]);
    const [, pulled, published] = traced.json.steps as { at: string }[];
    expect(Date.parse(pulled?.at ?? '')).toBeGreaterThan(sentAt);
    expect(Date.parse(published?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(pulled?.at ?? ''));
    // The second message came on a later page, asked for with the cursor the first pull stored.
    const later = await trace(second, '--json');
    expect((later.json.steps as unknown[])[1]).toMatchObject({
      step: 'pulled',
      detail: expect.stringMatching(/^by kf\/sync_msg, on the page after cursor \S+$/),
    });
    const human = await trace(first);
    expect(human.code).toBe(EXIT.done);
    expect(human.stdout).toContain('steps:');
    expect(human.stdout).toMatch(/inbound\.fifo +ok +published to inbound\.fifo/);
  });

  it('tells a rejected, a failed and a sent reply apart, with the reason and errcode; a sent one by its kf msgid too', async () => {
    const rejected = await reply('wmNever', 'cold');
    expect(rejected.outcome).toMatchObject({ status: 'rejected' });
    sim.sim.customerSays(openKfId, 'wmReplied', '在吗');
    await pull();
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: 95009, count: 1 }]);
    const failed = await reply('wmReplied', 'menu');
    expect(failed.outcome).toMatchObject({ status: 'failed', errcode: 95009 });
    const sent = await reply('wmReplied', 'hello');
    expect(sent.outcome).toMatchObject({ status: 'sent' });

    const steps = async (id: string) => (await trace(id, '--json')).json.steps;
    expect(await steps(rejected.request.requestId)).toEqual([
      { step: 'attempts', outcome: 'ok', detail: '1 attempt by the sender' },
      {
        step: 'outcome',
        outcome: 'refused',
        detail: `request ${rejected.request.requestId}: rejected: no customer message in the last 48 h`,
        at: expect.any(String),
      },
    ]);
    expect(await steps(failed.request.requestId)).toEqual([
      { step: 'attempts', outcome: 'ok', detail: '1 attempt by the sender' },
      {
        step: 'outcome',
        outcome: 'refused',
        detail: expect.stringMatching(
          new RegExp(`^request ${failed.request.requestId}: failed: .+ \\(errcode 95009\\)$`),
        ),
        at: expect.any(String),
      },
    ]);
    const sentSteps = [
      { step: 'attempts', outcome: 'ok', detail: '1 attempt by the sender' },
      {
        step: 'outcome',
        outcome: 'ok',
        detail: `request ${sent.request.requestId}: sent`,
        at: expect.any(String),
      },
    ];
    expect(await steps(sent.request.requestId)).toEqual(sentSteps);
    const byMsgid = await trace(msgidFor(sent.request), '--json');
    expect(byMsgid.json.matches).toEqual([
      { kind: 'reply', requestId: sent.request.requestId, msgid: msgidFor(sent.request) },
    ]);
    expect(byMsgid.json.steps).toEqual(sentSteps);
  });

  it('says so when nothing has the id, as a not-found answer', async () => {
    const missing = await trace('no-such-id', '--json');
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.json.error).toBe(
      `nothing of app '${app}' has the id no-such-id: no kf customer message pulled in the last 96 h, no reply request or kf reply msgid of the last 30 days, no outbound dead letter (Official Account messages are not kept by id)`,
    );
    const human = await trace('no-such-id');
    expect(human.stderr).toMatch(/^kf-bridge: nothing of app '.+' has the id no-such-id: /);
    expect(human.stdout).toBe('');
  });
});
