import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleAdminApi } from '../../lib/admin/adminApi';
import { adminDeps } from '../../lib/admin/wiring';
import { s3ObjectsFor } from '../../lib/aws/s3';
import { parseConfig } from '../../lib/config/config';
import {
  APP_SETTINGS,
  appSettingNames,
  FUNCTION_NAMES,
  FUNCTION_SETTINGS,
  type FunctionName,
  GLOBAL_SETTINGS,
  settingName,
} from '../../lib/config/functionSettings';
import { withSsmParameters } from '../../lib/config/ssm';
import { createSsmReader, ssmTarget } from '../../lib/config/ssmReader';
import { CursorStore } from '../../lib/inbound/cursors';
import { MessageLedger } from '../../lib/inbound/ledger';
import { itemStoreFor } from '../../lib/items/signedItemStore';
import { NO_METRICS } from '../../lib/metrics';
import { SendLedger } from '../../lib/outbound/sendLedger';
import { type E2eResult, runInboundE2e } from '../../local/e2e';
import {
  type AwsCall,
  actingAs,
  createAwsCallLog,
  recordAwsCalls,
  recordSignedCalls,
  recordSsmRequest,
} from '../../local/metering';
import { ROOT } from '../../local/serviceDefinition';
import { startSimulator } from '../../simulator';
import { itemStores, localS3Objects, localStack, s3Client, sqsClient } from '../support/aws';
import { createQueuePairs } from '../support/deadLetterQueues';
import { allows, type Placement, type PolicyDocument, rolePolicies } from '../support/iamPolicies';
import { type MotoServer, startMotoServer } from '../support/moto';
import { describeWithPythonTools } from '../support/pythonTools';
import { recordingLog } from '../support/recording';
import { type RecordingProxy, startRecordingProxy } from '../support/recordingProxy';
import { packageProd, readTemplate, type Template } from '../support/serverlessPackage';
import { testEnv } from '../support/wechat';

let template: Template;
/** The prod stage's resources placed in one made-up account, each named after its logical id. */
let prod: Placement;
let prefix: string;

beforeAll(async () => {
  const folder = await packageProd();
  template = await readTemplate(folder);
  await rm(folder, { recursive: true, force: true });
  prod = {
    accountId: '123456789012',
    region: 'ap-southeast-1',
    physicalIds: Object.fromEntries(Object.keys(template.Resources).map((id) => [id, id.toLowerCase()])),
  };
  prefix = template.Resources.CallbackLambdaFunction?.Properties.Environment.Variables.KF_BRIDGE_SSM_PREFIX;
}, 180_000);

const parameterArn = (placement: Pick<Placement, 'region' | 'accountId'>, name: string) =>
  `arn:aws:ssm:${placement.region}:${placement.accountId}:parameter${name}`;

/** The calls of `calls` that `functionName`'s role refuses, as `action resource keys`. */
async function deniedTo(
  functionName: FunctionName,
  calls: readonly Omit<AwsCall, 'functionName'>[],
  target: Placement,
) {
  const denied: string[] = [];
  for (const call of calls)
    if (!(await allows(rolePolicies(template, functionName, target), call, target.accountId)))
      denied.push(`${call.action} ${call.resource} ${call.leadingKeys?.join(',') ?? ''}`);
  return denied;
}

/**
 * What the messages API does itself, which an admin call may do too: put a request on outbound.fifo (a redriven
 * reply) and read or write its send ledger (SEND#).
 */
const messagesApisOwn = (call: AwsCall, target: Placement) =>
  (call.action === 'sqs:SendMessage' &&
    call.resource ===
      `arn:aws:sqs:${target.region}:${target.accountId}:${target.physicalIds.OutboundQueue}`) ||
  (['dynamodb:GetItem', 'dynamodb:UpdateItem'].includes(call.action) &&
    !!call.leadingKeys?.every((key) => key.startsWith('SEND#')));

/** Every admin call but the messages API's own is refused to the api role. */
async function expectRefusedToTheMessagesApi(calls: readonly AwsCall[], target: Placement) {
  const adminOnly = calls.filter((call) => !messagesApisOwn(call, target));
  expect(adminOnly.length).toBeGreaterThan(0);
  expect(await deniedTo('api', adminOnly, target)).toEqual(
    adminOnly.map((call) => `${call.action} ${call.resource} ${call.leadingKeys?.join(',') ?? ''}`),
  );
}

/**
 * Whether `functionName`'s role in the packaged template may read the setting `name`: by name, or by a path
 * above it (GetParametersByPath answers with every parameter beneath).
 */
async function mayRead(functionName: FunctionName, name: string): Promise<boolean> {
  const policies = rolePolicies(template, functionName, prod);
  const full = `${prefix}${name}`;
  const paths = full
    .split('/')
    .slice(1, -1)
    .map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`);
  const requests = [
    { action: 'ssm:GetParameters', resource: parameterArn(prod, full) },
    ...paths.map((path) => ({ action: 'ssm:GetParametersByPath', resource: parameterArn(prod, path) })),
  ];
  for (const request of requests) if (await allows(policies, request, prod.accountId)) return true;
  return false;
}

describe('settings per function, on the packaged template', () => {
  const APPS = ['default', 'sales', 'after-sales'];

  it('lets each function read exactly the settings it declares, for every app', async () => {
    const wrong: string[] = [];
    for (const functionName of FUNCTION_NAMES) {
      const declared = new Set([
        ...FUNCTION_SETTINGS[functionName].global,
        ...APPS.flatMap((app) => appSettingNames(functionName, app)),
      ]);
      const every = [
        ...GLOBAL_SETTINGS,
        ...APPS.flatMap((app) => APP_SETTINGS.map((s) => settingName(app, s))),
      ];
      for (const name of every)
        if ((await mayRead(functionName, name)) !== declared.has(name))
          wrong.push(`${functionName} ${declared.has(name) ? 'cannot' : 'can'} read ${name}`);
    }
    expect(wrong).toEqual([]);
  });

  it("keeps the internet-facing callback from the API keys and every app's secret", async () => {
    for (const name of [
      'ADMIN_API_KEY',
      'OUTBOUND_API_KEY',
      'WECOM_KF_SECRET',
      'MP_APP_SECRET',
      'SALES_WECOM_KF_SECRET',
      'SALES_MP_APP_SECRET',
    ])
      expect(await mayRead('callback', name), name).toBe(false);
    for (const name of ['WECOM_CALLBACK_TOKEN', 'WECOM_ENCODING_AES_KEY', 'SALES_MP_TOKEN'])
      expect(await mayRead('callback', name), name).toBe(true);
  });

  it('decrypts settings only through SSM', async () => {
    const key = `arn:aws:kms:${prod.region}:${prod.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    // A key's default policy, which leaves the decision to the account's IAM policies.
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${prod.accountId}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    };
    for (const functionName of FUNCTION_NAMES) {
      const policies = rolePolicies(template, functionName, prod);
      const decrypt = (viaService: string) =>
        allows(
          policies,
          {
            action: 'kms:Decrypt',
            resource: key,
            context: { 'kms:ViaService': viaService },
            resourcePolicy: keyPolicy,
          },
          prod.accountId,
        );
      expect(await decrypt(`ssm.${prod.region}.amazonaws.com`), functionName).toBe(true);
      expect(await decrypt(`s3.${prod.region}.amazonaws.com`), functionName).toBe(false);
    }
  });

  describeWithPythonTools('against SSM (moto)', () => {
    let moto: MotoServer;
    /** In front of moto: each function's reads as they reached SSM, which its role must allow. */
    let proxy: RecordingProxy;
    beforeAll(async () => {
      moto = await startMotoServer(prod.region);
      const ssm = new SSMClient(moto.clientConfig);
      const settings: Record<string, string> = {
        ...Object.fromEntries(Object.entries(testEnv).filter(([name]) => /^(WECOM|MP)_/.test(name))),
        KF_BRIDGE_APPS: 'sales',
        SALES_MP_APP_ID: 'wxsales00000000001',
        SALES_MP_APP_SECRET: 'sales-mp-secret',
        SALES_MP_TOKEN: 'salesToken',
        OUTBOUND_API_KEY: 'outbound-api-key-0123456789',
        ADMIN_API_KEY: 'admin-api-key-0123456789',
      };
      for (const [name, value] of Object.entries(settings))
        await ssm.send(
          new PutParameterCommand({ Name: `${prefix}${name}`, Value: value, Type: 'SecureString' }),
        );
      ssm.destroy();
      proxy = await startRecordingProxy(moto.endpoint);
    }, 60_000);
    afterAll(async () => {
      await proxy?.stop();
      await moto?.stop();
    });

    it("loads every function's settings with only calls its role allows", async () => {
      const infrastructure = Object.fromEntries(
        Object.entries(testEnv).filter(([name]) => !/^(WECOM|MP)_/.test(name)),
      );
      for (const functionName of FUNCTION_NAMES) {
        const log = createAwsCallLog({ ...prod, partitionKey: 'pk' });
        const readParameters = createSsmReader(() =>
          ssmTarget({ AWS_REGION: prod.region, KF_BRIDGE_LOCAL_ENDPOINTS: `ssm=${proxy.endpoint}` }),
        );
        proxy.received.length = 0;
        const env = await withSsmParameters(infrastructure, readParameters, prefix, functionName);
        for (const request of proxy.received) recordSsmRequest(log, functionName, request);
        const config = parseConfig(env, functionName);
        expect([...config.apps.keys()], functionName).toEqual(['default', 'sales']);
        expect(log.calls.length, functionName).toBeGreaterThan(0);
        for (const call of log.calls)
          expect(
            await allows(rolePolicies(template, functionName, prod), call, prod.accountId),
            `${functionName}: ${call.action} ${call.resource}`,
          ).toBe(true);
      }
    });
  });
});

describe('the example policy of an inbound.fifo consumer (examples/iam/inbound-consumer-policy.json)', () => {
  const policyText = () => readFile(join(ROOT, 'examples/iam/inbound-consumer-policy.json'), 'utf8');
  /** The policy as a company fills it in from the stack's outputs InboundQueueArn and MediaBucketArn. */
  const filledIn = async (): Promise<PolicyDocument> => {
    const filled = (await policyText())
      .replaceAll('<InboundQueueArn>', queueArn('InboundQueue'))
      .replaceAll('<MediaBucketArn>', `arn:aws:s3:::${prod.physicalIds.MediaBucket}`);
    expect(filled).not.toMatch(/<\w+>/);
    return JSON.parse(filled);
  };
  const queueArn = (id: string) => `arn:aws:sqs:${prod.region}:${prod.accountId}:${prod.physicalIds[id]}`;
  const objectArn = (key: string) => `arn:aws:s3:::${prod.physicalIds.MediaBucket}/${key}`;
  const decide = async (calls: { action: string; resource: string }[]) => {
    const policy = await filledIn();
    const allowed: string[] = [];
    for (const call of calls)
      if (await allows([policy], call, prod.accountId)) allowed.push(`${call.action} ${call.resource}`);
    return allowed;
  };

  it('names every resource by a stack output, so it holds in every partition (aws-cn for China regions too)', async () => {
    const resources = (JSON.parse(await policyText()) as PolicyDocument).Statement.map(
      (statement) => statement.Resource,
    );
    expect(resources).toEqual([
      '<InboundQueueArn>',
      '<MediaBucketArn>/quarantine/*',
      '<MediaBucketArn>/media/*',
    ]);
  });

  it('allows what the example consumer calls: reading, releasing and deleting inbound.fifo, quarantined and archived files', async () => {
    const calls = [
      // examples/python/consumer.py: boto3's get_queue_attributes, receive_message, change_message_visibility,
      // delete_message; get_object for a quarantined message (a consumer of files reads media/ likewise).
      ...['GetQueueAttributes', 'ReceiveMessage', 'ChangeMessageVisibility', 'DeleteMessage'].map(
        (action) => ({
          action: `sqs:${action}`,
          resource: queueArn('InboundQueue'),
        }),
      ),
      { action: 's3:GetObject', resource: objectArn('quarantine/default/wkA/0123abcd.json') },
      { action: 's3:GetObject', resource: objectArn('media/default/wkA/msg1/photo.jpg') },
    ];
    expect(await decide(calls)).toEqual(calls.map((call) => `${call.action} ${call.resource}`));
  });

  it('refuses writing to any queue, managing inbound.fifo, reading other queues, and any other object or write', async () => {
    const inbound = queueArn('InboundQueue');
    const calls = [
      ...['SendMessage', 'PurgeQueue', 'DeleteQueue', 'SetQueueAttributes', 'CreateQueue'].map((action) => ({
        action: `sqs:${action}`,
        resource: inbound,
      })),
      ...['OutboundQueue', 'InboundDlq', 'SyncJobsQueue'].flatMap((id) => [
        { action: 'sqs:ReceiveMessage', resource: queueArn(id) },
        { action: 'sqs:SendMessage', resource: queueArn(id) },
      ]),
      { action: 's3:GetObject', resource: objectArn('outbound/covers/a.jpg') },
      {
        action: 's3:GetObject',
        resource: `arn:aws:s3:::${prod.physicalIds.ReportsBucket}/reports/default/x.csv`,
      },
      { action: 's3:PutObject', resource: objectArn('quarantine/default/wkA/0123abcd.json') },
      { action: 's3:DeleteObject', resource: objectArn('media/default/wkA/msg1/photo.jpg') },
      { action: 's3:ListBucket', resource: `arn:aws:s3:::${prod.physicalIds.MediaBucket}` },
    ];
    expect(await decide(calls)).toEqual([]);
  });
});

describe('every AWS call of an e2e run is allowed by its function role', () => {
  let result: E2eResult;
  beforeAll(async () => {
    // The aws profile reaches S3 too: archived media and a quarantined message.
    result = await runInboundE2e({ messages: 60, faults: 'aws', seed: 17 });
  }, 240_000);

  const deniedOf = async (calls: readonly AwsCall[], asFunction?: FunctionName) => {
    const denied: string[] = [];
    for (const call of calls) {
      const functionName = asFunction ?? (call.functionName as FunctionName);
      const policies = rolePolicies(template, functionName, result.awsCalls.target);
      if (!(await allows(policies, call, result.awsCalls.target.accountId)))
        denied.push(`${functionName}: ${call.action} ${call.resource} ${call.leadingKeys?.join(',') ?? ''}`);
    }
    return denied;
  };

  it('records the calls of every function the run exercises, with the partition keys of each item call', () => {
    expect(result.inbound.delivered).toBe(result.inbound.expected);
    const { calls } = result.awsCalls;
    expect(new Set(calls.map((call) => call.functionName))).toEqual(
      new Set(['callback', 'syncPuller', 'sender', 'api']),
    );
    const services = new Set(calls.map((call) => call.action.split(':')[0]));
    expect(services).toEqual(new Set(['sqs', 'dynamodb', 's3']));
    for (const call of calls.filter((c) => c.action.startsWith('dynamodb:')))
      expect(call.leadingKeys?.length, JSON.stringify(call)).toBeGreaterThan(0);
  });

  it("records the callback's item calls, made with signed requests of its own: the replay guard's and the MP budget's", () => {
    const callbackItems = result.awsCalls.calls
      .filter((call) => call.functionName === 'callback' && call.action.startsWith('dynamodb:'))
      .map((call) => `${call.action} ${call.leadingKeys?.join(',')}`);
    expect(new Set(callbackItems)).toEqual(
      new Set(['dynamodb:UpdateItem PUSH#default', 'dynamodb:UpdateItem BUDGET#default#mp']),
    );
  });

  it('allows each of them by the role of the function that made it, in the packaged template', async () => {
    expect(await deniedOf(result.awsCalls.calls)).toEqual([]);
  });

  it('refuses item calls to roles whose items they are not (dynamodb:LeadingKeys)', async () => {
    const itemCalls = (functionName: string, prefixes: string[]) =>
      result.awsCalls.calls.filter(
        (call) =>
          call.functionName === functionName &&
          call.action.startsWith('dynamodb:') &&
          call.leadingKeys?.every((key) => prefixes.some((p) => key.startsWith(p))),
      );
    // The sender's send ledger and tokens are not the callback's; the puller's cursors and msgid ledger are
    // not tokenRefresh's.
    const senderItems = itemCalls('sender', ['SEND#', 'SENDMSGID#', 'TOKEN#']);
    const pullerItems = itemCalls('syncPuller', ['CURSORS#', 'MSGID#']);
    expect(senderItems.length).toBeGreaterThan(0);
    expect(pullerItems.length).toBeGreaterThan(0);
    expect(await deniedOf(senderItems, 'callback')).toHaveLength(senderItems.length);
    expect(await deniedOf(pullerItems, 'tokenRefresh')).toHaveLength(pullerItems.length);
  });
});

describe('the dlq commands', () => {
  it('make only calls the admin role allows, on the dead-letter queues, their sources and the state table, and the api role none of its own', async () => {
    const stack = localStack();
    const sqs = sqsClient();
    const pairs = await createQueuePairs(sqs);
    const target = {
      accountId: new URL(pairs.env.OUTBOUND_QUEUE_URL).pathname.split('/')[1] ?? '',
      region: stack.region,
      physicalIds: { ...prod.physicalIds, ...pairs.names, StateTable: testEnv.STATE_TABLE },
      partitionKey: 'pk',
    };
    const log = createAwsCallLog(target);
    recordAwsCalls(sqs, 'sqs', log);
    const items = itemStoreFor(stack.env, { observe: recordSignedCalls(log) });
    const config = parseConfig({ ...testEnv, ...pairs.env });
    const { deadLetters } = adminDeps(config, items, localS3Objects(), sqs, recordingLog().log, NO_METRICS);
    const requestId = `iam-${Date.now()}`;
    await new SendLedger(items, testEnv.STATE_TABLE).queue('default', requestId, Date.now());
    for (const [queue, id] of [
      ['sync-jobs', 'SyncJobsDlq'],
      ['inbound', 'InboundDlq'],
      ['outbound', 'OutboundDlq'],
    ] as const) {
      for (const n of [1, 2])
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: pairs.urls[id],
            MessageBody: JSON.stringify({ app: 'default', requestId, id: `m${n}`, openKfId: 'wk' }),
            MessageGroupId: 'g',
            MessageDeduplicationId: `${requestId}-${n}`,
          }),
        );
      await actingAs('admin', async () => {
        const [first] = (await deadLetters.list(queue, 10)).messages;
        await deadLetters.show(queue, first?.messageId ?? '');
        await deadLetters.redrive(queue, { messageId: first?.messageId ?? '' });
        const [second] = (await deadLetters.list(queue, 10)).messages;
        await deadLetters.discard(queue, second?.messageId ?? '', 'checked');
      });
    }
    const actions = new Set(log.calls.map((call) => call.action));
    expect(actions).toEqual(
      new Set([
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:SendMessage',
        'sqs:DeleteMessage',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
      ]),
    );
    expect(await deniedTo('admin', log.calls, target)).toEqual([]);
    await expectRefusedToTheMessagesApi(log.calls, target);
  });
});

describe('the trace command', () => {
  it('makes only calls the admin role allows: the ledgers, budgets and cursors it reads, the dead letters it peeks; the api role none of them', async () => {
    const stack = localStack();
    const sqs = sqsClient();
    const pairs = await createQueuePairs(sqs);
    const target = {
      accountId: new URL(pairs.env.OUTBOUND_QUEUE_URL).pathname.split('/')[1] ?? '',
      region: stack.region,
      physicalIds: { ...prod.physicalIds, ...pairs.names, StateTable: testEnv.STATE_TABLE },
      partitionKey: 'pk',
    };
    const log = createAwsCallLog(target);
    // Seeded unrecorded; the trace's own item calls are recorded.
    const seeding = itemStores().signed;
    const items = itemStoreFor(stack.env, { observe: recordSignedCalls(log) });
    const app = `iamtrace${Date.now().toString(36)}`;
    const prefix = app.toUpperCase();
    const config = parseConfig({
      ...testEnv,
      ...pairs.env,
      KF_BRIDGE_APPS: app,
      ...Object.fromEntries(
        ['CORP_ID', 'KF_SECRET', 'CALLBACK_TOKEN', 'ENCODING_AES_KEY'].map((name) => [
          `${prefix}_WECOM_${name}`,
          testEnv[`WECOM_${name}` as keyof typeof testEnv],
        ]),
      ),
    });
    const msgid = `m-${app}`;
    const requestId = `r-${app}`;
    // What a pull and a send leave behind, written before the calls are recorded.
    await new CursorStore(seeding, testEnv.STATE_TABLE).commit(
      app,
      'wkIam',
      { version: 0 },
      'c1',
      Date.now(),
    );
    await new MessageLedger(seeding, testEnv.STATE_TABLE).record(
      app,
      'wkIam',
      [{ msgid, customer: 'wmIam', sentAt: Date.now(), pulledAt: Date.now() }],
      Date.now(),
    );
    const sendLedger = new SendLedger(seeding, testEnv.STATE_TABLE);
    await sendLedger.queue(app, requestId, Date.now());
    await sendLedger.indexMsgid(app, `kf-${requestId}`, requestId, Date.now());
    await sendLedger.record(app, requestId, { status: 'sent', msgid: `kf-${requestId}`, at: Date.now() });
    for (const [id, body] of [
      ['SyncJobsDlq', { app, openKfId: 'wkIam', token: 'secret' }],
      ['InboundDlq', { app, id: msgid, customer: 'wmIam' }],
      ['OutboundDlq', { app, requestId }],
    ] as const)
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: pairs.urls[id],
          MessageBody: JSON.stringify(body),
          MessageGroupId: 'g',
          MessageDeduplicationId: `${app}-${id}`,
        }),
      );
    recordAwsCalls(sqs, 'sqs', log);
    const { tracer } = adminDeps(config, items, localS3Objects(), sqs, recordingLog().log, NO_METRICS);
    const traced = config.apps.get(app);
    if (!traced) throw new Error('no test app');
    await actingAs('admin', async () => {
      for (const id of [msgid, requestId, `kf-${requestId}`]) await tracer.trace(traced, id);
      await expect(tracer.trace(traced, 'nothing')).rejects.toThrow('has the id nothing');
    });
    const actions = new Set(log.calls.map((call) => call.action));
    expect(actions).toEqual(
      new Set([
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'dynamodb:GetItem',
        'dynamodb:Query',
      ]),
    );
    expect(await deniedTo('admin', log.calls, target)).toEqual([]);
    await expectRefusedToTheMessagesApi(log.calls, target);
  });
});

describe('the admin API on the platforms', () => {
  it('makes only calls the admin role allows: access tokens, an avatar read from the media bucket and its media id, reply budgets; the api role none of them', async () => {
    const stack = localStack();
    // The local stack names a bucket after its logical id.
    const bucket = 'mediabucket';
    const target = {
      ...prod,
      physicalIds: { ...prod.physicalIds, StateTable: testEnv.STATE_TABLE, MediaBucket: bucket },
      partitionKey: 'pk',
    };
    const log = createAwsCallLog(target);
    const s3 = s3Client();
    const key = `avatars/iam-${Date.now()}.png`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: Buffer.concat([
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
          Buffer.alloc(64, 7),
        ]),
      }),
    );
    const s3Objects = s3ObjectsFor(stack.env, { observe: recordSignedCalls(log) });
    const sim = await startSimulator();
    try {
      const corp = testEnv.WECOM_CORP_ID;
      sim.sim.createCorp({ corpId: corp, secrets: [testEnv.WECOM_KF_SECRET], users: ['zhangsan'] });
      const adminKey = 'iam-admin-key-0123456789';
      const config = parseConfig({
        ...testEnv,
        WECOM_API_BASE: sim.url,
        MP_API_BASE: sim.url,
        ADMIN_API_KEY: adminKey,
      });
      const deps = adminDeps(
        config,
        itemStoreFor(stack.env, { observe: recordSignedCalls(log) }),
        s3Objects,
        sqsClient(),
        recordingLog().log,
        NO_METRICS,
      );
      const call = (method: string, path: string, body: object) =>
        handleAdminApi(
          { method, path, query: {}, headers: { 'x-api-key': adminKey }, body: JSON.stringify(body) },
          deps,
        );
      await actingAs('admin', async () => {
        const added = await call('POST', '/v1/admin/kf/accounts', {
          name: '售后',
          avatar: { s3: { bucket, key } },
        });
        expect(added.status).toBe(201);
        const openKfId = (added.body as { openKfId: string }).openKfId;
        sim.sim.wecom.accounts.get(openKfId)?.servicers.set('zhangsan', { status: 0, stopType: 0 });
        sim.sim.customerSays(openKfId, 'wmIam', '你好');
        const session = `/v1/admin/kf/accounts/${openKfId}/sessions/wmIam/trans`;
        expect((await call('POST', session, { state: 'servicer', servicerUserId: 'zhangsan' })).status).toBe(
          200,
        );
        expect((await call('POST', session, { state: 'ended' })).status).toBe(200);
      });
    } finally {
      await sim.stop();
    }
    const actions = new Set(log.calls.map((c) => c.action));
    expect(actions).toEqual(
      new Set(['s3:GetObject', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem']),
    );
    expect(await deniedTo('admin', log.calls, target)).toEqual([]);
    await expectRefusedToTheMessagesApi(log.calls, target);
  });
});

describe('the messages API role', () => {
  it('may put requests on outbound.fifo only: nothing on the queues consumers read, no dead letter', async () => {
    const queue = (id: string) => `arn:aws:sqs:${prod.region}:${prod.accountId}:${prod.physicalIds[id]}`;
    const refused = [
      ...['InboundQueue', 'SyncJobsQueue'].map((id) => ({ action: 'sqs:SendMessage', resource: queue(id) })),
      ...['InboundDlq', 'SyncJobsDlq', 'OutboundDlq'].flatMap((id) => [
        { action: 'sqs:ReceiveMessage', resource: queue(id) },
        { action: 'sqs:DeleteMessage', resource: queue(id) },
      ]),
    ];
    expect(await deniedTo('api', refused, prod)).toHaveLength(refused.length);
    expect(
      await deniedTo('api', [{ action: 'sqs:SendMessage', resource: queue('OutboundQueue') }], prod),
    ).toEqual([]);
  });
});
