import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutoReplyBot } from '../../examples/autoReplyBot';
import { TEXT_MAX_BYTES } from '../../lib/contracts/outbound';
import type { LocalSystem } from '../../local/system';
import { startTestSystem } from '../support/localSystem';
import { waitFor } from '../support/wait';
import { testEnv } from '../support/wechat';

let system: LocalSystem;

beforeAll(async () => {
  // What `npm start` runs; each test starts the consumer it is about, so only one reads inbound.fifo at a time.
  system = await startTestSystem();
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');
const botAnswer = (text: string) => `您好！我是 kf-bridge 演示机器人。您说的是：「${text}」`;

/** The texts sent to one customer, once there are at least `count`. */
async function textsSentTo(customer: string, count: number, channel: 'wecom' | 'mp' = 'wecom') {
  const sent = await waitFor(async () => {
    const texts = system.simulator.sim[channel].sent
      .filter((s) => s.touser === customer)
      .map((s) => String((s.body as { content?: unknown }).content));
    return texts.length >= count ? [texts] : [];
  }, 40_000);
  return sent[0] ?? [];
}

describe('the demo bot (examples/autoReplyBot.ts)', () => {
  let bot: { stop(): Promise<void> };
  beforeAll(() => {
    bot = startAutoReplyBot({
      sqs: system.stack.clients.sqs,
      inboundUrl: system.stack.queues.InboundQueue ?? '',
      outboundUrl: system.stack.queues.OutboundQueue ?? '',
      log: () => {},
    });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('answers a 3,000-character kf message in several in-order replies, each within the 2,048 bytes WeCom takes', async () => {
    const long = '您好，我想咨询一下订单的配送进度。'.repeat(177).slice(0, 3000);
    system.simulator.sim.customerSays(system.demo.openKfId, 'wmLongMessage', long);
    const texts = await textsSentTo('wmLongMessage', 5);
    expect(texts.length).toBe(5);
    for (const text of texts) expect(bytesOf(text)).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    expect(texts.join('')).toBe(botAnswer(long));
  });

  it('answers an Official Account follower in parts as well', async () => {
    const openid = `oLongMessage${Date.now()}`;
    const long = 'Where is my parcel? '.repeat(150);
    system.simulator.sim.mpUserWrites(testEnv.MP_APP_ID, openid, { MsgType: 'text', Content: long });
    const texts = await textsSentTo(openid, 2, 'mp');
    expect(texts.length).toBe(2);
    for (const text of texts) expect(bytesOf(text)).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    expect(texts.join('')).toBe(botAnswer(long));
  });

  it('keeps to the 5 replies a customer message allows, marking the answer cut short', async () => {
    const emoji = '😀'.repeat(3000);
    system.simulator.sim.customerSays(system.demo.openKfId, 'wmEmojiMessage', emoji);
    const texts = await textsSentTo('wmEmojiMessage', 5);
    expect(texts.length).toBe(5);
    for (const text of texts) expect(bytesOf(text)).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    const answer = texts.join('');
    expect(answer.endsWith('…')).toBe(true);
    expect(botAnswer(emoji).startsWith(answer.slice(0, -1))).toBe(true);
  });
});
