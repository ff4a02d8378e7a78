import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallbackRequest } from '../../lib/callback/handleCallback';
import { callbackWiring } from '../../lib/callback/wiring';
import { parseConfig } from '../../lib/config/config';
import { parseInboundMessage } from '../../lib/contracts/inbound';
import { parseSyncJob } from '../../lib/contracts/syncJob';
import { errorResponse } from '../../lib/http/httpApi';
import type { ItemStore } from '../../lib/items/itemStore';
import { NO_METRICS } from '../../lib/metrics';
import type { QueueClient } from '../../lib/queue/queueClient';
import { callbackHttpEvent } from '../../local/callbackEvent';
import { documentClient, drain, itemStores, localStack, purge, queueClient, sqsClient } from '../support/aws';
import { recordingLog } from '../support/recording';
import { kfEventXml, mpPost, mpTextXml, testEnv, wecomPost, wecomVerify } from '../support/wechat';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const stack = localStack();
const sqs = sqsClient();
const syncJobsUrl = stack.queues.SyncJobsQueue ?? '';
const inboundUrl = stack.queues.InboundQueue ?? '';
let handler: Handler;

const context = { getRemainingTimeInMillis: () => 5000 } as Context;
const invoke = (request: CallbackRequest) => handler(callbackHttpEvent(request), context);

beforeAll(async () => {
  for (const [name, value] of Object.entries({
    ...stack.env,
    ...testEnv,
    SYNC_JOBS_QUEUE_URL: syncJobsUrl,
    INBOUND_QUEUE_URL: inboundUrl,
  })) {
    vi.stubEnv(name, value);
  }
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  ({ handler } = (await import('../../functions/callback')) as unknown as { handler: Handler });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

beforeEach(async () => {
  await purge(sqs, syncJobsUrl, inboundUrl);
});

describe('callback function against the local stack', () => {
  it('answers WeCom URL verification with the bare plaintext', async () => {
    await expect(invoke(wecomVerify('5927782489442352469'))).resolves.toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: '5927782489442352469',
    });
  });

  it('lands one sync job in sync-jobs.fifo per callback, whatever WeCom retries', async () => {
    const callback = kfEventXml('wkIntegration', 'ENCintegrationToken');
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(invoke(wecomPost(callback))).resolves.toMatchObject({ statusCode: 200, body: 'success' });
    }
    const messages = await drain(sqs, syncJobsUrl);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.Attributes?.MessageGroupId).toBe('default#wkIntegration');
    expect(message?.Attributes?.MessageDeduplicationId).toBe(
      createHash('sha256').update('default#wkIntegration#ENCintegrationToken').digest('hex'),
    );
    expect(parseSyncJob(JSON.parse(message?.Body ?? ''))).toMatchObject({
      openKfId: 'wkIntegration',
      token: 'ENCintegrationToken',
    });
  });

  it('lands an MP text in inbound.fifo, grouped by customer', async () => {
    await expect(
      invoke(mpPost(mpTextXml('oIntegration', '你好', '9001'), { safe: true })),
    ).resolves.toMatchObject({
      statusCode: 200,
    });
    const [message, ...rest] = await drain(sqs, inboundUrl);
    expect(rest).toEqual([]);
    expect(message?.Attributes?.MessageGroupId).toBe('default#oIntegration');
    expect(parseInboundMessage(JSON.parse(message?.Body ?? ''))).toMatchObject({
      channel: 'mp',
      customer: 'oIntegration',
      message: { type: 'text', content: '你好' },
    });
  });

  it("lands two followers' messages with the same MsgId both, and a push MP repeats once", async () => {
    const push = mpTextXml('oCollisionA', 'from A', '9002');
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(invoke(mpPost(push, { safe: true }))).resolves.toMatchObject({ statusCode: 200 });
    await expect(
      invoke(mpPost(mpTextXml('oCollisionB', 'from B', '9002'), { safe: true })),
    ).resolves.toMatchObject({ statusCode: 200 });
    const landed = (await drain(sqs, inboundUrl)).map((message) =>
      parseInboundMessage(JSON.parse(message.Body ?? '')),
    );
    expect(landed).toEqual([
      expect.objectContaining({
        customer: 'oCollisionA',
        mpMsgId: '9002',
        message: { type: 'text', content: 'from A' },
      }),
      expect.objectContaining({
        customer: 'oCollisionB',
        mpMsgId: '9002',
        message: { type: 'text', content: 'from B' },
      }),
    ]);
  });

  it('answers bad input with a short plain-text error and enqueues nothing', async () => {
    const post = wecomPost(kfEventXml('wkIntegration', 'ENCx'));
    const cases: [CallbackRequest, number, string][] = [
      [
        { ...post, query: { ...post.query, msg_signature: '0'.repeat(40) } },
        401,
        'msg_signature does not match',
      ],
      [{ ...post, body: '<xml><Encrypt>' }, 400, 'callback body is malformed'],
      [{ ...post, app: 'unknown' }, 404, "unknown app 'unknown'"],
      [{ ...post, method: 'DELETE' }, 405, 'use GET or POST'],
      [{ ...post, body: 'x'.repeat(64 * 1024 + 1) }, 413, 'body is over 64 KB'],
    ];
    for (const [request, statusCode, body] of cases) {
      await expect(invoke(request)).resolves.toEqual({
        statusCode,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body,
      });
    }
    expect(await drain(sqs, syncJobsUrl)).toEqual([]);
  });

  it('serves a Lambda function URL the same, the app read from the raw path', async () => {
    const viaUrl = (request: CallbackRequest, rawPath?: string) => {
      const event = callbackHttpEvent(request, { frontDoor: 'functionUrl' });
      return handler(rawPath === undefined ? event : { ...event, rawPath }, context);
    };
    await expect(viaUrl(wecomVerify('7788'))).resolves.toMatchObject({ statusCode: 200, body: '7788' });
    const post = wecomPost(kfEventXml('wkFunctionUrl', 'ENCfunctionUrl'));
    await expect(viaUrl(post)).resolves.toMatchObject({ statusCode: 200, body: 'success' });
    // A function URL hands over every path and method; only /callback/<app> with GET or POST is served.
    const refused: [CallbackRequest, string, number, string][] = [
      [post, '/', 404, 'not found: callbacks are served at /callback/<app>'],
      [post, '/callback', 404, 'not found: callbacks are served at /callback/<app>'],
      [post, '/callback/default/extra', 404, 'not found: callbacks are served at /callback/<app>'],
      [post, '/v1/messages', 404, 'not found: callbacks are served at /callback/<app>'],
      [post, '/callback/unknown', 404, "unknown app 'unknown'"],
      [{ ...post, method: 'PUT' }, '/callback/default', 405, 'use GET or POST'],
    ];
    for (const [request, rawPath, statusCode, body] of refused)
      await expect(viaUrl(request, rawPath), rawPath).resolves.toEqual({
        statusCode,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body,
      });
    const jobs = (await drain(sqs, syncJobsUrl)).map((message) =>
      parseSyncJob(JSON.parse(message.Body ?? '')),
    );
    expect(jobs).toEqual([expect.objectContaining({ app: 'default', openKfId: 'wkFunctionUrl' })]);
  });

  it('answers 503 when the queue cannot be reached, so WeCom retries', async () => {
    vi.resetModules();
    vi.stubEnv('SYNC_JOBS_QUEUE_URL', `${stack.endpoints.sqs}/000000000000/missing.fifo`);
    const { handler: broken } = (await import('../../functions/callback')) as unknown as { handler: Handler };
    vi.stubEnv('SYNC_JOBS_QUEUE_URL', syncJobsUrl);
    await expect(
      broken(callbackHttpEvent(wecomPost(kfEventXml('wkAAA', 'ENCy'))), context),
    ).resolves.toMatchObject({
      statusCode: 503,
      body: 'temporarily unavailable',
    });
  });
});

const db = documentClient();
let sends = 0;
/** The callback's own SQS client, counting what it sends: FIFO deduplication would hide a second send. */
const signedSqs = queueClient();
const callbackSqs: QueueClient = {
  ...signedSqs,
  sendMessage: (input, options) => {
    sends++;
    return signedSqs.sendMessage(input, options);
  },
};

/**
 * A callback container on the local stack (each call is another one, sharing only the stack), answering as its
 * HTTP middleware does, every log line kept.
 */
function wired(env: Record<string, string> = {}, items: ItemStore = itemStores().signed) {
  const { log, lines, textAboveDebug } = recordingLog();
  const config = parseConfig({
    ...testEnv,
    SYNC_JOBS_QUEUE_URL: syncJobsUrl,
    INBOUND_QUEUE_URL: inboundUrl,
    ...env,
  });
  const wiring = callbackWiring(config, { sqs: callbackSqs, items, log, meter: NO_METRICS });
  const answer = async (request: CallbackRequest) => {
    try {
      const { status, body } = await wiring.handle(request);
      return { status, body };
    } catch (error) {
      const { statusCode, body } = errorResponse(error, log);
      return { status: statusCode, body };
    }
  };
  return { answer, lines, textAboveDebug };
}

describe('unauthenticated garbage', () => {
  const nested = `<xml>${'<a>'.repeat(5000)}secret words${'</a>'.repeat(5000)}</xml>`;
  const polluting = '<xml><__proto__><polluted>secret words</polluted></__proto__></xml>';

  it.each([
    [
      'deeply nested XML to WeCom',
      { ...wecomPost(kfEventXml('wkX', 'ENCx')), body: nested },
      'callback body nests elements deeper than 8',
    ],
    [
      'a __proto__ element to WeCom',
      { ...wecomPost(kfEventXml('wkX', 'ENCx')), body: polluting },
      'callback body has a reserved element name <__proto__>',
    ],
    [
      'deeply nested XML on a captured MP signature',
      { ...mpPost(mpTextXml('oX', 'x', '1'), { safe: true }), body: nested },
      'callback body nests elements deeper than 8',
    ],
    [
      'a __proto__ element on a captured MP signature',
      { ...mpPost(mpTextXml('oX', 'x', '1'), { safe: true }), body: polluting },
      'callback body has a reserved element name <__proto__>',
    ],
  ])(
    'answers %s 400, logs one WARN without the body, no ERROR, enqueues nothing',
    async (_, request, reason) => {
      const { answer, lines, textAboveDebug } = wired();
      await expect(answer(request)).resolves.toEqual({ status: 400, body: reason });
      expect(lines).toEqual([{ level: 'warn', args: ['request refused', { status: 400, reason }] }]);
      expect(textAboveDebug()).not.toContain('secret words');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await drain(sqs, syncJobsUrl)).toEqual([]);
      expect(await drain(sqs, inboundUrl)).toEqual([]);
    },
  );
});

/** The callback's own signed item calls, and the SDK's, which it made before and every other function makes. */
const ITEM_CALLS = ['signed', 'sdk'] as const;

describe.each(ITEM_CALLS)('forged and replayed pushes, across containers (%s)', (port) => {
  const items = itemStores()[port];
  const container = (env: Record<string, string> = {}, state: ItemStore = items) => wired(env, state);
  /** The queues deduplicate for 5 minutes: each run has MsgIds and callback Tokens of its own. */
  const ofThisRun = (id: string) => `${id}${ITEM_CALLS.indexOf(port)}`;
  const customers = async () =>
    (await drain(sqs, inboundUrl)).map(
      (message) => parseInboundMessage(JSON.parse(message.Body ?? '')).customer,
    );
  /** A plaintext body forged on the query of a real push, whose `signature` covers only token, timestamp and nonce. */
  const forged = (captured: CallbackRequest, openid: string): CallbackRequest => {
    const { encrypt_type: _, msg_signature: __, ...query } = captured.query;
    return { ...captured, query, body: mpTextXml(openid, 'forged', ofThisRun('77700001')) };
  };

  beforeEach(() => {
    sends = 0;
  });

  it('refuses plaintext bodies forged on a captured safe-mode push with 401, enqueuing nothing', async () => {
    const captured = mpPost(mpTextXml('oRealSafe', 'real', ofThisRun('77700002')), { safe: true });
    await expect(container().answer(captured)).resolves.toEqual({ status: 200, body: 'success' });
    for (const openid of ['oForged1', 'oForged2', 'oForged3'])
      await expect(container().answer(forged(captured, openid))).resolves.toEqual({
        status: 401,
        body: 'plaintext push refused: the app takes safe-mode pushes only (MP_MESSAGE_MODE)',
      });
    expect(await customers()).toEqual(['oRealSafe']);
  });

  it('refuses other bodies on a plaintext-mode push already seen by another container with 401, enqueuing nothing', async () => {
    const plaintext = { MP_ENCODING_AES_KEY: '' };
    const captured = mpPost(mpTextXml('oRealPlain', 'real', ofThisRun('77700003')));
    await expect(container(plaintext).answer(captured)).resolves.toEqual({ status: 200, body: 'success' });
    for (const openid of ['oForged1', 'oForged2', 'oForged3'])
      await expect(container(plaintext).answer(forged(captured, openid))).resolves.toEqual({
        status: 401,
        body: 'timestamp, nonce and signature were already used with another body',
      });
    expect(await customers()).toEqual(['oRealPlain']);
    expect(sends).toBe(1);
  });

  it("answers the platform's retries of a push success, enqueuing it once, and keeps its record for the clock skew", async () => {
    const mp = mpPost(mpTextXml('oRetried', 'once', ofThisRun('77700004')), { safe: true });
    const wecom = wecomPost(kfEventXml('wkRetried', ofThisRun('ENCretried')));
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(container().answer(mp)).resolves.toEqual({ status: 200, body: 'success' });
      await expect(container().answer(wecom)).resolves.toEqual({ status: 200, body: 'success' });
    }
    // MP once; WeCom's sync job each time, one on the queue: FIFO deduplicates it on its Token.
    expect(sends).toBe(1 + 3);
    expect(await customers()).toEqual(['oRetried']);
    expect(await drain(sqs, syncJobsUrl)).toHaveLength(1);
    const record = async ({ timestamp = '', nonce = '', msg_signature = '' }: CallbackRequest['query']) =>
      (
        await db.send(
          new GetCommand({
            TableName: testEnv.STATE_TABLE,
            Key: {
              pk: 'PUSH#default',
              sk: createHash('sha256').update(`${timestamp}\n${nonce}\n${msg_signature}`).digest('hex'),
            },
          }),
        )
      ).Item;
    // A WeCom push needs none: msg_signature covers its ciphertext, and its job is idempotent.
    expect(await record(wecom.query)).toBeUndefined();
    // A safe-mode push is held as what msg_signature covers: its ciphertext.
    const ciphertext = /<Encrypt><!\[CDATA\[([^\]]+)\]\]>/.exec(mp.body)?.[1] ?? '';
    expect(await record(mp.query)).toMatchObject({
      bodyHash: createHash('sha256').update(ciphertext).digest('hex'),
      processed: true,
      ttl: Number(mp.query.timestamp) + 300 + 1,
    });
  });

  it('does a push that failed (503) when the platform retries it', async () => {
    const push = mpPost(mpTextXml('oUnlucky', 'again', ofThisRun('77700005')), { safe: true });
    const failing = container({ INBOUND_QUEUE_URL: `${stack.endpoints.sqs}/000000000000/missing.fifo` });
    await expect(failing.answer(push)).resolves.toEqual({ status: 503, body: 'temporarily unavailable' });
    await expect(container().answer(push)).resolves.toEqual({ status: 200, body: 'success' });
    expect(await customers()).toEqual(['oUnlucky']);
  });

  it('lands a push once when its container dies between enqueuing it and recording it: FIFO drops the retry', async () => {
    const push = mpPost(mpTextXml('oCrash', 'crash', ofThisRun('77700006')), { safe: true });
    const dying: ItemStore = {
      ...items,
      update: (input, options) => {
        if (input.UpdateExpression === 'SET #processed = :yes') throw new Error('container killed');
        return items.update(input, options);
      },
    };
    await expect(container({}, dying).answer(push)).resolves.toMatchObject({ status: 503 });
    await expect(container().answer(push)).resolves.toEqual({ status: 200, body: 'success' });
    await expect(container().answer(push)).resolves.toEqual({ status: 200, body: 'success' });
    expect(sends).toBe(2);
    expect(await customers()).toEqual(['oCrash']);
  });
});
