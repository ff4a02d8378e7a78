import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleAdminApi } from '../../lib/admin/adminApi';
import { adminDeps } from '../../lib/admin/wiring';
import { budgetChanges } from '../../lib/budgets';
import { parseConfig } from '../../lib/config/config';
import { parseInboundMessage } from '../../lib/contracts/inbound';
import { OUTBOUND_SCHEMA } from '../../lib/contracts/outbound';
import { type SyncJob, syncJobGroupId } from '../../lib/contracts/syncJob';
import { enqueueFallbackJobs, TOKENLESS_PULLS_PER_MINUTE } from '../../lib/inbound/fallback';
import { mediaArchiver } from '../../lib/inbound/media';
import { CHUNK_TIME_BUDGET_MS } from '../../lib/inbound/puller';
import { type InboundServices, syncJobHandler } from '../../lib/inbound/services';
import { syncPullerWiring } from '../../lib/inbound/wiring';
import type { Log } from '../../lib/logger';
import { NO_METRICS } from '../../lib/metrics';
import { sendRequest } from '../../lib/outbound/sender';
import type { PlatformDownload } from '../../lib/platform/client';
import { CALL_TIMEOUT_MS } from '../../lib/platform/client';
import { platformFor } from '../../lib/platform/wiring';
import { consumeFifo } from '../../lib/queue/fifoConsumer';
import { type RefusalRule, refuseBatchEntries, SQS_REFUSALS } from '../../local/sqsBatchRefusals';
import { type RunningSimulator, startSimulator } from '../../simulator';
import {
  drain,
  itemStores,
  localS3Objects,
  localStack,
  purge,
  queueClient,
  s3Client,
  sqsClient,
} from '../support/aws';
import { recordingLog } from '../support/recording';
import { testEnv } from '../support/wechat';

const stack = localStack();
const sqs = sqsClient();
const queue = queueClient();
/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
const inboundUrl = stack.queues.InboundQueue ?? '';
const syncJobsUrl = stack.queues.SyncJobsQueue ?? '';
let sim: RunningSimulator;
let services: InboundServices;
let openKfId: string;
let app: string;
let run = 0;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

beforeEach(async () => {
  run++;
  // A fresh app name per test keeps cursors and ledgers apart in the shared table.
  app = `puller${run}${Date.now().toString(36)}`;
  sim.sim.reset();
  sim.sim.createCorp({ corpId: testEnv.WECOM_CORP_ID, secrets: [testEnv.WECOM_KF_SECRET] });
  openKfId = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '客服');
  services = syncPullerWiring(parseConfig(configEnv()), {
    sqs: queue,
    items,
    log: recordingLog().log,
    meter: NO_METRICS,
    now: () => sim.sim.clock.now(),
  }).services;
  await purge(sqs, inboundUrl, syncJobsUrl);
});

/** The test app's settings, under a name of its own so cursors and ledgers stay apart in the shared table. */
function configEnv(): Record<string, string> {
  const prefix = app.toUpperCase();
  return {
    ...testEnv,
    SYNC_JOBS_QUEUE_URL: syncJobsUrl,
    INBOUND_QUEUE_URL: inboundUrl,
    OUTBOUND_QUEUE_URL: stack.queues.OutboundQueue ?? '',
    KF_BRIDGE_APPS: app,
    [`${prefix}_WECOM_CORP_ID`]: testEnv.WECOM_CORP_ID,
    [`${prefix}_WECOM_KF_SECRET`]: testEnv.WECOM_KF_SECRET,
    [`${prefix}_WECOM_CALLBACK_TOKEN`]: testEnv.WECOM_CALLBACK_TOKEN,
    [`${prefix}_WECOM_ENCODING_AES_KEY`]: testEnv.WECOM_ENCODING_AES_KEY,
    [`${prefix}_WECOM_API_BASE`]: sim.url,
  };
}

const job = (token?: string): SyncJob => ({
  schema: 'kf-bridge.sync-job/v1',
  app,
  openKfId,
  ...(token && { token }),
  receivedAt: new Date(sim.sim.clock.now()).toISOString(),
});
const record = (body: unknown, receiveCount = 1) =>
  ({
    messageId: `m${Math.random()}`,
    receiptHandle: 'r',
    body: JSON.stringify(body),
    attributes: { MessageGroupId: `${app}#${openKfId}`, ApproximateReceiveCount: String(receiveCount) },
  }) as unknown as SQSRecord;
const pull = (j = job(), remainingMs = 30_000) => syncJobHandler(services, () => remainingMs)(record(j));
const inbound = async () =>
  (await drain(sqs, inboundUrl)).map((m) => ({
    group: m.Attributes?.MessageGroupId,
    message: parseInboundMessage(JSON.parse(m.Body ?? '')),
  }));
const says = (customer: string, n: number) =>
  Array.from({ length: n }, (_, i) => sim.sim.customerSays(openKfId, customer, `${customer}-${i}`));

/**
 * The puller on an SQS client that answers SendMessageBatch as AWS does (size limit, character set, and
 * `rules`), with the media bucket set, so messages SQS will not take can be quarantined there.
 */
function awsLikeServices(options: { log?: Log; rules?: RefusalRule[] } = {}) {
  const awsLike = queueClient();
  refuseBatchEntries(awsLike, { ...(options.rules && { rules: options.rules }) });
  return syncPullerWiring(parseConfig({ ...configEnv(), MEDIA_BUCKET: 'mediabucket' }), {
    sqs: awsLike,
    items,
    s3: localS3Objects(),
    log: options.log ?? recordingLog().log,
    meter: NO_METRICS,
    now: () => sim.sim.clock.now(),
  }).services;
}

/** An image uploaded to the simulator, as a customer's photo would be there. */
async function uploadedImage(bytes = 'fake-jpeg-bytes-0123456789'): Promise<string> {
  const form = new FormData();
  form.append('media', new Blob([Buffer.from(bytes)]), 'photo.jpg');
  const token = (await fetch(
    `${sim.url}/cgi-bin/gettoken?corpid=${testEnv.WECOM_CORP_ID}&corpsecret=${testEnv.WECOM_KF_SECRET}`,
  ).then((r) => r.json())) as { access_token: string };
  const { media_id } = (await fetch(
    `${sim.url}/cgi-bin/media/upload?access_token=${token.access_token}&type=image`,
    { method: 'POST', body: form },
  ).then((r) => r.json())) as { media_id: string };
  return media_id;
}

describe('the sync puller', () => {
  it('publishes every new message once, in order, grouped per customer, and moves the cursor', async () => {
    const a = says('wmA', 3);
    const b = says('wmB', 2);
    expect(await pull()).toMatchObject({ pages: 1, published: 5, complete: true });
    const got = await inbound();
    expect(got.filter((m) => m.group === `${app}#${openKfId}#wmA`).map((m) => m.message.id)).toEqual(a);
    expect(got.filter((m) => m.group === `${app}#${openKfId}#wmB`).map((m) => m.message.id)).toEqual(b);
    expect(got[0]?.message).toMatchObject({
      channel: 'kf',
      account: openKfId,
      customer: 'wmA',
      message: { type: 'text', content: 'wmA-0' },
    });
    expect(await pull()).toMatchObject({ published: 0 });
    expect(await inbound()).toEqual([]);
    expect((await services.cursors.read(app, openKfId)).version).toBe(1);
  });

  it('pulls a kf account once for all of its jobs in a batch: each announced messages that pull reads', async () => {
    const wiring = syncPullerWiring(parseConfig(configEnv()), {
      sqs: queue,
      items,
      log: recordingLog().log,
      meter: NO_METRICS,
      now: () => sim.sim.clock.now(),
    });
    const written = says('wmBusy', 3);
    const pullsBefore = sim.sim.calls.get('kf/sync_msg') ?? 0;
    const response = await wiring.onBatch([record(job()), record(job()), record(job())], {
      remainingMs: () => 30_000,
    });
    expect(response.batchItemFailures).toEqual([]);
    expect((sim.sim.calls.get('kf/sync_msg') ?? 0) - pullsBefore).toBe(1);
    expect((await inbound()).map((m) => m.message.id)).toEqual(written);
    says('wmBusy', 1);
    // A later batch is a later pull.
    await wiring.onBatch([record(job())], { remainingMs: () => 30_000 });
    expect((sim.sim.calls.get('kf/sync_msg') ?? 0) - pullsBefore).toBe(2);
    expect(await inbound()).toHaveLength(1);
  });

  it("pulls again in the same batch with a later job's Token when the first job's Token was refused", async () => {
    const wiring = syncPullerWiring(parseConfig(configEnv()), {
      sqs: queue,
      items,
      log: recordingLog().log,
      meter: NO_METRICS,
      now: () => sim.sim.clock.now(),
    });
    for (const token of ['ENCspent', 'ENCfresh'])
      sim.sim.wecom.callbackTokens.set(token, {
        corpId: testEnv.WECOM_CORP_ID,
        openKfId,
        expiresAt: sim.sim.clock.now() + 600_000,
      });
    const written = says('wmRefusedToken', 2);
    sim.sim.setFaults([{ endpoint: 'kf/sync_msg', kind: 'errcode', errcode: 95007, count: 1 }]);
    const response = await wiring.onBatch([record(job('ENCspent')), record(job('ENCfresh'))], {
      remainingMs: () => 30_000,
    });
    expect(response.batchItemFailures).toEqual([]);
    // The refused pull handed on to a token-less job; the second job's own Token pulled the messages at once.
    expect((await inbound()).map((m) => m.message.id)).toEqual(written);
  });

  it('logs how long the oldest message of each published page waited, for the sync-lag alarm', async () => {
    const { log, lines } = recordingLog();
    services = { ...services, log };
    says('wmLag', 2);
    sim.sim.clock.advance(90_000);
    await pull();
    const published = lines.filter((line) => line.args[0] === 'sync page published');
    expect(published).toEqual([
      {
        level: 'info',
        args: ['sync page published', { app, openKfId, published: 2, lagSeconds: expect.any(Number) }],
      },
    ]);
    // send_time is in whole seconds: the wait reads 90 s or, across a second boundary, 91 s.
    expect((published[0]?.args[1] as { lagSeconds?: number } | undefined)?.lagSeconds).toBeOneOf([90, 91]);
  });

  it('pages past 1000 messages and through an empty page with has_more', async () => {
    says('wmMany', 1500);
    sim.sim.setFaults([{ endpoint: 'kf/sync_msg', kind: 'empty_page', count: 1 }]);
    expect(await pull()).toMatchObject({ pages: 3, published: 1500, complete: true });
    const got = await inbound();
    expect(got).toHaveLength(1500);
    expect(got.map((m) => m.message.message.type === 'text' && m.message.message.content)).toEqual(
      Array.from({ length: 1500 }, (_, i) => `wmMany-${i}`),
    );
  }, 60_000);

  it('publishes nothing twice when it crashes between publishing and committing the cursor', async () => {
    says('wmCrash', 4);
    const commit = services.cursors.commit.bind(services.cursors);
    let crashes = 1;
    services.cursors.commit = async (...args) => {
      if (crashes-- > 0) throw new Error('killed before the cursor commit');
      return commit(...args);
    };
    await expect(pull()).rejects.toThrow('killed before the cursor commit');
    expect(await pull()).toMatchObject({ published: 0, duplicates: 4 });
    expect(await inbound()).toHaveLength(4);
  });

  it('drops the whole 3-day replay when a cursor is lost', async () => {
    says('wmReplay', 5);
    await pull();
    await inbound();
    const read = services.cursors.read.bind(services.cursors);
    services.cursors.read = async (a, k) => ({ ...(await read(a, k)), cursor: undefined });
    services.cursors.commit = async () => true;
    expect(await pull()).toMatchObject({ published: 0, duplicates: 5 });
    expect(await inbound()).toEqual([]);
  });

  it('uses the callback Token while it is valid, and re-enqueues itself when out of time', async () => {
    says('wmTime', 2);
    expect(await pull(job(), 1000)).toMatchObject({ pages: 0, complete: false });
    const [continued] = await drain(sqs, syncJobsUrl);
    expect(continued?.Attributes?.MessageGroupId).toBe(syncJobGroupId(job()));
    expect(JSON.parse(continued?.Body ?? '')).toMatchObject({ app, openKfId });
    // Time for a chunk but not for sync_msg's own limit before it: the page waits for the next invocation.
    const pulls = sim.sim.calls.get('kf/sync_msg') ?? 0;
    expect(await pull(job(), CALL_TIMEOUT_MS + CHUNK_TIME_BUDGET_MS - 1)).toMatchObject({
      pages: 0,
      complete: false,
    });
    expect(sim.sim.calls.get('kf/sync_msg') ?? 0).toBe(pulls);
    await drain(sqs, syncJobsUrl);

    // A valid callback Token lifts sync_msg's limit of 10 token-less calls a minute.
    sim.sim.wecom.callbackTokens.set('ENCvalidToken', {
      corpId: testEnv.WECOM_CORP_ID,
      openKfId,
      expiresAt: sim.sim.clock.now() + 600_000,
    });
    for (let i = 0; i < 12; i++) expect((await pull(job('ENCvalidToken'))).complete).toBe(true);
    for (let i = 0; i < 10; i++) expect((await pull()).complete).toBe(true);
    await expect(pull()).rejects.toMatchObject({ errcode: 45009, retryable: true });
    // A Token past its 10 minutes is not sent.
    sim.sim.advanceClock(61_000);
    const stale = job('ENCvalidToken');
    sim.sim.advanceClock(600_000);
    for (let i = 0; i < 10; i++) await pull(stale);
    await expect(pull(stale)).rejects.toMatchObject({ errcode: 45009 });
  });

  it('pulls again without the callback Token when WeCom refuses it, since WeCom does not say how it answers an expired one', async () => {
    const ids = says('wmToken', 2);
    sim.sim.wecom.callbackTokens.set('ENCrefused', {
      corpId: testEnv.WECOM_CORP_ID,
      openKfId,
      expiresAt: sim.sim.clock.now() + 600_000,
    });
    // 95007 is published as an invalid or expired msgtoken.
    sim.sim.setFaults([{ endpoint: 'kf/sync_msg', kind: 'errcode', errcode: 95007, count: 1 }]);
    expect(await pull(job('ENCrefused'))).toMatchObject({ complete: false, published: 0 });
    const [again] = await drain(sqs, syncJobsUrl);
    const tokenless = JSON.parse(again?.Body ?? '{}') as SyncJob;
    expect(tokenless.token).toBeUndefined();
    expect(await pull(tokenless)).toMatchObject({ complete: true, published: 2 });
    expect((await inbound()).map((m) => m.message.id)).toEqual(ids);
    // A refusal that has nothing to do with the Token is the job's failure.
    sim.sim.setFaults([{ endpoint: 'kf/sync_msg', kind: 'errcode', errcode: 95000, count: 1 }]);
    await expect(pull(job('ENCrefused'))).rejects.toMatchObject({ errcode: 95000 });
    expect(await drain(sqs, syncJobsUrl)).toEqual([]);
  });

  it('reports a poison job as failed with its reason, and pulls the job behind it rather than holding it', async () => {
    const { log, lines } = recordingLog();
    const retries: number[] = [];
    const handle = syncJobHandler(services, () => 30_000);
    const response = await consumeFifo(
      [
        record({ not: 'a job' }),
        record(job()),
        {
          ...record(job()),
          attributes: { MessageGroupId: 'other', ApproximateReceiveCount: '3' },
        } as SQSRecord,
      ],
      async (r) => {
        if (r.attributes.MessageGroupId === 'other') throw Object.assign(new Error('transient'), {});
        await handle(r);
      },
      { log, retryIn: async (_, seconds) => void retries.push(seconds) },
    );
    expect(response.batchItemFailures).toHaveLength(2);
    expect(retries).toEqual([0, 4]);
    expect(lines.find((l) => l.level === 'error')?.args[1]).toMatchObject({
      reason: expect.stringContaining('sync job: schema'),
    });
  });

  it('enqueues a fallback job per known and listed kf account, once per minute', async () => {
    says('wmKnown', 1);
    await pull();
    const second = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '第二个');
    await enqueueFallbackJobs(services);
    await enqueueFallbackJobs(services);
    const jobs = (await drain(sqs, syncJobsUrl)).map((m) => JSON.parse(m.Body ?? '').openKfId);
    expect(jobs.sort()).toEqual([openKfId, second].sort());
  });

  it('pulls only accounts handed to the API, and retires an account WeCom says is gone', async () => {
    says('wmKnown', 1);
    await pull();
    const gone = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '将删除');
    sim.sim.customerSays(gone, 'wmGone', 'hi');
    await syncJobHandler(services, () => 30_000)(record({ ...job(), openKfId: gone }));
    expect((await services.cursors.known(app)).map((a) => a.openKfId).sort()).toEqual(
      [openKfId, gone].sort(),
    );
    const consoleOnly = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '人工', { managedByApi: false });
    sim.sim.wecom.accounts.delete(gone);
    await purge(sqs, syncJobsUrl);

    // The list no longer shows the deleted account: its pull lets WeCom say so (95004), and it is retired.
    await enqueueFallbackJobs(services);
    const jobs = (await drain(sqs, syncJobsUrl)).map((m) => JSON.parse(m.Body ?? '') as SyncJob);
    expect(jobs.map((j) => j.openKfId).sort()).toEqual([openKfId, gone].sort());
    expect(jobs.map((j) => j.openKfId)).not.toContain(consoleOnly);
    for (const j of jobs) expect(await pull(j)).toMatchObject({ complete: true });
    expect((await services.cursors.known(app)).map((a) => a.openKfId)).toEqual([openKfId]);
    sim.sim.advanceClock(60_000);
    await enqueueFallbackJobs(services);
    expect((await drain(sqs, syncJobsUrl)).map((m) => JSON.parse(m.Body ?? '').openKfId)).toEqual([openKfId]);
  });

  it('answers a job for a deleted account by retiring its cursor, not by failing into the dead-letter queue', async () => {
    says('wmKnown', 1);
    await pull();
    sim.sim.wecom.accounts.delete(openKfId);
    expect(await pull()).toMatchObject({ complete: true, published: 0 });
    expect(await services.cursors.known(app)).toEqual([]);
  });

  it("keeps pulls without a callback Token within WeCom's 10 a minute per corp, and reaches every quiet account in turn", async () => {
    const quiet = Array.from({ length: 20 }, (_, i) =>
      sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, `客服${i}`),
    );
    const all = [openKfId, ...quiet];
    const reached = new Set<string>();
    for (let minute = 0; minute < 3; minute++) {
      await enqueueFallbackJobs(services);
      const jobs = (await drain(sqs, syncJobsUrl)).map((m) => JSON.parse(m.Body ?? '') as SyncJob);
      expect(jobs.length).toBeLessThanOrEqual(TOKENLESS_PULLS_PER_MINUTE);
      // Every job of the minute goes through: WeCom never blocks the corp with 45009.
      for (const j of jobs) {
        await syncJobHandler(services, () => 30_000)(record(j));
        reached.add(j.openKfId);
      }
      sim.sim.advanceClock(60_000);
    }
    expect([...reached].sort()).toEqual(all.sort());
    // A schedule that runs every 5 minutes still enqueues no more than a minute's allowance at once.
    await enqueueFallbackJobs({ ...services, periodMs: 300_000 });
    expect((await drain(sqs, syncJobsUrl)).length).toBe(TOKENLESS_PULLS_PER_MINUTE);
  });

  it('archives media files to S3 before publishing, and publishes without them once WeCom dropped them', async () => {
    const s3 = s3Client();
    const archiving = syncPullerWiring(
      parseConfig({ ...configEnv(), INBOUND_MEDIA_TO_S3: 'true', MEDIA_BUCKET: 'mediabucket' }),
      {
        sqs: queue,
        items,
        s3: localS3Objects(),
        log: recordingLog().log,
        meter: NO_METRICS,
        now: () => sim.sim.clock.now(),
      },
    ).services;
    const media_id = await uploadedImage();
    const msgid = sim.sim.customerWrites(openKfId, 'wmPhoto', { msgtype: 'image', image: { media_id } });
    sim.sim.customerWrites(openKfId, 'wmPhoto', {
      msgtype: 'image',
      image: { media_id: 'expired-or-unknown' },
    });
    await syncJobHandler(archiving, () => 30_000)(record(job()));
    const [withFile, without] = await inbound();
    expect(withFile?.message).toMatchObject({
      id: msgid,
      media: { bucket: 'mediabucket', contentType: 'image/jpeg', bytes: 26 },
    });
    const object = await s3.send(
      new GetObjectCommand({ Bucket: 'mediabucket', Key: withFile?.message.media?.key }),
    );
    expect(await object.Body?.transformToString()).toBe('fake-jpeg-bytes-0123456789');
    expect(without?.message.media).toBeUndefined();
    expect(without?.message.mediaNotArchived).toEqual({ reason: 'unavailable' });
  });

  it('archives a page of slow files over several invocations, each within its time, publishing every message once, in order', async () => {
    const s3 = localS3Objects();
    const log = recordingLog().log;
    const now = () => sim.sim.clock.now();
    const config = parseConfig({ ...configEnv(), INBOUND_MEDIA_TO_S3: 'true', MEDIA_BUCKET: 'mediabucket' });
    const media_id = await uploadedImage();
    const ids = Array.from({ length: 30 }, () =>
      sim.sim.customerWrites(openKfId, 'wmSlowFiles', { msgtype: 'image', image: { media_id } }),
    );
    // Each media/get takes 2.5 s of the invocation's 30 s; past them, Lambda kills the invocation.
    let spentMs = 0;
    let downloads = 0;
    const download = platformFor(config, items, log, NO_METRICS, now).download;
    const slowDownload: PlatformDownload = async (...args) => {
      downloads++;
      spentMs += 2500;
      if (spentMs > 30_000) throw new Error('Lambda killed the invocation at its timeout');
      return download(...args);
    };
    const slow: InboundServices = {
      ...syncPullerWiring(config, { sqs: queue, items, s3, log, meter: NO_METRICS, now }).services,
      archiveMedia: mediaArchiver({ config, bucket: 'mediabucket', download: slowDownload, s3, now, log }),
    };

    let pending = job();
    let killed = 0;
    for (let invocation = 0; invocation < 10; invocation++) {
      spentMs = 0;
      const report = await syncJobHandler(
        slow,
        () => 30_000 - spentMs,
      )(record(pending)).catch(() => {
        // SQS delivers the killed invocation's job again.
        killed++;
        return undefined;
      });
      if (report?.complete) break;
      if (report) pending = JSON.parse((await drain(sqs, syncJobsUrl))[0]?.Body ?? '{}');
    }
    const got = await inbound();
    expect(got.map((m) => m.message.id)).toEqual(ids);
    expect(got.every((m) => m.message.media?.bucket === 'mediabucket')).toBe(true);
    expect(killed).toBe(0);
    // A continuation re-reads the page, and the ledger keeps it from fetching a file twice.
    expect(downloads).toBe(30);
  }, 60_000);

  it('publishes a file that cannot be downloaded in time without it, saying why, and leaves one cut short by the pull to the next', async () => {
    const archiving = syncPullerWiring(
      parseConfig({ ...configEnv(), INBOUND_MEDIA_TO_S3: 'true', MEDIA_BUCKET: 'mediabucket' }),
      {
        sqs: queue,
        items,
        s3: localS3Objects(),
        log: recordingLog().log,
        meter: NO_METRICS,
        now: () => sim.sim.clock.now(),
      },
    ).services;
    const media_id = await uploadedImage();
    const [late, next] = [1, 2].map(() =>
      sim.sim.customerWrites(openKfId, 'wmLateFile', { msgtype: 'image', image: { media_id } }),
    );
    sim.sim.setFaults([{ endpoint: 'media/get', kind: 'latency', ms: 6000, count: 2 }]);
    // The page begins with time for sync_msg and a chunk; once the page is read, 3 s are left for files: the first
    // download is all the pull can do, the second can wait.
    let checks = 0;
    const shortOfTime = () =>
      checks++ === 0 ? CALL_TIMEOUT_MS + CHUNK_TIME_BUDGET_MS : CHUNK_TIME_BUDGET_MS + 3000;
    expect(await syncJobHandler(archiving, shortOfTime)(record(job()))).toMatchObject({
      published: 1,
      complete: false,
    });
    const first = await inbound();
    expect(first.map((m) => m.message.id)).toEqual([late]);
    expect(first[0]?.message).toMatchObject({ mediaNotArchived: { reason: 'timeout' } });
    expect(first[0]?.message.media).toBeUndefined();

    const [continuation] = await drain(sqs, syncJobsUrl);
    expect(
      await syncJobHandler(archiving, () => 30_000)(record(JSON.parse(continuation?.Body ?? '{}'))),
    ).toMatchObject({ published: 1, duplicates: 1, complete: true });
    const second = await inbound();
    expect(second.map((m) => m.message.id)).toEqual([next]);
    expect(second[0]?.message.media).toMatchObject({ bucket: 'mediabucket', bytes: 26 });
  }, 30_000);

  it("publishes customers' emoji and characters SQS refuses, as JSON that reads back the same, and moves the cursor", async () => {
    services = awsLikeServices();
    const texts = ['好的👍', 'odd \uffff character', '最后一条'];
    const ids = texts.map((text) => sim.sim.customerSays(openKfId, 'wmEmoji', text));
    expect(await pull()).toMatchObject({ published: 3, complete: true });
    const got = await inbound();
    expect(got.map((m) => m.message.id)).toEqual(ids);
    expect(got.map((m) => m.message.message)).toEqual(texts.map((content) => ({ type: 'text', content })));
    expect((await services.cursors.read(app, openKfId)).version).toBe(1);
  });

  it("keeps a message over SQS's size limit in S3 and publishes a stand-in in its place, so the account moves on", async () => {
    const { log, lines, textAboveDebug } = recordingLog();
    services = awsLikeServices({ log });
    const before = sim.sim.customerSays(openKfId, 'wmHuge', 'before');
    const huge = sim.sim.customerWrites(openKfId, 'wmHuge', {
      msgtype: 'merged_msg',
      merged_msg: {
        title: '聊天记录',
        item: Array.from({ length: 3000 }, (_, i) => ({
          send_time: 1_700_000_000 + i,
          msgtype: 'text',
          sender_name: '客户',
          msg_content: JSON.stringify({ text: { content: `第${i}条：一段很长的聊天记录` } }),
        })),
      },
    });
    const after = sim.sim.customerSays(openKfId, 'wmHuge', 'after');
    expect(await pull()).toMatchObject({ published: 3, complete: true });
    expect((await services.cursors.read(app, openKfId)).version).toBe(1);

    const got = (await inbound()).map((m) => m.message);
    expect(got.map((m) => m.id)).toEqual([before, huge, after]);
    const standIn = got[1];
    expect(standIn).toMatchObject({
      app,
      channel: 'kf',
      account: openKfId,
      customer: 'wmHuge',
      origin: 'customer',
      message: {
        type: 'quarantined',
        originalType: 'merged_msg',
        reason: 'too_large',
        bytes: expect.any(Number),
        content: { bucket: 'mediabucket', key: expect.stringMatching(/^quarantine\//) },
      },
    });
    const content = standIn?.message.type === 'quarantined' ? standIn.message.content : undefined;
    const kept = await s3Client().send(new GetObjectCommand({ Bucket: content?.bucket, Key: content?.key }));
    expect(parseInboundMessage(JSON.parse((await kept.Body?.transformToString()) ?? ''))).toMatchObject({
      id: huge,
      message: { type: 'merged_msg', title: '聊天记录' },
    });
    expect(
      lines.filter((line) => line.args[0] === 'message quarantined').map((line) => line.args[1]),
    ).toEqual([expect.objectContaining({ group: `${app}#${openKfId}#wmHuge`, reason: 'too_large' })]);
    expect(textAboveDebug()).not.toContain('聊天记录');
  });

  it('records what went through when SQS refuses one entry, so a retry after its 5-minute deduplication repeats nothing', async () => {
    const a = says('wmPartA', 3);
    const b = says('wmPartB', 2);
    let refusals = 1;
    services = awsLikeServices({
      rules: [
        (entry) =>
          entry.MessageBody?.includes(`"id":"${a[1]}"`) && refusals-- > 0
            ? SQS_REFUSALS.internalError
            : undefined,
      ],
    });
    await expect(pull()).rejects.toMatchObject({ retryable: true });
    expect([...(await services.ledger.seen(app, openKfId, [...a, ...b]))].sort()).toEqual(
      [a[0], ...b].sort(),
    );
    expect(await pull()).toMatchObject({ published: 2, duplicates: 3, complete: true });
    const got = await inbound();
    expect(got.filter((m) => m.message.customer === 'wmPartA').map((m) => m.message.id)).toEqual(a);
    expect(got.filter((m) => m.message.customer === 'wmPartB').map((m) => m.message.id)).toEqual(b);
  });

  it('requests the configured welcome and closing messages on outbound.fifo, once per event', async () => {
    const prefix = app.toUpperCase();
    const replying = syncPullerWiring(
      parseConfig({
        ...configEnv(),
        [`${prefix}_WECOM_WELCOME_TEXT`]: '欢迎！',
        [`${prefix}_WECOM_CLOSING_TEXT`]: '再见！',
      }),
      {
        sqs: queue,
        items,
        log: recordingLog().log,
        meter: NO_METRICS,
        now: () => sim.sim.clock.now(),
      },
    ).services;
    const welcomeCode = sim.sim.enterSession(openKfId, 'wmHello');
    sim.sim.customerSays(openKfId, 'wmHello', 'hi');
    const endCode = sim.sim.servicerChangesSession(openKfId, 'wmHello', 'end');
    await syncJobHandler(replying, () => 30_000)(record(job()));
    await syncJobHandler(replying, () => 30_000)(record(job()));
    const requests = (await drain(sqs, stack.queues.OutboundQueue ?? '')).map((m) => ({
      group: m.Attributes?.MessageGroupId,
      body: JSON.parse(m.Body ?? ''),
    }));
    expect(requests.map((r) => r.body.message)).toEqual([
      { type: 'event_reply', code: welcomeCode, message: { type: 'text', content: '欢迎！' } },
      { type: 'event_reply', code: endCode, message: { type: 'text', content: '再见！' } },
    ]);
    expect(requests[0]?.group).toBe(`${app}#${openKfId}#wmHello`);
    expect(requests[0]?.body.requestId).toMatch(/^welcome-/);
  });
});

describe('kf sessions across pulls hours apart', () => {
  const HOUR = 3600_000;
  const ADMIN_KEY = 'puller-test-admin-key-0123';

  /** A reply through the sender, as a company's system would ask for it. */
  const reply = (customer: string) =>
    sendRequest(
      {
        schema: OUTBOUND_SCHEMA,
        requestId: `reply-${Math.random().toString(36).slice(2)}`,
        app,
        channel: 'kf',
        openKfId,
        externalUserId: customer,
        message: { type: 'text', content: '您好' },
      },
      {
        config: services.config,
        call: services.call,
        ledger: services.sendLedger,
        budgets: services.budgets,
        now: () => sim.sim.clock.now(),
        log: recordingLog().log,
        meter: NO_METRICS,
      },
    );

  /** `sessions trans` through the admin API, on the simulator's clock. */
  async function adminMoves(customer: string, state: string, servicerUserId?: string) {
    const config = parseConfig({ ...configEnv(), ADMIN_API_KEY: ADMIN_KEY });
    const deps = adminDeps(config, items, localS3Objects(), sqs, recordingLog().log, NO_METRICS, () =>
      sim.sim.clock.now(),
    );
    return handleAdminApi(
      {
        method: 'POST',
        path: `/v1/admin/kf/accounts/${openKfId}/sessions/${customer}/trans`,
        query: { app },
        headers: { 'x-api-key': ADMIN_KEY },
        body: JSON.stringify({ state, ...(servicerUserId && { servicerUserId }) }),
      },
      deps,
    );
  }

  const servicers = (...userIds: string[]) => {
    for (const userId of userIds)
      sim.sim.wecom.accounts.get(openKfId)?.servicers.set(userId, { status: 0, stopType: 0 });
  };

  it('reopens a session a servicer ended once the customer writes again, and a replayed page does not end it again', async () => {
    sim.sim.customerSays(openKfId, 'wmEnded', '在吗');
    sim.sim.clock.advance(60_000);
    sim.sim.servicerChangesSession(openKfId, 'wmEnded', 'take', 'alice');
    sim.sim.clock.advance(60_000);
    sim.sim.servicerChangesSession(openKfId, 'wmEnded', 'end');
    await pull();
    const firstPage = (await inbound()).map((m) => m.message);
    expect(await reply('wmEnded')).toMatchObject({
      status: 'rejected',
      reason: 'the session has ended; the customer has not written since',
    });

    sim.sim.clock.advance(5 * HOUR);
    sim.sim.customerSays(openKfId, 'wmEnded', '我又来了');
    await pull();
    expect(await reply('wmEnded')).toMatchObject({ status: 'sent' });
    // The first page pulled again, as after a crash: its older end event must not close the new session.
    for (const change of budgetChanges(firstPage)) await services.budgets.apply(change);
    expect(await reply('wmEnded')).toMatchObject({ status: 'sent' });
    expect(sim.sim.wecom.sent.map((sent) => sent.touser)).toEqual(['wmEnded', 'wmEnded']);
  });

  it('follows admin moves: queued and servicer sessions refuse replies, an ended one reopens when the customer writes', async () => {
    servicers('alice');
    sim.sim.customerSays(openKfId, 'wmMoved', '你好');
    await pull();
    expect(await reply('wmMoved')).toMatchObject({ status: 'sent' });

    expect(await adminMoves('wmMoved', 'queued')).toMatchObject({ status: 200 });
    expect(await reply('wmMoved')).toMatchObject({
      status: 'rejected',
      reason: 'the session is queued for a servicer',
    });
    sim.sim.clock.advance(60_000);
    sim.sim.servicerChangesSession(openKfId, 'wmMoved', 'take', 'alice');
    await pull();
    expect(await reply('wmMoved')).toMatchObject({
      status: 'rejected',
      reason: 'a servicer has the session',
    });

    sim.sim.clock.advance(HOUR);
    expect(await adminMoves('wmMoved', 'ended')).toMatchObject({ status: 200 });
    sim.sim.clock.advance(3 * HOUR);
    sim.sim.customerSays(openKfId, 'wmMoved', '还有问题');
    await pull();
    expect(await reply('wmMoved')).toMatchObject({ status: 'sent' });

    expect(await adminMoves('wmMoved', 'servicer', 'alice')).toMatchObject({ status: 200 });
    expect(await reply('wmMoved')).toMatchObject({
      status: 'rejected',
      reason: 'a servicer has the session',
    });
    expect(sim.sim.wecom.sent).toHaveLength(2);
  });

  it("lets a servicer's session lapse 48 h after the customer began it: their next message starts a new one", async () => {
    sim.sim.customerSays(openKfId, 'wmLapsed', '你好');
    sim.sim.clock.advance(60_000);
    sim.sim.servicerChangesSession(openKfId, 'wmLapsed', 'take', 'alice');
    await pull();
    expect(await reply('wmLapsed')).toMatchObject({
      status: 'rejected',
      reason: 'a servicer has the session',
    });

    // Within the session's 48 h, the customer writing again changes nothing: the servicer still has it.
    sim.sim.clock.advance(2 * HOUR);
    sim.sim.customerSays(openKfId, 'wmLapsed', '还在吗');
    await pull();
    expect(await reply('wmLapsed')).toMatchObject({
      status: 'rejected',
      reason: 'a servicer has the session',
    });

    // 49 h after the session began (47 h after the customer's last message) the session is over.
    sim.sim.clock.advance(47 * HOUR);
    sim.sim.customerSays(openKfId, 'wmLapsed', '有人吗');
    await pull();
    expect(await reply('wmLapsed')).toMatchObject({ status: 'sent' });
    expect(sim.sim.wecom.sent.map((sent) => sent.touser)).toEqual(['wmLapsed']);
  });
});
