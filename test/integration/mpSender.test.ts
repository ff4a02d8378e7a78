import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../lib/config/config';
import {
  type MpOutboundMessage,
  type MpOutboundRequest,
  OUTBOUND_SCHEMA,
} from '../../lib/contracts/outbound';
import type { SafeFetch } from '../../lib/http/safeFetch';
import { NO_METRICS } from '../../lib/metrics';
import { type SenderDeps, sendRecord, sendRequest } from '../../lib/outbound/sender';
import { senderWiring } from '../../lib/outbound/wiring';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { documentClient, itemStores, localS3Objects, queueClient, s3Client } from '../support/aws';
import { recordingLog } from '../support/recording';
import { publicHost } from '../support/tls';
import { testEnv } from '../support/wechat';

const db = documentClient();
/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
const s3 = s3Client();
const APP_ID = testEnv.MP_APP_ID;
let sim: RunningSimulator;
let deps: SenderDeps;
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
  sim.sim.createMpApp({ appId: APP_ID, secret: testEnv.MP_APP_SECRET, token: testEnv.MP_TOKEN });
  const config = parseConfig({ ...testEnv, MP_API_BASE: sim.url });
  deps = wired(config);
});

/**
 * The sender as it deploys; its clock is the simulator's, so the tests move time for both at once. Files come
 * from public https hosts only, unless a test hands a fetcher for its own host.
 */
const wired = (config: Config, safeFetch?: SafeFetch) =>
  senderWiring(config, {
    sqs: queueClient(),
    items,
    s3: localS3Objects(),
    log: recordingLog().log,
    meter: NO_METRICS,
    now: () => sim.sim.clock.now(),
    ...(safeFetch && { safeFetch }),
  }).deps;

/** Follower ids are fresh per test: budgets live in DynamoDB across tests. */
const follower = (name: string) => `o${name}${run}`;

/** A follower writes, and the budget learns of it as the callback would tell it. */
async function followerWrote(openid: string, event?: string) {
  sim.sim.mpUserWrites(
    APP_ID,
    openid,
    event ? { MsgType: 'event', Event: event } : { MsgType: 'text', Content: '你好' },
  );
  const at = sim.sim.clock.now();
  await deps.budgets.apply(
    event
      ? { app: 'default', scope: 'mp', customer: openid, lastEventAt: at }
      : {
          app: 'default',
          scope: 'mp',
          customer: openid,
          lastCustomerMessageAt: at,
          lastCustomerMessageId: `${openid}-${at}`,
        },
  );
}

const request = (openid: string, message: MpOutboundMessage, kfAccount?: string): MpOutboundRequest => ({
  schema: OUTBOUND_SCHEMA,
  requestId: `mp-${run}-${Math.random().toString(36).slice(2)}`,
  app: 'default',
  channel: 'mp',
  openid,
  ...(kfAccount && { kfAccount }),
  message,
});

describe('the sender, Official Account', () => {
  it('sends every MP message type with the fields message/custom/send expects', async () => {
    const alice = follower('Alice');
    const upload = (type: 'image' | 'voice' | 'video' | 'thumb', name: string) =>
      sim.sim.uploadMedia(APP_ID, type, name, Buffer.from('kf-bridge test media'));
    const thumb = upload('thumb', 'cover.jpg');
    const messages: MpOutboundMessage[] = [
      { type: 'text', content: '您好' },
      { type: 'image', mediaId: upload('image', 'a.png') },
      { type: 'voice', mediaId: upload('voice', 'a.mp3') },
      { type: 'video', mediaId: upload('video', 'a.mp4'), thumbMediaId: thumb, title: '视频' },
      { type: 'music', title: '歌', musicUrl: 'https://example.com/a.mp3', thumbMediaId: thumb },
      { type: 'news', articles: [{ title: '文章', url: 'https://example.com/a' }] },
      { type: 'mpnews', mediaId: 'permanent-material' },
      { type: 'mpnewsarticle', articleId: 'article-1' },
      { type: 'msgmenu', headContent: '评价', list: [{ id: '101', content: '满意' }], tailContent: '谢谢' },
      { type: 'wxcard', cardId: 'pFS7Fjg' },
      { type: 'miniprogrampage', appId: 'wx0000000000000001', pagePath: 'pages/index', thumbMediaId: thumb },
    ];
    for (const [index, message] of messages.entries()) {
      // Five replies per follower message: the follower writes again before every fifth.
      if (index % 5 === 0) await followerWrote(alice);
      expect(await sendRequest(request(alice, message, 'kf01@gh_test'), deps)).toMatchObject({
        status: 'sent',
      });
    }
    expect(sim.sim.mp.sent.map((sent) => sent.msgtype)).toEqual(messages.map((m) => m.type));
    expect(sim.sim.mp.sent.map((sent) => sent.body).slice(3, 6)).toEqual([
      { media_id: expect.any(String), thumb_media_id: thumb, title: '视频' },
      {
        title: '歌',
        musicurl: 'https://example.com/a.mp3',
        hqmusicurl: 'https://example.com/a.mp3',
        thumb_media_id: thumb,
      },
      { articles: [{ title: '文章', url: 'https://example.com/a' }] },
    ]);
    expect(sim.sim.mp.sent[0]).toMatchObject({ kfAccount: 'kf01@gh_test', touser: alice });
  });

  it('keeps to 5 replies per follower message and 3 within a minute of a follow, without calling MP', async () => {
    const bob = follower('Bob');
    const text = (content: string) => request(bob, { type: 'text', content });
    expect(await sendRequest(text('cold'), deps)).toMatchObject({
      status: 'rejected',
      reason: 'no customer message in the last 48 h',
    });
    await followerWrote(bob, 'subscribe');
    for (let i = 0; i < 3; i++) expect((await sendRequest(text(`welcome ${i}`), deps)).status).toBe('sent');
    expect((await sendRequest(text('fourth'), deps)).status).toBe('rejected');
    await followerWrote(bob);
    for (let i = 0; i < 5; i++) expect((await sendRequest(text(`reply ${i}`), deps)).status).toBe('sent');
    expect(await sendRequest(text('sixth'), deps)).toMatchObject({
      status: 'rejected',
      reason: '5 replies already sent since the customer last wrote',
    });
    expect(sim.sim.mp.sent).toHaveLength(8);
    // A minute after a follow with no message since, its allowance is gone.
    await followerWrote(bob, 'subscribe');
    sim.sim.advanceClock(61_000);
    expect((await sendRequest(text('late'), deps)).status).toBe('rejected');
    expect(sim.sim.mp.sent).toHaveLength(8);
  });

  it('shows typing within 30 s of a message, spending no reply, and refuses it later', async () => {
    const carol = follower('Carol');
    await followerWrote(carol);
    expect((await sendRequest(request(carol, { type: 'typing' }), deps)).status).toBe('sent');
    for (let i = 0; i < 5; i++)
      expect((await sendRequest(request(carol, { type: 'text', content: `${i}` }), deps)).status).toBe(
        'sent',
      );
    expect(sim.sim.mp.typings).toMatchObject([{ touser: carol, command: 'Typing' }]);
    sim.sim.advanceClock(31_000);
    expect(await sendRequest(request(carol, { type: 'typing' }), deps)).toMatchObject({
      status: 'rejected',
      reason: 'typing needs a customer message in the last 30 s',
    });
  });

  it('records a send that got no answer as uncertain, and never sends it twice', async () => {
    const dave = follower('Dave');
    await followerWrote(dave);
    // A first send holds a valid token, so the fault below hits the send itself, not a stale token's refusal.
    expect((await sendRequest(request(dave, { type: 'text', content: 'warm' }), deps)).status).toBe('sent');
    // MP carried the send out, but the answer was lost.
    sim.sim.setFaults([{ endpoint: 'message/custom/send', kind: 'lost_answer', count: 1 }]);
    const lost = request(dave, { type: 'text', content: 'lost answer' });
    expect(await sendRequest(lost, deps)).toMatchObject({
      status: 'uncertain',
      reason: expect.stringContaining('may or may not have reached the customer'),
    });
    expect(await sendRequest(lost, deps)).toMatchObject({ status: 'uncertain' });
    // A crash between MP's answer and the ledger: the retry does not send again.
    const crashed = request(dave, { type: 'text', content: 'crash' });
    const record = deps.ledger.record.bind(deps.ledger);
    deps.ledger.record = async () => {
      throw new Error('killed after sending, before recording');
    };
    await expect(sendRequest(crashed, deps)).rejects.toThrow('killed');
    deps.ledger.record = record;
    expect(await sendRequest(crashed, deps)).toMatchObject({
      status: 'uncertain',
      reason: expect.stringContaining('may or may not have reached the customer'),
    });
    expect(sim.sim.mp.sent.map((sent) => sent.body.content)).toEqual(['warm', 'lost answer', 'crash']);
    // An answer that says "not done" is safe to retry.
    const busy = request(dave, { type: 'text', content: 'busy' });
    sim.sim.setFaults([{ endpoint: 'message/custom/send', kind: 'errcode', errcode: -1, count: 1 }]);
    await expect(sendRequest(busy, deps)).rejects.toMatchObject({ errcode: -1, retryable: true });
    sim.sim.setFaults([{ endpoint: 'message/custom/send', kind: 'errcode', errcode: 45033, count: 1 }]);
    await expect(sendRequest(busy, deps)).rejects.toMatchObject({ errcode: 45033, retryable: true });
    expect(await sendRequest(busy, deps)).toMatchObject({ status: 'sent' });
    expect(sim.sim.mp.sent).toHaveLength(4);
  });

  it('records a send a gateway answered with a 5xx after MP carried it out as uncertain, and never sends it twice', async () => {
    const frank = follower('Frank');
    await followerWrote(frank);
    // A first send holds a valid token, so the send behind the gateway is not refused for a stale one.
    expect((await sendRequest(request(frank, { type: 'text', content: 'warm' }), deps)).status).toBe('sent');
    // A gateway in front of MP: the send reaches MP, the answer that comes back is a 502.
    const gateway = createServer(async (incoming, outgoing) => {
      const chunks: Buffer[] = [];
      for await (const chunk of incoming) chunks.push(chunk as Buffer);
      const answer = await fetch(`${sim.url}${incoming.url}`, {
        method: incoming.method ?? 'GET',
        headers: { 'content-type': 'application/json' },
        ...(incoming.method === 'POST' && { body: Buffer.concat(chunks) }),
      });
      const body = await answer.text();
      if (incoming.url?.startsWith('/cgi-bin/message/custom/send'))
        outgoing.writeHead(502).end('Bad Gateway');
      else outgoing.writeHead(answer.status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    try {
      const config = parseConfig({
        ...testEnv,
        MP_API_BASE: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`,
      });
      const behind = wired(config);
      const reply = request(frank, { type: 'text', content: 'through the gateway' });
      expect(await sendRequest(reply, behind)).toMatchObject({
        status: 'uncertain',
        reason: expect.stringContaining('HTTP 502'),
      });
      expect(await sendRequest(reply, behind)).toMatchObject({ status: 'uncertain' });
      expect(sim.sim.mp.sent.map((sent) => sent.body.content)).toEqual(['warm', 'through the gateway']);
    } finally {
      await new Promise<void>((resolve) => gateway.close(() => resolve()));
    }
  });

  it('records a send MP carried out but a gateway answered with a 4xx as uncertain, never sent twice', async () => {
    const gina = follower('Gina');
    await followerWrote(gina);
    // A first send holds a valid token, so the fault below is not spent on a call refused for a stale one.
    expect((await sendRequest(request(gina, { type: 'text', content: 'warm' }), deps)).status).toBe('sent');
    const reply = request(gina, { type: 'text', content: 'behind a 400' });
    sim.sim.setFaults([
      { endpoint: 'message/custom/send', kind: 'http', status: 400, after: true, count: 1 },
    ]);
    expect(await sendRequest(reply, deps)).toMatchObject({
      status: 'uncertain',
      reason: expect.stringContaining('HTTP 400'),
    });
    expect(await sendRequest(reply, deps)).toMatchObject({ status: 'uncertain' });
    expect(sim.sim.mp.sent.map((sent) => sent.body.content)).toEqual(['warm', 'behind a 400']);
  });

  it('counts attempts in the ledger: MP calls and attempts whose files failed, not the receives spent skipping', async () => {
    const gina = follower('Gina');
    await followerWrote(gina);
    const limited = {
      ...deps,
      config: parseConfig({ ...testEnv, MP_API_BASE: sim.url, OUTBOUND_MAX_ATTEMPTS: '2' }),
    };
    const delivery = (req: MpOutboundRequest, receives: number) =>
      ({
        body: JSON.stringify(req),
        attributes: { ApproximateReceiveCount: String(receives) },
      }) as unknown as SQSRecord;
    const busy = request(gina, { type: 'text', content: 'busy' });
    sim.sim.setFaults([{ endpoint: 'message/custom/send', kind: 'errcode', errcode: -1, count: 2 }]);
    await expect(sendRecord(delivery(busy, 6), limited)).rejects.toMatchObject({ errcode: -1 });
    expect(await sendRecord(delivery(busy, 7), limited)).toMatchObject({
      status: 'failed',
      errcode: -1,
      reason: expect.stringMatching(/^gave up after 2 attempts: /),
    });
    // A file the sender could not upload is an attempt too, though MP was never called.
    const picture = request(gina, {
      type: 'image',
      s3: { bucket: 'mediabucket', key: `pictures/${run}.png` },
    });
    await s3.send(
      new PutObjectCommand({ Bucket: 'mediabucket', Key: `pictures/${run}.png`, Body: Buffer.from('a png') }),
    );
    sim.sim.setFaults([{ endpoint: 'media/upload', kind: 'errcode', errcode: -1, count: 2 }]);
    await expect(sendRecord(delivery(picture, 3), limited)).rejects.toMatchObject({ errcode: -1 });
    expect(await sendRecord(delivery(picture, 4), limited)).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^gave up after 2 attempts: /),
    });
    expect(sim.sim.mp.sent).toHaveLength(0);
  });

  it('never takes an upload the deadline cut short for a send: the request fails after its attempts', async () => {
    const hana = follower('Hana');
    await followerWrote(hana);
    const limited = {
      ...deps,
      config: parseConfig({ ...testEnv, MP_API_BASE: sim.url, OUTBOUND_MAX_ATTEMPTS: '2' }),
    };
    await s3.send(
      new PutObjectCommand({ Bucket: 'mediabucket', Key: `videos/${run}.mp4`, Body: Buffer.from('a video') }),
    );
    const video = request(hana, { type: 'video', s3: { bucket: 'mediabucket', key: `videos/${run}.mp4` } });
    const attempt = async () => {
      const deadline = Date.now() + 5_000;
      try {
        return await sendRequest(video, { ...limited, remainingMs: () => deadline - Date.now() });
      } finally {
        expect(Date.now()).toBeLessThan(deadline);
      }
    };
    sim.sim.setFaults([{ endpoint: 'media/upload', kind: 'latency', ms: 8_000 }]);
    await expect(attempt()).rejects.toMatchObject({ retryable: true });
    expect(await attempt()).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(
        /^gave up after 2 attempts: \/cgi-bin\/media\/upload .*no answer in time/,
      ),
    });
    expect(sim.sim.mp.sent).toHaveLength(0);
  });

  it('sends a request delivered twice at once only once, and keeps the outcome that is known', async () => {
    const hugo = follower('Hugo');
    await followerWrote(hugo);
    const reply = request(hugo, { type: 'text', content: 'twice at once' });
    await Promise.all([sendRequest(reply, deps), sendRequest(reply, deps)]);
    expect(sim.sim.mp.sent).toHaveLength(1);
    expect(await deps.ledger.read('default', reply.requestId)).toMatchObject({ status: 'sent' });
  });

  it("refuses a thumbnail by URL over the Official Account's 64 KB, without uploading it", async () => {
    const iris = follower('Iris');
    await followerWrote(iris);
    const host = await publicHost((_, response) => {
      response.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.alloc(100 * 1024, 0xff));
    });
    const stored = sim.sim.media.items.size;
    try {
      const music = request(iris, {
        type: 'music',
        musicUrl: 'https://example.com/song.mp3',
        thumbUrl: host.url('/cover.jpg'),
      });
      expect(await sendRequest(music, wired(deps.config, host.safeFetch))).toMatchObject({
        status: 'failed',
        reason: "thumb media is over 64 KB, the Official Account's limit",
      });
    } finally {
      await host.stop();
    }
    expect(sim.sim.media.items.size).toBe(stored);
    expect(sim.sim.mp.sent).toHaveLength(0);
  });

  it("records MP's own refusal, and uploads a thumbnail from S3 as MP's thumb media", async () => {
    const erin = follower('Erin');
    // The budget knows of a message MP never saw: MP's 45015 is recorded.
    await deps.budgets.apply({
      app: 'default',
      scope: 'mp',
      customer: erin,
      lastCustomerMessageAt: sim.sim.clock.now(),
      lastCustomerMessageId: 'unseen',
    });
    expect(await sendRequest(request(erin, { type: 'text', content: 'x' }), deps)).toMatchObject({
      status: 'failed',
      errcode: 45015,
    });
    await followerWrote(erin);
    await s3.send(
      new PutObjectCommand({
        Bucket: 'mediabucket',
        Key: `covers/${run}.jpg`,
        Body: Buffer.from('a small jpeg cover'),
        ContentType: 'image/jpeg',
      }),
    );
    const music = request(erin, {
      type: 'music',
      musicUrl: 'https://example.com/song.mp3',
      thumbS3: { bucket: 'mediabucket', key: `covers/${run}.jpg` },
    });
    expect(await sendRequest(music, deps)).toMatchObject({ status: 'sent' });
    const thumbId = String(sim.sim.mp.sent[0]?.body.thumb_media_id);
    expect(sim.sim.media.get(APP_ID, thumbId)).toMatchObject({ type: 'thumb', owner: APP_ID });

    // Earlier versions cached a thumb's missing id as 'undefined' for 3 days: such an entry is uploaded again.
    const { Items = [] } = await db.send(
      new QueryCommand({
        TableName: testEnv.STATE_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'MEDIA#default#mp' },
      }),
    );
    for (const item of Items)
      await db.send(
        new PutCommand({ TableName: testEnv.STATE_TABLE, Item: { ...item, mediaId: 'undefined' } }),
      );
    await followerWrote(erin);
    expect(await sendRequest({ ...music, requestId: `${music.requestId}-again` }, deps)).toMatchObject({
      status: 'sent',
    });
    const again = String(sim.sim.mp.sent[1]?.body.thumb_media_id);
    expect(again).not.toBe('undefined');
    expect(sim.sim.media.get(APP_ID, again)).toMatchObject({ type: 'thumb' });
  });
});
