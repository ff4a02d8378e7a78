import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../lib/config/config';
import { type KfOutboundMessage, OUTBOUND_SCHEMA, type OutboundRequest } from '../../lib/contracts/outbound';
import { UncertainOutcomeError } from '../../lib/errors';
import type { SafeFetch } from '../../lib/http/safeFetch';
import type { Log } from '../../lib/logger';
import { NO_METRICS } from '../../lib/metrics';
import { msgidFor, type SenderDeps, sendRecord, sendRequest } from '../../lib/outbound/sender';
import { senderWiring } from '../../lib/outbound/wiring';
import { ERRCODES } from '../../lib/platform/errcodes';
import { NotTriedError } from '../../lib/queue/fifoConsumer';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { itemStores, localS3Objects, queueClient, s3Client } from '../support/aws';
import { recordingMeter } from '../support/metrics';
import { recordingLog } from '../support/recording';
import { publicHost } from '../support/tls';
import { testEnv } from '../support/wechat';

/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
let sim: RunningSimulator;
let deps: SenderDeps;
let openKfId: string;
let run = 0;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  run++;
  sim.sim.reset();
  sim.sim.createCorp({ corpId: testEnv.WECOM_CORP_ID, secrets: [testEnv.WECOM_KF_SECRET] });
  openKfId = sim.sim.createKfAccount(testEnv.WECOM_CORP_ID, '客服');
  const config = parseConfig({ ...testEnv, WECOM_API_BASE: sim.url });
  deps = wired(config);
});

/**
 * The sender as it deploys; its clock is the simulator's, so the tests move time for both at once. Files come
 * from public https hosts only, unless a test hands a fetcher for its own host.
 */
const wired = (
  config: Config,
  { log = recordingLog().log, safeFetch }: { log?: Log; safeFetch?: SafeFetch } = {},
) =>
  senderWiring(config, {
    sqs: queueClient(),
    items,
    s3: localS3Objects(),
    log,
    meter: NO_METRICS,
    now: () => sim.sim.clock.now(),
    ...(safeFetch && { safeFetch }),
  }).deps;

/** A customer writes, and the budget learns of it as the puller would tell it. */
async function customerWrote(customer: string) {
  sim.sim.customerSays(openKfId, customer, 'hi');
  await deps.budgets.apply({
    app: 'default',
    scope: openKfId,
    customer,
    lastCustomerMessageAt: sim.sim.clock.now(),
    lastCustomerMessageId: `m${Math.random()}`,
  });
}

const request = (message: KfOutboundMessage, externalUserId = 'wmSend'): OutboundRequest => ({
  schema: OUTBOUND_SCHEMA,
  requestId: `req-${run}-${Math.random().toString(36).slice(2)}`,
  app: 'default',
  channel: 'kf',
  openKfId,
  externalUserId,
  message,
});

describe('the sender', () => {
  it('sends a request once, with a msgid derived from the request id', async () => {
    await customerWrote('wmSend');
    const req = request({ type: 'text', content: '您好' });
    expect(await sendRequest(req, deps)).toMatchObject({ status: 'sent', msgid: msgidFor(req) });
    expect(await sendRequest(req, deps)).toMatchObject({ status: 'sent' });
    expect(sim.sim.wecom.sent).toMatchObject([
      { msgid: msgidFor(req), touser: 'wmSend', body: { content: '您好' } },
    ]);
    expect(msgidFor(req)).toMatch(/^[0-9a-zA-Z_-]{1,32}$/);
  });

  // WeCom refuses a repeated msgid but publishes no code for it: the retry cannot tell "already sent" from any
  // other refusal, so the request may or may not have reached the customer.
  it('records a retry WeCom refuses, after a crash before recording, as uncertain and never sends it again', async () => {
    await customerWrote('wmSend');
    const req = request({ type: 'text', content: 'once' });
    const record = deps.ledger.record.bind(deps.ledger);
    deps.ledger.record = async () => {
      throw new Error('killed after sending, before recording');
    };
    await expect(sendRequest(req, deps)).rejects.toThrow('killed');
    deps.ledger.record = record;
    expect(await sendRequest(req, deps)).toMatchObject({
      status: 'uncertain',
      msgid: msgidFor(req),
      reason: expect.stringContaining('may or may not have reached the customer'),
    });
    expect(await sendRequest(req, deps)).toMatchObject({ status: 'uncertain' });
    expect(sim.sim.wecom.sent).toHaveLength(1);
  });

  it('counts each outcome it records once, by status: an uncertain one is what the alarm reads', async () => {
    await customerWrote('wmCounted');
    const { meter, records } = recordingMeter();
    const counting = { ...deps, meter };
    const lost = request({ type: 'text', content: 'lost' }, 'wmCounted');
    // Sent, then the invocation dies before recording: the retry cannot know whether it got through.
    const dying = Object.assign(Object.create(deps.ledger), {
      record: async () => {
        throw new Error('killed after sending, before recording');
      },
    });
    await expect(sendRequest(lost, { ...counting, ledger: dying })).rejects.toThrow('killed');
    expect(await sendRequest(lost, counting)).toMatchObject({ status: 'uncertain' });
    // A later delivery finds the outcome recorded: nothing more happened, nothing more is counted.
    expect(await sendRequest(lost, counting)).toMatchObject({ status: 'uncertain' });
    expect(
      await sendRequest(request({ type: 'text', content: 'fine' }, 'wmCounted'), counting),
    ).toMatchObject({
      status: 'sent',
    });
    expect(records).toEqual([
      { metric: 'Replies', value: 1, dimensions: { app: 'default', channel: 'kf', status: 'uncertain' } },
      { metric: 'Replies', value: 1, dimensions: { app: 'default', channel: 'kf', status: 'sent' } },
    ]);
  });

  it('records a first attempt WeCom refuses as failed with its errcode, whatever the code', async () => {
    await customerWrote('wmMenu');
    // 95009 is an invalid menu item type, not a repeated msgid: the menu never reached the customer.
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: 95009, count: 1 }]);
    const menu = request(
      { type: 'msgmenu', list: [{ type: 'click', click: { id: '1', content: '满意' } }] },
      'wmMenu',
    );
    expect(await sendRequest(menu, deps)).toMatchObject({
      status: 'failed',
      errcode: 95009,
      reason: expect.stringContaining('a menu item has a type WeCom does not take'),
    });
    // No code the platform does not publish is read as "already sent", the simulator's own included.
    const unverified = Object.values(ERRCODES).filter(
      (entry) => !entry.verified && entry.platform === 'wecom',
    );
    for (const { code } of unverified) {
      sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: code, count: 1 }]);
      expect(await sendRequest(request({ type: 'text', content: `${code}` }, 'wmMenu'), deps)).toMatchObject({
        status: 'failed',
        errcode: code,
      });
    }
    expect(sim.sim.wecom.sent).toHaveLength(0);
  });

  it('retries a send whose answer was lost with the same msgid: sent if WeCom takes it, else uncertain', async () => {
    await customerWrote('wmLost');
    const text = (content: string) => request({ type: 'text', content }, 'wmLost');
    // The connection dropped before WeCom read the call: the retry is the first send.
    const dropped = text('dropped');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'drop', count: 1 }]);
    await expect(sendRequest(dropped, deps)).rejects.toMatchObject({ retryable: true });
    expect(await sendRequest(dropped, deps)).toMatchObject({ status: 'sent', msgid: msgidFor(dropped) });
    // A 5xx leaves the send's fate unknown too: the retry's msgid settles it.
    const gateway = text('gateway');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'http', status: 502, count: 1 }]);
    await expect(sendRequest(gateway, deps)).rejects.toBeInstanceOf(UncertainOutcomeError);
    expect(await sendRequest(gateway, deps)).toMatchObject({ status: 'sent' });
    // WeCom carried the send out and the answer was lost: WeCom refuses the retry's msgid.
    const lost = text('lost');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'lost_answer', count: 1 }]);
    await expect(sendRequest(lost, deps)).rejects.toMatchObject({ retryable: true });
    expect(await sendRequest(lost, deps)).toMatchObject({ status: 'uncertain', msgid: msgidFor(lost) });
    // Any refusal of a retry after an unknown outcome is uncertain, a code WeCom documents included.
    const refused = text('refused');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'lost_answer', count: 1 }]);
    await expect(sendRequest(refused, deps)).rejects.toMatchObject({ retryable: true });
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: 95018, count: 1 }]);
    expect(await sendRequest(refused, deps)).toMatchObject({ status: 'uncertain', errcode: 95018 });
    // An answer that says "not done" clears the note: a later refusal is then the request's failure.
    const busy = text('busy');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: -1, count: 1 }]);
    await expect(sendRequest(busy, deps)).rejects.toMatchObject({ errcode: -1, retryable: true });
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: 95018, count: 1 }]);
    expect(await sendRequest(busy, deps)).toMatchObject({ status: 'failed', errcode: 95018 });
    // The queue's last delivery after a lost answer, and a budget that no longer allows the reply: uncertain.
    await customerWrote('wmLost');
    const last = text('last');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'lost_answer', count: 1 }]);
    await expect(sendRequest(last, deps)).rejects.toMatchObject({ retryable: true });
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: -1, count: 1 }]);
    const record = {
      body: JSON.stringify(last),
      attributes: { ApproximateReceiveCount: String(deps.config.outboundMaxReceives) },
    } as unknown as SQSRecord;
    expect(await sendRecord(record, deps)).toMatchObject({ status: 'uncertain', errcode: -1 });
    const late = text('late');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'lost_answer', count: 1 }]);
    await expect(sendRequest(late, deps)).rejects.toMatchObject({ retryable: true });
    sim.sim.advanceClock(48 * 3600_000);
    expect(await sendRequest(late, deps)).toMatchObject({ status: 'uncertain' });
    expect(sim.sim.wecom.sent.map((sent) => sent.body.content)).toEqual([
      'dropped',
      'gateway',
      'lost',
      'refused',
      'last',
      'late',
    ]);
  });

  it('never reads a retry refused as a repeat as failed: after a 4xx, or a -1, that came after WeCom sent it', async () => {
    await customerWrote('wmAfter');
    const text = (content: string) => request({ type: 'text', content }, 'wmAfter');
    // A first send holds a valid token, so the faults below are not spent on a call refused for a stale one.
    expect(await sendRequest(text('warm'), deps)).toMatchObject({ status: 'sent' });
    // A gateway answered 403 after WeCom carried the send out: WeCom then refuses the retry's msgid.
    const forbidden = text('behind a 403');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'http', status: 403, after: true, count: 1 }]);
    await expect(sendRequest(forbidden, deps)).rejects.toBeInstanceOf(UncertainOutcomeError);
    expect(await sendRequest(forbidden, deps)).toMatchObject({ status: 'uncertain' });
    // WeCom carried it out but answered "busy": the retry's refusal, in a code WeCom does not publish, may be
    // the repeat's.
    const busy = text('busy but sent');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: -1, after: true, count: 1 }]);
    await expect(sendRequest(busy, deps)).rejects.toMatchObject({ errcode: -1, retryable: true });
    expect(await sendRequest(busy, deps)).toMatchObject({ status: 'uncertain' });
    expect(sim.sim.wecom.sent.map((sent) => sent.body.content)).toEqual([
      'warm',
      'behind a 403',
      'busy but sent',
    ]);
  });

  it('records refusals a retry cannot change as failed, and throws transient errors for a retry', async () => {
    const platformLog = recordingLog();
    deps = wired(deps.config, { log: platformLog.log });
    // The budget knows of a message WeCom never saw: WeCom's own refusal (95002) is recorded.
    await deps.budgets.apply({
      app: 'default',
      scope: openKfId,
      customer: 'wmUnknownToWeCom',
      lastCustomerMessageAt: sim.sim.clock.now(),
    });
    expect(
      await sendRequest(request({ type: 'text', content: 'x' }, 'wmUnknownToWeCom'), deps),
    ).toMatchObject({ status: 'failed', errcode: 95002 });
    // The 95xxx alarm counts this line.
    expect(platformLog.lines).toContainEqual({
      level: 'warn',
      args: [
        'platform refused',
        { app: 'default', platform: 'wecom', path: '/cgi-bin/kf/send_msg', errcode: 95002 },
      ],
    });
    await customerWrote('wmSend');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: -1, count: 1 }]);
    const req = request({ type: 'text', content: 'busy' });
    await expect(sendRequest(req, deps)).rejects.toMatchObject({ errcode: -1, retryable: true });
    expect(await sendRequest(req, deps)).toMatchObject({ status: 'sent' });
    // The queue's last delivery of a request: a transient failure becomes its outcome, not a silent DLQ entry.
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: -1, count: 1 }]);
    const last = request({ type: 'text', content: 'last try' });
    const record = {
      body: JSON.stringify(last),
      attributes: { ApproximateReceiveCount: String(deps.config.outboundMaxReceives) },
    } as unknown as SQSRecord;
    expect(await sendRecord(record, deps)).toMatchObject({
      status: 'failed',
      errcode: -1,
      reason: expect.stringMatching(/^gave up after the last retry/),
    });
  });

  // Lambda hands a customer's replies to one invocation together: those behind a failing one are received, not
  // attempted, and the queue's receive count runs ahead of the attempts made.
  it('gives a request its own attempts, counted in the ledger, however many receives were spent skipping it', async () => {
    await customerWrote('wmSkipped');
    const delivery = (req: OutboundRequest, receives: number) =>
      ({
        body: JSON.stringify(req),
        attributes: { ApproximateReceiveCount: String(receives) },
      }) as unknown as SQSRecord;
    const busy = () =>
      sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: -1, count: 1 }]);
    // Skipped nine times behind a failing reply, then its first attempt fails: it is retried, not given up on.
    const behind = request({ type: 'text', content: 'behind' }, 'wmSkipped');
    busy();
    await expect(sendRecord(delivery(behind, 10), deps)).rejects.toMatchObject({ errcode: -1 });
    expect(await sendRecord(delivery(behind, 11), deps)).toMatchObject({ status: 'sent' });
    // The last attempt is the ledger's count, whatever the receive count says.
    const limited = {
      ...deps,
      config: parseConfig({ ...testEnv, WECOM_API_BASE: sim.url, OUTBOUND_MAX_ATTEMPTS: '2' }),
    };
    const twice = request({ type: 'text', content: 'twice' }, 'wmSkipped');
    busy();
    await expect(sendRecord(delivery(twice, 4), limited)).rejects.toMatchObject({ errcode: -1 });
    busy();
    expect(await sendRecord(delivery(twice, 5), limited)).toMatchObject({
      status: 'failed',
      errcode: -1,
      reason: expect.stringMatching(/^gave up after 2 attempts: /),
    });
    expect(sim.sim.wecom.sent.map((sent) => sent.body.content)).toEqual(['behind']);
  });

  it('releases a request without calling anything when the invocation has too little time left', async () => {
    await customerWrote('wmLate');
    const limited = {
      ...deps,
      config: parseConfig({ ...testEnv, WECOM_API_BASE: sim.url, OUTBOUND_MAX_ATTEMPTS: '1' }),
    };
    const late = request({ type: 'text', content: 'late' }, 'wmLate');
    await expect(sendRequest(late, { ...limited, remainingMs: () => 1_000 })).rejects.toBeInstanceOf(
      NotTriedError,
    );
    expect(sim.sim.wecom.sent).toHaveLength(0);
    // Time to begin, not for the send's whole limit: a send our own deadline cut off would be of unknown fate.
    const unhurried = request({ type: 'text', content: 'unhurried' }, 'wmLate');
    await expect(sendRequest(unhurried, { ...deps, remainingMs: () => 9_000 })).rejects.toBeInstanceOf(
      NotTriedError,
    );
    expect(sim.sim.wecom.sent).toHaveLength(0);
    // The release was no attempt: the one allowed is still to come.
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: -1, count: 1 }]);
    expect(await sendRequest(late, { ...limited, remainingMs: () => 60_000 })).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^gave up after 1 attempt: /),
    });
  });

  // ofetch drops its own timeout once it is given a signal, as the sender always gives one in Lambda.
  it('ends a send by its own time limit when the invocation passes a signal of its own', async () => {
    await customerWrote('wmSlowSend');
    const slow = request({ type: 'text', content: 'slow' }, 'wmSlowSend');
    sim.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'latency', ms: 12_000 }]);
    const invocation = new AbortController();
    await expect(sendRequest(slow, { ...deps, signal: invocation.signal })).rejects.toMatchObject({
      name: 'UncertainOutcomeError',
      message: expect.stringContaining('with no answer in time'),
    });
  });

  it("fails a file that cannot arrive within the invocation's time after its attempts, each over by the deadline", async () => {
    // A large file on a slow host: the headers come at once, the bytes never finish.
    const host = await publicHost((_, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.write('89504e47');
    });
    const limited = wired(parseConfig({ ...testEnv, WECOM_API_BASE: sim.url, OUTBOUND_MAX_ATTEMPTS: '2' }), {
      safeFetch: host.safeFetch,
    });
    await customerWrote('wmSlow');
    const huge = request({ type: 'image', url: host.url('/huge.png') }, 'wmSlow');
    const attempt = async () => {
      const deadline = Date.now() + 5_000;
      try {
        return await sendRequest(huge, { ...limited, remainingMs: () => deadline - Date.now() });
      } finally {
        expect(Date.now()).toBeLessThan(deadline);
      }
    };
    try {
      await expect(attempt()).rejects.toMatchObject({
        retryable: true,
        message: 'media from example.invalid did not arrive in time',
      });
      expect(await attempt()).toMatchObject({
        status: 'failed',
        reason: 'gave up after 2 attempts: media from example.invalid did not arrive in time',
      });
    } finally {
      await host.stop();
    }
    expect(sim.sim.wecom.sent).toHaveLength(0);
  });

  it('replies on an event code with send_msg_on_event', async () => {
    const code = sim.sim.enterSession(openKfId, 'wmWelcome') ?? '';
    const req = request(
      { type: 'event_reply', code, message: { type: 'text', content: '欢迎光临' } },
      'wmWelcome',
    );
    expect(await sendRequest(req, deps)).toMatchObject({ status: 'sent' });
    expect(sim.sim.wecom.sent).toMatchObject([
      { via: 'send_msg_on_event', touser: 'wmWelcome', body: { content: '欢迎光临' } },
    ]);
  });

  it('maps every kf message type to the fields WeCom expects', async () => {
    await customerWrote('wmTypes');
    const menu = {
      type: 'msgmenu' as const,
      headContent: '请选择',
      list: [
        { type: 'click' as const, click: { id: '1', content: '满意' } },
        { type: 'text' as const, text: { content: '谢谢', noNewline: 1 as const } },
      ],
    };
    expect(await sendRequest(request(menu, 'wmTypes'), deps)).toMatchObject({ status: 'sent' });
    expect(
      await sendRequest(
        request({ type: 'location', latitude: 23.1, longitude: 113.3, name: '广州塔' }, 'wmTypes'),
        deps,
      ),
    ).toMatchObject({ status: 'sent' });
    expect(
      await sendRequest(
        request({ type: 'ca_link', linkUrl: 'https://work.weixin.qq.com/ca/abc' }, 'wmTypes'),
        deps,
      ),
    ).toMatchObject({ status: 'sent' });
    expect(sim.sim.wecom.sent.map((s) => s.body)).toEqual([
      {
        head_content: '请选择',
        list: [
          { type: 'click', click: { id: '1', content: '满意' } },
          { type: 'text', text: { content: '谢谢', no_newline: 1 } },
        ],
      },
      { name: '广州塔', latitude: 23.1, longitude: 113.3 },
      { link_url: 'https://work.weixin.qq.com/ca/abc' },
    ]);
  });

  it('rejects what the budget does not allow without calling WeCom: no message in 48 h, a sixth reply, a servicer session', async () => {
    const calls = () => sim.sim.wecom.sent.length;
    expect(await sendRequest(request({ type: 'text', content: 'cold' }, 'wmCold'), deps)).toMatchObject({
      status: 'rejected',
      reason: 'no customer message in the last 48 h',
    });
    expect(calls()).toBe(0);
    await customerWrote('wmQuota');
    for (let i = 0; i < 5; i++)
      expect((await sendRequest(request({ type: 'text', content: `r${i}` }, 'wmQuota'), deps)).status).toBe(
        'sent',
      );
    expect(await sendRequest(request({ type: 'text', content: 'sixth' }, 'wmQuota'), deps)).toMatchObject({
      status: 'rejected',
      reason: '5 replies already sent since the customer last wrote',
    });
    expect(calls()).toBe(5);
    await customerWrote('wmQuota');
    expect((await sendRequest(request({ type: 'text', content: 'again' }, 'wmQuota'), deps)).status).toBe(
      'sent',
    );
    // kf-bridge reads a servicer's session from WeCom's events, and asks WeCom before it drops a reply on that.
    const servicerHas = () =>
      deps.budgets.apply({
        app: 'default',
        scope: openKfId,
        customer: 'wmQuota',
        session: { state: 'servicer', at: sim.sim.clock.now() },
      });
    sim.sim.servicerChangesSession(openKfId, 'wmQuota', 'take', 'alice');
    await servicerHas();
    expect(await sendRequest(request({ type: 'text', content: 'bot' }, 'wmQuota'), deps)).toMatchObject({
      status: 'rejected',
      reason: 'a servicer has the session',
    });
    // The session went back to the assistant with no event kf-bridge saw: WeCom's word lets the reply out.
    const account = sim.sim.wecom.accounts.get(openKfId);
    if (account) sim.sim.wecom.session(account, 'wmQuota').state = 1;
    expect((await sendRequest(request({ type: 'text', content: 'back' }, 'wmQuota'), deps)).status).toBe(
      'sent',
    );
    expect((await deps.budgets.read({ app: 'default', scope: openKfId, customer: 'wmQuota' })).session).toBe(
      'open',
    );
    sim.sim.advanceClock(48 * 3600_000);
    expect(await sendRequest(request({ type: 'text', content: 'late' }, 'wmQuota'), deps)).toMatchObject({
      status: 'rejected',
      reason: 'no customer message in the last 48 h',
    });
    expect(calls()).toBe(7);
  });

  it('uploads media given as an https URL or an S3 object once, and reuses its media_id', async () => {
    const png = Buffer.from('89504e470d0a1a0a-not-really-a-png-but-long-enough');
    const host = await publicHost((request, response) => {
      if (request.url === '/missing.png') return void response.writeHead(404).end();
      // An image over WeCom's 10 MB, its size announced: refused before a byte of it is read.
      if (request.url === '/poster.png')
        return void response
          .writeHead(200, { 'content-type': 'image/png', 'content-length': String(30 * 1024 * 1024) })
          .write('89504e47');
      response.writeHead(200, { 'content-type': 'image/png' }).end(png);
    });
    deps = wired(deps.config, { safeFetch: host.safeFetch });
    const s3 = s3Client();
    await s3.send(
      new PutObjectCommand({
        Bucket: 'mediabucket',
        Key: 'catalogue/photo.png',
        Body: png,
        ContentType: 'image/png',
      }),
    );
    await customerWrote('wmMedia');
    const storedBefore = sim.sim.media.items.size;
    const fromUrl = (path: string) => ({ type: 'image' as const, url: host.url(path) });
    try {
      expect((await sendRequest(request(fromUrl('/photo.png'), 'wmMedia'), deps)).status).toBe('sent');
      expect((await sendRequest(request(fromUrl('/photo.png'), 'wmMedia'), deps)).status).toBe('sent');
      expect(
        (
          await sendRequest(
            request({ type: 'image', s3: { bucket: 'mediabucket', key: 'catalogue/photo.png' } }, 'wmMedia'),
            deps,
          )
        ).status,
      ).toBe('sent');
      // A link's thumbnail from the same S3 object is the same image: no second upload.
      const link = request(
        {
          type: 'link',
          title: '新品',
          url: 'https://example.com/new',
          thumbS3: { bucket: 'mediabucket', key: 'catalogue/photo.png' },
        },
        'wmMedia',
      );
      expect((await sendRequest(link, deps)).status).toBe('sent');
      expect(await sendRequest(request(fromUrl('/missing.png'), 'wmMedia'), deps)).toMatchObject({
        status: 'failed',
        reason: 'media URL answered HTTP 404',
      });
      expect(await sendRequest(request(fromUrl('/poster.png'), 'wmMedia'), deps)).toMatchObject({
        status: 'failed',
        reason: "image media is over 10 MB, WeCom's limit",
      });
    } finally {
      await host.stop();
    }
    expect(sim.sim.media.items.size - storedBefore).toBe(2);
    const [first, second, third, fourth] = sim.sim.wecom.sent;
    expect(first?.body.media_id).toBe(second?.body.media_id);
    expect(third?.body.media_id).not.toBe(first?.body.media_id);
    expect(fourth?.body).toMatchObject({
      url: 'https://example.com/new',
      thumb_media_id: third?.body.media_id,
    });
    expect(sim.sim.media.get(testEnv.WECOM_CORP_ID, String(first?.body.media_id)).data).toEqual(png);
  });

  it('refuses a file whose URL redirects to an internal address, and fetches nothing from there', async () => {
    let internalRequests = 0;
    const internal = createServer((_, response) => {
      internalRequests++;
      response.writeHead(200, { 'content-type': 'image/png' }).end('internal only');
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    const secret = `http://127.0.0.1:${(internal.address() as AddressInfo).port}/secret.png`;
    const host = await publicHost((_, response) => void response.writeHead(302, { location: secret }).end());
    deps = wired(deps.config, { safeFetch: host.safeFetch });
    await customerWrote('wmRedirect');
    try {
      const redirected = request({ type: 'image', url: host.url('/photo.png') }, 'wmRedirect');
      expect(await sendRequest(redirected, deps)).toMatchObject({
        status: 'failed',
        reason: 'media URL redirects to a URL that is not https',
      });
    } finally {
      await host.stop();
      internal.close();
    }
    expect(internalRequests).toBe(0);
    expect(sim.sim.wecom.sent).toHaveLength(0);
  });

  it('refuses a file whose host resolves to loopback', async () => {
    await customerWrote('wmLoopback');
    const local = request({ type: 'file', url: 'https://localhost/report.pdf' }, 'wmLoopback');
    expect(await sendRequest(local, deps)).toMatchObject({
      status: 'failed',
      reason: 'media URL host localhost resolves to an internal address (loopback)',
    });
  });

  it("refuses a file past its type's limit as it arrives, without waiting for the rest", async () => {
    let hungUp: Promise<unknown> | undefined;
    // An image of no announced size, past WeCom's 10 MB, whose end never comes.
    const host = await publicHost((_, response) => {
      hungUp = new Promise((resolve) => response.on('close', resolve));
      response.writeHead(200, { 'content-type': 'image/png' }).write(Buffer.alloc(10 * 1024 * 1024 + 65_536));
    });
    deps = wired(deps.config, { safeFetch: host.safeFetch });
    await customerWrote('wmEndless');
    try {
      const endless = request({ type: 'image', url: host.url('/endless.png') }, 'wmEndless');
      expect(await sendRequest(endless, deps)).toMatchObject({
        status: 'failed',
        reason: "image media is over 10 MB, WeCom's limit",
      });
      await hungUp;
    } finally {
      await host.stop();
    }
    expect(sim.sim.wecom.sent).toHaveLength(0);
  });
});
