import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { json, startReceiver } from './harness';

let running: RunningSimulator;
beforeEach(async () => {
  running = await startSimulator();
});
afterEach(async () => {
  await running.stop();
});

const control = (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') =>
  fetch(`${running.url}/_sim/${path}`, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  }).then(async (r) => ({ status: r.status, body: await json(r) }));

describe('HTTP control API', () => {
  it('sets up a corp and a kf account, makes a customer write and reads it back', async () => {
    const receiver = await startReceiver();
    await control('wecom/corps', {
      corpId: 'wwcontrol',
      secrets: ['s'],
      users: ['alice'],
      callback: {
        url: receiver.url,
        token: 'tok123',
        encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
      },
    });
    const { body: account } = await control('wecom/kf-accounts', { corpId: 'wwcontrol', name: '客服' });
    expect(account.open_kfid).toMatch(/^wk/);
    const { body: written } = await control('wecom/customer-messages', {
      openKfId: account.open_kfid,
      externalUserId: 'wm1',
      message: { msgtype: 'text', text: { content: 'hi' } },
    });
    expect(written.msgid).toEqual(expect.any(String));
    const { body: welcome } = await control('wecom/enter-session', {
      openKfId: account.open_kfid,
      externalUserId: 'wm2',
    });
    expect(welcome.welcome_code).toMatch(/^MSGCODE/);
    const { body: change } = await control('wecom/session-changes', {
      openKfId: account.open_kfid,
      externalUserId: 'wm1',
      change: 'take',
      servicerUserId: 'alice',
    });
    expect(change.msg_code).toMatch(/^MSGCODE/);
    const { body: state } = await control('state');
    expect(
      state.accounts[0].customers.find((c: { externalUserId: string }) => c.externalUserId === 'wm1'),
    ).toMatchObject({ state: 3, servicerUserId: 'alice' });
    await running.sim.callbacks.idle();
    expect(receiver.received.length).toBeGreaterThanOrEqual(3);
    expect((await control('callbacks')).body.deliveries.length).toBe(receiver.received.length);
    await receiver.stop();
  });

  it('sets and clears faults, moves the clock, switches limits and resets', async () => {
    const rules = [{ endpoint: 'kf/sync_msg', kind: 'errcode', errcode: -1, probability: 0.1 }];
    expect((await control('faults', { rules, seed: 42 }, 'PUT')).body.rules).toEqual(rules);
    expect((await control('faults')).body.rules).toEqual(rules);
    expect((await control('faults', undefined, 'DELETE')).body.rules).toEqual([]);
    const before = running.sim.clock.now();
    await control('clock', { advanceHours: 48 });
    expect(running.sim.clock.now() - before).toBeGreaterThanOrEqual(48 * 3600_000);
    expect(
      (await control('limits', { concurrency: { enabled: true, max: 3 } }, 'PUT')).body.concurrency,
    ).toEqual({ enabled: true, max: 3 });
    await control('reset', {});
    expect((await control('state')).body).toMatchObject({ accounts: [], faults: [] });
  });

  it('answers a bad control request with 400 and a message', async () => {
    expect(await control('wecom/kf-accounts', { name: 'x' })).toEqual({
      status: 400,
      body: { error: 'corpId is required' },
    });
    expect((await control('nope')).status).toBe(400);
    expect((await control('wecom/kf-accounts', { corpId: 'wwnobody', name: 'x' })).body.error).toBe(
      '40013 invalid corpid',
    );
  });

  it('serves the web view at /', async () => {
    const page = await fetch(`${running.url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('Write as a customer');
  });
});
