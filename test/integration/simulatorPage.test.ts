import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
});
