import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OUTBOUND_SCHEMA } from '../../lib/contracts/outbound';
import type { LocalSystem } from '../../local/system';
import { describeInBrowser, launchBrowser } from '../support/browser';
import { startTestSystem } from '../support/localSystem';

let system: LocalSystem;
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
  system = await startTestSystem({ demoBot: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

describeInBrowser('the simulator web page, in a real browser', () => {
  it("shows a message typed on the page, and the demo bot's answer after its round trip through kf-bridge", async () => {
    const page = await browser.newPage();
    await page.goto(`${system.simulator.url}/`);
    await page.locator('#write-account option').first().waitFor({ state: 'attached' });
    expect(await page.locator('#write-account option').count()).toBe(1);
    await page.fill('#write-customer', 'wmBrowserCustomer');
    await page.fill('#write-text', '你好，我的订单还没到');
    await page.click('#write-send');

    const customer = page.locator(`[data-customer="wmBrowserCustomer"]`);
    await customer
      .locator('.message.from-customer', { hasText: '你好，我的订单还没到' })
      .waitFor({ timeout: 10_000 });

    // The round trip: callback → puller → inbound.fifo → demo bot → outbound.fifo → sender → WeCom → page.
    await customer
      .locator('.message.from-api', { hasText: '您说的是：「你好，我的订单还没到」' })
      .waitFor({ timeout: 20_000 });
    expect(system.simulator.sim.wecom.sent.filter((s) => s.touser === 'wmBrowserCustomer')).toHaveLength(1);
    await expect(customer.locator('.state').textContent()).resolves.toContain('1');

    await page.click('[data-fault="sync-1"]');
    await expect
      .poll(() => system.simulator.sim.faults.list())
      .toEqual([{ endpoint: 'kf/sync_msg', kind: 'errcode', errcode: -1, probability: 0.1 }]);
    const screenshot = await page.screenshot({ fullPage: true });
    expect(screenshot.length).toBeGreaterThan(10_000);
    await page.close();
  });

  it('round-trips an Official Account follower: the OA panel writes to the MP callback and shows the bot reply, its window and quota', async () => {
    const page = await browser.newPage();
    await page.goto(`${system.simulator.url}/`);
    await page.locator('#mp-app option').first().waitFor({ state: 'attached' });
    await page.fill('#mp-openid', 'oBrowserFollower');
    await page.fill('#mp-text', '请问门店几点开门？');
    await page.click('#mp-send');

    const follower = page.locator('[data-openid="oBrowserFollower"]');
    await follower
      .locator('.message.from-customer', { hasText: '请问门店几点开门？' })
      .waitFor({ timeout: 10_000 });
    await follower
      .locator('.message.from-api', { hasText: '您说的是：「请问门店几点开门？」' })
      .waitFor({ timeout: 20_000 });
    await expect(follower.locator('.quota').textContent()).resolves.toBe('replies left: 4');
    await expect(follower.locator('.customer-head').textContent()).resolves.toContain('48 h window ends');
    expect(system.simulator.sim.mp.sent.filter((sent) => sent.touser === 'oBrowserFollower')).toHaveLength(1);
    await page.close();
  });

  it("shows a message's trace when clicked: pushed and accepted, pulled, published; the reply accepted and sent", async () => {
    const page = await browser.newPage();
    await page.goto(`${system.simulator.url}/`);
    await page.locator('#write-account option').first().waitFor({ state: 'attached' });
    await page.fill('#write-customer', 'wmTraceCustomer');
    await page.fill('#write-text', '查一下物流');
    await page.click('#write-send');
    const customer = page.locator('[data-customer="wmTraceCustomer"]');
    await customer.locator('.message.from-api').waitFor({ timeout: 20_000 });

    await customer.locator('.message.from-customer').click();
    const inbound = customer.locator('.trace').first();
    await expect
      .poll(() => inbound.locator('li').allTextContents(), { timeout: 10_000 })
      .toEqual([
        expect.stringMatching(/^callback pushed; the product answered 200/),
        expect.stringMatching(/^pull returned by kf\/sync_msg/),
        expect.stringMatching(/^inbound\.fifo published to inbound\.fifo/),
      ]);
    await customer.locator('.message.from-api').click();
    const reply = customer.locator('.trace').nth(1);
    await expect
      .poll(() => reply.locator('li').allTextContents(), { timeout: 10_000 })
      .toEqual([
        expect.stringMatching(/^reply kf\/send_msg accepted/),
        'attempts 1 attempt by the sender',
        expect.stringMatching(/^outcome request bot-\S+: sent/),
      ]);
    await page.close();
  });

  it('shows a reply the platform refused, with its errcode, and the outcome kf-bridge recorded', async () => {
    const { sim } = system.simulator;
    sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'errcode', errcode: 95018, probability: 1 }]);
    const page = await browser.newPage();
    try {
      await page.goto(`${system.simulator.url}/`);
      await page.locator('#write-account option').first().waitFor({ state: 'attached' });
      await page.fill('#write-customer', 'wmRefusedReply');
      await page.fill('#write-text', '在吗');
      await page.click('#write-send');
      const refused = page.locator('[data-customer="wmRefusedReply"] .message.from-refused');
      await refused.waitFor({ timeout: 20_000 });
      await refused.click();
      await expect
        .poll(() => page.locator('[data-customer="wmRefusedReply"] .trace li').allTextContents(), {
          timeout: 10_000,
        })
        .toEqual([
          expect.stringMatching(/^reply kf\/send_msg refused: errcode 95018/),
          expect.stringMatching(/^attempts \d+ attempts? by the sender$/),
          expect.stringMatching(/^outcome request bot-\S+: failed: .*\(errcode 95018\)/),
        ]);
    } finally {
      sim.setFaults([]);
      await page.close();
    }
  });

  it('shows a reply kf-bridge cannot send (over 2,048 bytes) as not sent, with the reason, once it is dead-lettered', async () => {
    const { stack, simulator } = system;
    const openKfId = [...simulator.sim.wecom.accounts.keys()][0] ?? '';
    await stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.OutboundQueue,
        MessageGroupId: `default#${openKfId}#wmLongReply`,
        MessageDeduplicationId: 'page-long-reply',
        MessageBody: JSON.stringify({
          schema: OUTBOUND_SCHEMA,
          requestId: 'page-long-reply',
          app: 'default',
          channel: 'kf',
          openKfId,
          externalUserId: 'wmLongReply',
          message: { type: 'text', content: '很长的回复'.repeat(600) },
        }),
      }),
    );
    const page = await browser.newPage();
    await page.goto(`${system.simulator.url}/`);
    const unsent = page.locator('.message.from-unsent', { hasText: '很长的回复' });
    await unsent.waitFor({ timeout: 50_000 });
    await expect(unsent.locator('.why').textContent()).resolves.toBe(
      'dead letter: in the outbound dead-letter queue: outbound request: message.content is longer than 2048 bytes',
    );
    await page.close();
  }, 60_000);

  it('shows a push kf-bridge refused, with its status and reason', async () => {
    const { sim } = system.simulator;
    const corp = [...sim.wecom.corps.values()][0];
    const callback = corp?.callback;
    if (!corp || !callback) throw new Error('the demo corp has no callback');
    corp.callback = { ...callback, token: 'notTheAppsToken' };
    const page = await browser.newPage();
    try {
      await page.goto(`${system.simulator.url}/`);
      await page.locator('#write-account option').first().waitFor({ state: 'attached' });
      await page.fill('#write-customer', 'wmRefusedPush');
      await page.fill('#write-text', '你好');
      await page.click('#write-send');
      await expect
        .poll(() => page.locator('#push-refusals').textContent(), { timeout: 10_000 })
        .toMatch(/^1 push refused by kf-bridge — last: HTTP 401 \S/);
      await page.locator('[data-customer="wmRefusedPush"] .message.from-customer').click();
      await expect
        .poll(() => page.locator('[data-customer="wmRefusedPush"] .trace li').first().textContent(), {
          timeout: 10_000,
        })
        .toMatch(/^callback the product refused the push: HTTP 401 /);
    } finally {
      corp.callback = callback;
      await page.close();
    }
  });

  it('keeps callbacks accepted after the page moves the clock 48 h: the next message is answered', async () => {
    const page = await browser.newPage();
    await page.goto(`${system.simulator.url}/`);
    await page.locator('#write-account option').first().waitFor({ state: 'attached' });
    const before = system.simulator.sim.clock.now();
    await page.click('[data-advance="172800000"]');
    await expect.poll(() => system.simulator.sim.clock.now() - before).toBeGreaterThanOrEqual(172_800_000);
    const pushesBefore = system.simulator.sim.callbacks.deliveries.length;
    await page.fill('#write-customer', 'wmAfterTwoDays');
    await page.fill('#write-text', '两天后再问');
    await page.click('#write-send');
    await page.fill('#mp-openid', 'oAfterTwoDays');
    await page.fill('#mp-text', '两天后再问');
    await page.click('#mp-send');

    await page
      .locator('[data-customer="wmAfterTwoDays"] .message.from-api', { hasText: '两天后再问' })
      .waitFor({ timeout: 20_000 });
    await page
      .locator('[data-openid="oAfterTwoDays"] .message.from-api', { hasText: '两天后再问' })
      .waitFor({ timeout: 20_000 });
    const pushes = system.simulator.sim.callbacks.deliveries.slice(pushesBefore);
    expect(pushes.map((push) => push.attempts.map((attempt) => attempt.status))).toEqual([[200], [200]]);
    await page.close();
  });
});
