import type { Context, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { callbackWiring } from '../../lib/callback/wiring';
import type { SyncJob } from '../../lib/contracts/syncJob';
import { inboundQuarantine } from '../../lib/inbound/quarantine';
import { createLogger } from '../../lib/logger';
import { createMetrics, METRICS_NAMESPACE, meterOf } from '../../lib/metrics';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { itemStores, localS3Objects, localStack, purge, queueClient, sqsClient } from '../support/aws';
import { captureOutput } from '../support/metrics';
import { mpCipher, mpPost, mpTextXml, testConfig, testEnv } from '../support/wechat';

const stack = localStack();
const sqs = sqsClient();
const syncJobsUrl = stack.queues.SyncJobsQueue ?? '';
const inboundUrl = stack.queues.InboundQueue ?? '';
const outboundUrl = stack.queues.OutboundQueue ?? '';
/** Names of its own, so cursors, ledgers and tokens stay apart from other tests' in the shared table. */
const app = `obs${Date.now().toString(36)}`;
const badApp = `obsbad${Date.now().toString(36)}`;
let sim: RunningSimulator;
/** A handler as the Lambda runtime calls it. */
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let handlers: { syncPuller: Handler; sender: Handler; tokenRefresh: Handler };
let output: ReturnType<typeof captureOutput>;

beforeAll(async () => {
  sim = await startSimulator();
  const env: Record<string, string> = {
    ...stack.env,
    SYNC_JOBS_QUEUE_URL: syncJobsUrl,
    INBOUND_QUEUE_URL: inboundUrl,
    OUTBOUND_QUEUE_URL: outboundUrl,
    STATE_TABLE: testEnv.STATE_TABLE,
    WECOM_CORP_ID: testEnv.WECOM_CORP_ID,
    WECOM_KF_SECRET: testEnv.WECOM_KF_SECRET,
    WECOM_CALLBACK_TOKEN: testEnv.WECOM_CALLBACK_TOKEN,
    WECOM_ENCODING_AES_KEY: testEnv.WECOM_ENCODING_AES_KEY,
    WECOM_API_BASE: sim.url,
    KF_BRIDGE_APPS: `${app},${badApp}`,
    KF_BRIDGE_STAGE: 'test',
    // As Lambda sets it for an on-demand function: Powertools reports cold starts only then.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
  for (const name of [app, badApp]) {
    const prefix = name.toUpperCase();
    env[`${prefix}_WECOM_CORP_ID`] = testEnv.WECOM_CORP_ID;
    env[`${prefix}_WECOM_KF_SECRET`] =
      name === badApp ? 'a-secret-wecom-never-issued' : testEnv.WECOM_KF_SECRET;
    env[`${prefix}_WECOM_CALLBACK_TOKEN`] = testEnv.WECOM_CALLBACK_TOKEN;
    env[`${prefix}_WECOM_ENCODING_AES_KEY`] = testEnv.WECOM_ENCODING_AES_KEY;
    env[`${prefix}_WECOM_API_BASE`] = sim.url;
  }
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  handlers = {
    syncPuller: ((await import('../../functions/syncPuller')) as unknown as { handler: Handler }).handler,
    sender: ((await import('../../functions/sender')) as unknown as { handler: Handler }).handler,
    tokenRefresh: ((await import('../../functions/tokenRefresh')) as unknown as { handler: Handler }).handler,
  };
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await sim.stop();
});
beforeEach(async () => {
  sim.sim.reset();
  sim.sim.createCorp({ corpId: testEnv.WECOM_CORP_ID, secrets: [testEnv.WECOM_KF_SECRET] });
  await purge(sqs, syncJobsUrl, inboundUrl, outboundUrl);
  output = captureOutput();
});
afterEach(() => output.restore());

let invocations = 0;
/** A Lambda context as the runtime hands it, with a request id of its own. */
function lambdaContext(functionName: string): Context {
  invocations++;
  return {
    awsRequestId: `request-${invocations}`,
    functionName: `kf-bridge-test-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:ap-southeast-1:000000000000:function:kf-bridge-test-${functionName}`,
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: () => 30_000,
  } as unknown as Context;
}

const sqsRecord = (messageId: string, group: string, body: unknown) =>
  ({
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: JSON.stringify(body),
    attributes: { MessageGroupId: group, ApproximateReceiveCount: '1' },
  }) as unknown as SQSRecord;

/** The log lines of one invocation, by its request id. */
const linesOf = (requestId: string) => output.logs().filter((line) => line.function_request_id === requestId);

describe('the functions log every line with their invocation, and each record with its message', () => {
  it('syncPuller: the Lambda context and cold start on every line, the job record on its own, sync lag as a metric', async () => {
    const openKfId = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '客服');
    const job = (): SyncJob => ({
      schema: 'kf-bridge.sync-job/v1',
      app,
      openKfId,
      receivedAt: new Date(sim.sim.clock.now()).toISOString(),
    });
    const group = `${app}#${openKfId}`;

    sim.sim.customerSays(openKfId, 'wmObserved', '你好');
    const cold = lambdaContext('syncPuller');
    await handlers.syncPuller({ Records: [sqsRecord('job-1', group, job())] }, cold);
    sim.sim.customerSays(openKfId, 'wmObserved', '还在吗');
    const warm = lambdaContext('syncPuller');
    await handlers.syncPuller({ Records: [sqsRecord('job-2', group, job())] }, warm);

    for (const [context, coldStart, messageId] of [
      [cold, true, 'job-1'],
      [warm, false, 'job-2'],
    ] as const) {
      const lines = linesOf(context.awsRequestId);
      expect(lines.map((line) => line.message)).toEqual(
        expect.arrayContaining(['sync page published', 'sync job done']),
      );
      for (const line of lines)
        expect(line).toMatchObject({
          cold_start: coldStart,
          function_name: context.functionName,
          service: 'syncPuller',
        });
      // The record's lines carry its message id and group; Powertools' child loggers would say cold_start: true.
      expect(lines.find((line) => line.message === 'sync job done')).toMatchObject({ messageId, group });
    }
    expect(output.logs().filter((line) => line.function_request_id === undefined)).toEqual([]);
    // The app's first call fetched its token, for the record that made it.
    expect(linesOf(cold.awsRequestId).find((line) => line.message === 'token fetched')).toMatchObject({
      app,
      messageId: 'job-1',
      group,
    });

    // Flushed at the end of each invocation, by the function alone: what the sync-lag alarm reads.
    const lagLine = {
      namespace: METRICS_NAMESPACE,
      dimensions: [['service', 'stage']],
      unit: 'Seconds',
      values: { service: 'syncPuller', stage: 'test' },
      value: expect.any(Number),
    };
    expect(output.metric('SyncLagSeconds')).toEqual([lagLine, lagLine]);
  });

  it('sender: a reply by its recorded status, with the record on its lines', async () => {
    const openKfId = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '客服');
    const group = `${app}#${openKfId}#wmNobodyWrote`;
    const request = {
      schema: 'kf-bridge.outbound/v1',
      requestId: `obs-${Date.now().toString(36)}`,
      app,
      channel: 'kf',
      openKfId,
      externalUserId: 'wmNobodyWrote',
      message: { type: 'text', content: '您好' },
    };
    const context = lambdaContext('sender');
    // The customer never wrote: the 48-hour window is shut, so the reply is rejected without a send.
    await expect(
      handlers.sender({ Records: [sqsRecord('reply-1', group, request)] }, context),
    ).resolves.toEqual({ batchItemFailures: [] });

    expect(
      linesOf(context.awsRequestId).find((line) => line.message === 'outbound request done'),
    ).toMatchObject({
      status: 'rejected',
      messageId: 'reply-1',
      group,
      cold_start: true,
    });
    const counted = { namespace: METRICS_NAMESPACE, unit: 'Count', value: 1 };
    expect(output.metric('Replies')).toEqual([
      {
        ...counted,
        dimensions: [['service', 'stage', 'status']],
        values: { service: 'sender', stage: 'test', status: 'rejected' },
      },
      {
        ...counted,
        dimensions: [['service', 'stage', 'app', 'channel', 'status']],
        values: { service: 'sender', stage: 'test', app, channel: 'kf', status: 'rejected' },
      },
    ]);
  });

  it('tokenRefresh: credentials rejected and the failed refresh, as metrics the alarms read', async () => {
    const context = lambdaContext('tokenRefresh');
    await expect(handlers.tokenRefresh({}, context)).rejects.toThrow(
      `token refresh failed for ${badApp}/wecom`,
    );

    const counted = { namespace: METRICS_NAMESPACE, unit: 'Count', value: 1 };
    const byFunction = { service: 'tokenRefresh', stage: 'test' };
    // The detail lines are written as the events happen; the function's own count when the invocation ends.
    expect(output.metric('TokenRefreshFailures')).toEqual([
      {
        ...counted,
        dimensions: [['service', 'stage', 'app', 'platform']],
        values: { ...byFunction, app: badApp, platform: 'wecom' },
      },
      { ...counted, dimensions: [['service', 'stage']], values: byFunction },
    ]);
    expect(output.metric('CredentialsRejected')).toEqual([
      {
        ...counted,
        dimensions: [['service', 'stage', 'app', 'platform', 'errcode']],
        values: { ...byFunction, app: badApp, platform: 'wecom', errcode: '40001' },
      },
      { ...counted, dimensions: [['service', 'stage']], values: byFunction },
    ]);
    expect(linesOf(context.awsRequestId).map((line) => line.message)).toEqual(
      expect.arrayContaining(['token credentials rejected', 'token refresh failed']),
    );
  });
});

describe("a platform call's lines carry the record that made it", () => {
  it('syncPuller: a refused sync_msg, with its errcode, the job record and group', async () => {
    const openKfId = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '客服');
    const group = `${app}#${openKfId}`;
    sim.sim.setFaults([{ endpoint: 'kf/sync_msg', kind: 'errcode', errcode: 95011 }]);
    const context = lambdaContext('syncPuller');
    const job: SyncJob = {
      schema: 'kf-bridge.sync-job/v1',
      app,
      openKfId,
      receivedAt: new Date(sim.sim.clock.now()).toISOString(),
    };
    await handlers.syncPuller({ Records: [sqsRecord('job-refused', group, job)] }, context);

    expect(linesOf(context.awsRequestId).find((line) => line.message === 'platform refused')).toMatchObject({
      app,
      path: '/cgi-bin/kf/sync_msg',
      errcode: 95011,
      messageId: 'job-refused',
      group,
    });
  });

  it('sender: a refused send, with its errcode, the reply record and group', async () => {
    const openKfId = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '客服');
    const customer = 'wmRefused';
    // The customer writes and the puller records it: the reply is within the customer's window.
    sim.sim.customerSays(openKfId, customer, '你好');
    const job: SyncJob = {
      schema: 'kf-bridge.sync-job/v1',
      app,
      openKfId,
      receivedAt: new Date(sim.sim.clock.now()).toISOString(),
    };
    await handlers.syncPuller(
      { Records: [sqsRecord('job-before-reply', `${app}#${openKfId}`, job)] },
      lambdaContext('syncPuller'),
    );
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: 95018 }]);
    const group = `${app}#${openKfId}#${customer}`;
    const request = {
      schema: 'kf-bridge.outbound/v1',
      requestId: `obs-refused-${Date.now().toString(36)}`,
      app,
      channel: 'kf',
      openKfId,
      externalUserId: customer,
      message: { type: 'text', content: '您好' },
    };
    const context = lambdaContext('sender');
    await handlers.sender({ Records: [sqsRecord('reply-refused', group, request)] }, context);

    expect(linesOf(context.awsRequestId).find((line) => line.message === 'platform refused')).toMatchObject({
      app,
      path: '/cgi-bin/kf/send_msg',
      errcode: 95018,
      messageId: 'reply-refused',
      group,
    });
  });
});

describe('the callback', () => {
  it('counts a refused push by platform, and by platform and reason, one line each and nothing held', async () => {
    const metrics = createMetrics('callback', createLogger('callback'), 'test');
    const callback = callbackWiring(testConfig(), {
      sqs: queueClient(),
      items: itemStores().signed,
      log: createLogger('callback'),
      meter: meterOf(metrics),
    });
    // After a rotation, the Official Account signs with a token kf-bridge does not have yet.
    const push = mpPost(mpTextXml('oRotated', '你好', '1'), {
      safe: true,
      cipher: { ...mpCipher, token: 'rotated' },
    });
    await expect(callback.handle(push)).rejects.toThrow('signature does not match');

    const counted = { namespace: METRICS_NAMESPACE, unit: 'Count', value: 1 };
    const byFunction = { service: 'callback', stage: 'test' };
    expect(output.metric('CallbackRejections')).toEqual([
      {
        ...counted,
        dimensions: [['service', 'stage', 'platform']],
        values: { ...byFunction, platform: 'mp' },
      },
      {
        ...counted,
        dimensions: [['service', 'stage', 'platform', 'reason']],
        values: { ...byFunction, platform: 'mp', reason: 'signature' },
      },
    ]);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});

describe('the inbound quarantine', () => {
  it('counts each message it keeps aside, by app and reason', async () => {
    const metrics = createMetrics('syncPuller', createLogger('syncPuller'), 'test');
    const quarantine = inboundQuarantine({
      s3: localS3Objects(),
      bucket: 'mediabucket',
      meter: meterOf(metrics),
    });
    const original = {
      schema: 'kf-bridge.inbound/v1',
      id: 'msg-too-large',
      app,
      channel: 'kf',
      account: 'wkObserved',
      customer: 'wmObserved',
      origin: 'customer',
      sentAt: 1_700_000_000,
      receivedAt: new Date(0).toISOString(),
      message: { type: 'text', content: '很长' },
    };
    await quarantine(
      { body: JSON.stringify(original), groupId: `${app}#wkObserved#wmObserved`, deduplicationId: 'dedup-1' },
      { reason: 'too_large', bytes: 300_000 },
    );

    metrics.publishStoredMetrics();
    const counted = { namespace: METRICS_NAMESPACE, unit: 'Count', value: 1 };
    const byFunction = { service: 'syncPuller', stage: 'test' };
    expect(output.metric('InboundQuarantined')).toEqual([
      {
        ...counted,
        dimensions: [['service', 'stage', 'app', 'reason']],
        values: { ...byFunction, app, reason: 'too_large' },
      },
      { ...counted, dimensions: [['service', 'stage']], values: byFunction },
    ]);
  });
});
