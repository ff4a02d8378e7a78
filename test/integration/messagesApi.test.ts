import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/admin/openApi';
import { parseConfig } from '../../lib/config/config';
import type { ItemStore } from '../../lib/items/itemStore';
import { type ApiRequest, handleMessagesApi } from '../../lib/outbound/messagesApi';
import { SendLedger } from '../../lib/outbound/sendLedger';
import { sqsPublisher } from '../../lib/queue/publisher';
import { drain, itemStores, localStack, purge, queueClient, sqsClient } from '../support/aws';
import { recordingLog } from '../support/recording';
import { testEnv } from '../support/wechat';

const stack = localStack();
const sqs = sqsClient();
/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
const outboundUrl = stack.queues.OutboundQueue ?? '';
const KEY = 'test-api-key-0123456789abcdef';
const ledger = new SendLedger(items, testEnv.STATE_TABLE);
const deps = {
  config: parseConfig({ ...testEnv, OUTBOUND_QUEUE_URL: outboundUrl, OUTBOUND_API_KEY: KEY }),
  publish: sqsPublisher(queueClient()),
  ledger,
  now: Date.now,
  log: recordingLog().log,
};

const post = (body: unknown, headers: Record<string, string> = { 'x-api-key': KEY }): ApiRequest => ({
  method: 'POST',
  path: '/v1/messages',
  query: {},
  headers,
  body: JSON.stringify(body),
});
const get = (
  requestId: string,
  headers: Record<string, string> = { authorization: `Bearer ${KEY}` },
): ApiRequest => ({
  method: 'GET',
  path: `/v1/messages/${requestId}`,
  requestId,
  query: {},
  headers,
  body: '',
});
const valid = (requestId: string) => ({
  requestId,
  app: 'default',
  channel: 'kf',
  openKfId: 'wkA',
  externalUserId: 'wmB',
  message: { type: 'text', content: '您好' },
});

beforeEach(async () => {
  await purge(sqs, outboundUrl);
});

describe('POST /v1/messages and GET /v1/messages/{requestId}', () => {
  it('refuses callers without the right key, compared in constant time', async () => {
    await expect(handleMessagesApi(post(valid('a1'), {}), deps)).rejects.toMatchObject({
      status: 401,
      message: 'missing or wrong API key',
    });
    await expect(
      handleMessagesApi(post(valid('a1'), { 'x-api-key': `${KEY}x` }), deps),
    ).rejects.toMatchObject({ status: 401 });
    await expect(handleMessagesApi(get('a1', { authorization: 'Bearer nope' }), deps)).rejects.toMatchObject({
      status: 401,
    });
    const keyless = { ...deps, config: parseConfig({ ...testEnv }) };
    await expect(handleMessagesApi(post(valid('a1')), keyless)).rejects.toMatchObject({ status: 401 });
    expect(await drain(sqs, outboundUrl)).toEqual([]);
  });

  it('answers field-level errors and enqueues nothing for an invalid request', async () => {
    const bad = { ...valid('b1'), requestId: 'has space', message: { type: 'text', content: '' } };
    await expect(handleMessagesApi(post(bad), deps)).rejects.toMatchObject({
      status: 400,
      issues: [
        { path: 'requestId', message: expect.any(String) },
        { path: 'message.content', message: expect.any(String) },
      ],
    });
    await expect(handleMessagesApi({ ...post(valid('b2')), body: '{' }, deps)).rejects.toMatchObject({
      status: 400,
      message: 'body is not JSON',
    });
    await expect(handleMessagesApi(post({ ...valid('b3'), app: 'nope' }), deps)).rejects.toMatchObject({
      status: 400,
      issues: [{ path: 'app' }],
    });
    expect(await drain(sqs, outboundUrl)).toEqual([]);
  });

  // DynamoDB keys and SQS ids have limits of their own: input past them is the caller's error, not an outage.
  it('answers 400 naming the field for ids AWS would refuse, on POST and GET, and takes real WeChat ids', async () => {
    const refused = async (request: ApiRequest, path: string) =>
      expect(handleMessagesApi(request, deps)).rejects.toMatchObject({ status: 400, issues: [{ path }] });
    await refused(get('r'.repeat(1025)), 'requestId');
    await refused(get('has space'), 'requestId');
    await refused({ ...get('d1'), query: { app: 'a'.repeat(2049) } }, 'app');
    await refused(post({ ...valid('d2'), externalUserId: 'wm 客户' }), 'externalUserId');
    await refused(post({ ...valid('d3'), externalUserId: `wm${'x'.repeat(120)}` }), 'externalUserId');
    const mp = { requestId: 'd4', app: 'default', channel: 'mp', message: { type: 'text', content: '您好' } };
    await refused(post({ ...mp, openid: 'o\u{1F600}' }), 'openid');
    expect(await drain(sqs, outboundUrl)).toEqual([]);
    const kf = {
      ...valid(`d5-${Date.now()}`),
      openKfId: 'wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw',
      externalUserId: 'wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw',
    };
    expect(await handleMessagesApi(post(kf), deps)).toMatchObject({ status: 202 });
    const follower = { ...mp, requestId: `d6-${Date.now()}`, openid: 'oLVPpjqs9BhvzwPj5A-vTYAX3GLc' };
    expect(await handleMessagesApi(post(follower), deps)).toMatchObject({ status: 202 });
    expect((await drain(sqs, outboundUrl)).map((m) => m.Attributes?.MessageGroupId).sort()).toEqual([
      'default#oLVPpjqs9BhvzwPj5A-vTYAX3GLc',
      'default#wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw#wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw',
    ]);
  });

  it('answers 400 for a request SQS would refuse as too large once its non-ASCII text is escaped', async () => {
    const link = (requestId: string, description: string) => ({
      ...valid(requestId),
      message: { type: 'link', title: '说明', url: 'https://example.com/a', thumbMediaId: 'm', description },
    });
    // 150 KB of UTF-8, 300 KB once each character is written \uXXXX.
    await expect(handleMessagesApi(post(link('e1', '字'.repeat(50_000))), deps)).rejects.toMatchObject({
      status: 400,
      issues: [{ path: 'message', message: expect.stringContaining('256 KiB') }],
    });
    expect(await drain(sqs, outboundUrl)).toEqual([]);
    const id = `e2-${Date.now()}`;
    expect(await handleMessagesApi(post(link(id, '字'.repeat(40_000))), deps)).toMatchObject({ status: 202 });
    expect(await drain(sqs, outboundUrl)).toHaveLength(1);
  });

  it('answers 400 for a file in an S3 bucket the sender may not read, and takes one in the media bucket', async () => {
    const withBucket = {
      ...deps,
      config: parseConfig({
        ...testEnv,
        OUTBOUND_QUEUE_URL: outboundUrl,
        OUTBOUND_API_KEY: KEY,
        MEDIA_BUCKET: 'mediabucket',
      }),
    };
    const image = (requestId: string, bucket: string) => ({
      ...valid(requestId),
      message: { type: 'image', s3: { bucket, key: 'photos/a.png' } },
    });
    await expect(
      handleMessagesApi(post(image('s3-elsewhere', 'someone-elses')), withBucket),
    ).rejects.toMatchObject({
      status: 400,
      issues: [
        { path: 'message.s3.bucket', message: expect.stringContaining('media bucket mediabucket only') },
      ],
    });
    expect(await drain(sqs, outboundUrl)).toEqual([]);
    expect((await handleMessagesApi(post(image('s3-media', 'mediabucket')), withBucket)).status).toBe(202);
  });

  it('takes each channel for an app with that platform: MP requests for an Official Account-only app', async () => {
    const { WECOM_CORP_ID, WECOM_KF_SECRET, WECOM_CALLBACK_TOKEN, WECOM_ENCODING_AES_KEY, ...mpOnly } =
      testEnv;
    const mpDeps = {
      ...deps,
      config: parseConfig({ ...mpOnly, OUTBOUND_QUEUE_URL: outboundUrl, OUTBOUND_API_KEY: KEY }),
    };
    const mp = {
      requestId: 'mp1',
      app: 'default',
      channel: 'mp',
      openid: 'oA',
      message: { type: 'text', content: '您好' },
    };
    expect(await handleMessagesApi(post(mp), mpDeps)).toEqual({
      status: 202,
      body: { requestId: 'mp1', status: 'queued' },
    });
    await expect(handleMessagesApi(post(valid('kf1')), mpDeps)).rejects.toMatchObject({
      status: 400,
      issues: [{ path: 'app', message: "no app 'default' with WeCom settings" }],
    });
    expect(await drain(sqs, outboundUrl)).toHaveLength(1);
  });

  it('queues a valid request once, answers 202, and reports its status', async () => {
    const id = `c-${Date.now()}`;
    expect(await handleMessagesApi(post(valid(id)), deps)).toEqual({
      status: 202,
      body: { requestId: id, status: 'queued' },
    });
    expect(await handleMessagesApi(post(valid(id)), deps)).toEqual({
      status: 202,
      body: { requestId: id, status: 'queued' },
    });
    const queued = await drain(sqs, outboundUrl);
    expect(queued).toHaveLength(1);
    expect(queued[0]?.Attributes?.MessageGroupId).toBe('default#wkA#wmB');
    expect(await handleMessagesApi(get(id), deps)).toMatchObject({
      status: 200,
      body: { requestId: id, app: 'default', status: 'queued' },
    });
    await ledger.record('default', id, {
      status: 'failed',
      msgid: 'm',
      errcode: 95018,
      reason: 'send msg session status invalid',
      at: Date.now(),
    });
    expect(await handleMessagesApi(get(id), deps)).toMatchObject({
      body: { status: 'failed', errcode: 95018 },
    });
    expect(await handleMessagesApi(post(valid(id)), deps)).toEqual({
      status: 202,
      body: { requestId: id, status: 'failed' },
    });
    await expect(handleMessagesApi(get('never-sent'), deps)).rejects.toMatchObject({ status: 404 });
  });

  it('queues a request, and answers a repeat with its outcome, in one write to the send ledger and no read', async () => {
    const commands: string[] = [];
    // Each item call the ledger makes, by name.
    const counted = Object.fromEntries(
      Object.entries(items).map(([name, call]) => [
        name,
        (...args: unknown[]) => {
          commands.push(name);
          return (call as (...args: unknown[]) => Promise<unknown>)(...args);
        },
      ]),
    ) as unknown as ItemStore;
    let now = Date.now();
    const countedDeps = { ...deps, now: () => now, ledger: new SendLedger(counted, testEnv.STATE_TABLE) };
    const id = `w-${now}`;
    const accepted = now;
    expect(await handleMessagesApi(post(valid(id)), countedDeps)).toEqual({
      status: 202,
      body: { requestId: id, status: 'queued' },
    });
    expect(commands).toEqual(['update']);
    await ledger.record('default', id, { status: 'sent', msgid: 'm', at: accepted + 1_000 });
    commands.length = 0;
    now = accepted + 60_000;
    expect(await handleMessagesApi(post(valid(id)), countedDeps)).toEqual({
      status: 202,
      body: { requestId: id, status: 'sent' },
    });
    expect(commands).toEqual(['update']);
    expect(await handleMessagesApi(get(id), deps)).toMatchObject({ body: { status: 'sent', msgid: 'm' } });
    // The repeat leaves the first acceptance in place: the trace's queued step is when the request was accepted.
    expect((await ledger.state('default', id)).queuedAt).toBe(accepted);
  });

  it('shows an uncertain outcome as such, as the OpenAPI document describes it', async () => {
    const id = `u-${Date.now()}`;
    await handleMessagesApi(post(valid(id)), deps);
    await ledger.record('default', id, {
      status: 'uncertain',
      msgid: 'm',
      reason: 'an earlier attempt got no answer, so it may or may not have reached the customer',
      at: Date.now(),
    });
    const answer = await handleMessagesApi(get(id), deps);
    expect(answer).toMatchObject({ status: 200, body: { requestId: id, status: 'uncertain', msgid: 'm' } });
    const paths = (openApiDocument() as { paths: Record<string, Record<string, { responses: object }>> })
      .paths;
    const responses = paths['/v1/messages/{requestId}']?.get?.responses as Record<
      string,
      { content: { 'application/json': { schema: object } } }
    >;
    const matches = new Ajv2020({ strict: false }).compile(
      responses['200']?.content['application/json'].schema ?? {},
    );
    expect(matches(answer.body), JSON.stringify(matches.errors)).toBe(true);
    expect(await handleMessagesApi(post(valid(id)), deps)).toEqual({
      status: 202,
      body: { requestId: id, status: 'uncertain' },
    });
  });
});
