import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallbackRequest } from '../../lib/callback/handleCallback';
import { callbackWiring } from '../../lib/callback/wiring';
import { parseConfig } from '../../lib/config/config';
import { parseInboundMessage } from '../../lib/contracts/inbound';
import { parseSyncJob } from '../../lib/contracts/syncJob';
import { errorResponse } from '../../lib/http/httpApi';
import { callbackHttpEvent } from '../../local/callbackEvent';
import { documentClient, drain, localStack, purge, sqsClient } from '../support/aws';
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

/** The callback function's wiring on the local stack, answering as its HTTP middleware does, every log line kept. */
function wired(env: Record<string, string> = {}) {
  const { log, lines, textAboveDebug } = recordingLog();
  const config = parseConfig({
    ...testEnv,
    SYNC_JOBS_QUEUE_URL: syncJobsUrl,
    INBOUND_QUEUE_URL: inboundUrl,
    ...env,
  });
  const wiring = callbackWiring(config, { sqs, db: documentClient(), log });
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
