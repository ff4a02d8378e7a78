import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERRCODES } from '../../lib/platform/errcodes';
import { CORP, openKfCallback, setup } from './harness';

let s: Awaited<ReturnType<typeof setup>>;
let openKfId: string;
beforeEach(async () => {
  s = await setup();
  openKfId = s.sim.createKfAccount(CORP.corpId, '客服');
});
afterEach(async () => {
  await s.close();
});

const sync = (body: Record<string, unknown>) =>
  s.api('/cgi-bin/kf/sync_msg', { open_kfid: openKfId, ...body });
const send = (touser: string, body: Record<string, unknown>) =>
  s.api('/cgi-bin/kf/send_msg', { touser, open_kfid: openKfId, ...body });
const text = (content: string) => ({ msgtype: 'text', text: { content } });

async function callbackToken(): Promise<string> {
  await s.sim.callbacks.idle();
  const last = s.receiver.received.at(-1);
  if (!last) throw new Error('no callback arrived');
  return openKfCallback(last).token;
}

describe('customer messages and callbacks', () => {
  it('appends what a customer writes and calls the app back with an encrypted kf_msg_or_event', async () => {
    const msgid = s.sim.customerSays(openKfId, 'wmCustomer', '你好');
    await s.sim.callbacks.idle();
    const [callback] = s.receiver.received;
    const opened = openKfCallback(callback ?? { query: new URLSearchParams(), body: '' });
    expect(opened.openKfId).toBe(openKfId);
    expect(opened.token).toMatch(/^ENC/);
    expect(opened.event).toMatchObject({
      ToUserName: CORP.corpId,
      MsgType: 'event',
      Event: 'kf_msg_or_event',
    });
    const page = await sync({ token: opened.token });
    expect(page).toMatchObject({ errcode: 0, has_more: 0 });
    expect(page.msg_list).toEqual([
      {
        msgid,
        open_kfid: openKfId,
        external_userid: 'wmCustomer',
        send_time: expect.any(Number),
        origin: 3,
        msgtype: 'text',
        text: { content: '你好' },
      },
    ]);
  });

  it('carries every message type of the reference, and servicer messages as origin 5', async () => {
    const bodies = [
      { msgtype: 'image', image: { media_id: 'm1' } },
      { msgtype: 'voice', voice: { media_id: 'm2' } },
      { msgtype: 'video', video: { media_id: 'm3' } },
      { msgtype: 'file', file: { media_id: 'm4' } },
      { msgtype: 'location', location: { latitude: 23.1, longitude: 113.3, name: 'n', address: 'a' } },
      { msgtype: 'link', link: { title: 't', desc: 'd', url: 'https://x', pic_url: 'https://p' } },
      { msgtype: 'business_card', business_card: { userid: 'alice' } },
      {
        msgtype: 'miniprogram',
        miniprogram: { title: 't', appid: 'wx1', pagepath: 'p', thumb_media_id: 'm' },
      },
      { msgtype: 'channels_shop_product', channels_shop_product: { product_id: 'p', sales_price: '100' } },
      { msgtype: 'channels_shop_order', channels_shop_order: { order_id: 'o' } },
      { msgtype: 'merged_msg', merged_msg: { title: 't', item: [] } },
      { msgtype: 'channels', channels: { sub_type: 1, nickname: 'n', title: 't' } },
    ];
    for (const body of bodies) s.sim.customerWrites(openKfId, 'wmTypes', body);
    s.sim.servicerChangesSession(openKfId, 'wmTypes', 'end');
    // A servicer writing into an ended session takes it back (change_type 4).
    s.sim.servicerWrites(openKfId, 'wmTypes', 'alice', text('我是人工'));
    const page = await sync({ token: await callbackToken() });
    expect(page.msg_list.map((m: { msgtype: string }) => m.msgtype)).toEqual([
      ...bodies.map((b) => b.msgtype),
      'event',
      'event',
      'text',
    ]);
    expect(page.msg_list.at(-1)).toMatchObject({ origin: 5, servicer_userid: 'alice' });
    expect(page.msg_list.at(-2)).toMatchObject({
      origin: 4,
      event: { event_type: 'session_status_change', change_type: 4, new_servicer_userid: 'alice' },
    });
    expect(page.msg_list.at(-3)).toMatchObject({
      event: { event_type: 'session_status_change', change_type: 3, msg_code: expect.any(String) },
    });
  });

  it('retries a callback that is not answered with 200, three times at most', async () => {
    s.receiver.behaviour.status = 500;
    s.sim.customerSays(openKfId, 'wmRetry', 'hi');
    await s.sim.callbacks.idle();
    expect(s.receiver.received).toHaveLength(4);
    expect(s.sim.callbacks.deliveries[0]).toMatchObject({ delivered: false });
    s.receiver.behaviour.status = 200;
    s.sim.customerSays(openKfId, 'wmRetry', 'again');
    await s.sim.callbacks.idle();
    expect(s.receiver.received).toHaveLength(5);
  });

  it('gives up on an attempt that takes longer than the timeout', async () => {
    const slow = await setup({ callbacks: { timeoutMs: 50, retryDelayMs: 1 } });
    slow.receiver.behaviour.delayMs = 200;
    const account = slow.sim.createKfAccount(CORP.corpId, 'slow');
    slow.sim.customerSays(account, 'wmSlow', 'hi');
    await slow.sim.callbacks.idle();
    expect(slow.sim.callbacks.deliveries[0]?.attempts.map((a) => a.error)).toEqual([
      'timeout',
      'timeout',
      'timeout',
      'timeout',
    ]);
    slow.receiver.behaviour.delayMs = 0;
    await slow.close();
  });

  it('loses or duplicates callbacks when a fault says so', async () => {
    s.sim.setFaults([{ endpoint: 'callback', kind: 'callback_lost', count: 1 }]);
    s.sim.customerSays(openKfId, 'wmFault', 'one');
    await s.sim.callbacks.idle();
    expect(s.receiver.received).toHaveLength(0);
    s.sim.setFaults([{ endpoint: 'callback', kind: 'callback_duplicate', count: 1 }]);
    s.sim.customerSays(openKfId, 'wmFault', 'two');
    await s.sim.callbacks.idle();
    expect(s.receiver.received).toHaveLength(2);
  });
});

describe('kf/sync_msg', () => {
  it('pages with an opaque cursor of at most 64 bytes, limit and has_more', async () => {
    for (let i = 0; i < 5; i++) s.sim.customerSays(openKfId, 'wmPage', `m${i}`);
    const token = await callbackToken();
    const first = await sync({ token, limit: 2 });
    expect(first).toMatchObject({ has_more: 1 });
    expect(first.msg_list.map((m: { text: { content: string } }) => m.text.content)).toEqual(['m0', 'm1']);
    expect(Buffer.byteLength(first.next_cursor)).toBeLessThanOrEqual(64);
    const second = await sync({ token, limit: 2, cursor: first.next_cursor });
    expect(second.msg_list.map((m: { text: { content: string } }) => m.text.content)).toEqual(['m2', 'm3']);
    const third = await sync({ token, cursor: second.next_cursor });
    expect(third).toMatchObject({ has_more: 0 });
    expect(third.msg_list).toHaveLength(1);
    const empty = await sync({ token, cursor: third.next_cursor });
    expect(empty).toMatchObject({ has_more: 0, msg_list: [], next_cursor: third.next_cursor });
    expect(await sync({ token, limit: 1001 })).toMatchObject({ errcode: 40058 });
    expect(await sync({ token, cursor: 'garbage' })).toMatchObject({ errcode: 40058 });
  });

  it('can answer has_more=1 with an empty page', async () => {
    s.sim.customerSays(openKfId, 'wmEmpty', 'x');
    const token = await callbackToken();
    s.sim.setFaults([{ endpoint: 'kf/sync_msg', kind: 'empty_page', count: 1 }]);
    const empty = await sync({ token });
    expect(empty).toMatchObject({ has_more: 1, msg_list: [] });
    expect((await sync({ token, cursor: empty.next_cursor })).msg_list).toHaveLength(1);
  });

  it('keeps three days and never returns messages sent through the API', async () => {
    s.sim.customerSays(openKfId, 'wmOld', 'old');
    s.sim.advanceClock(2 * 24 * 3600_000);
    s.sim.customerSays(openKfId, 'wmOld', 'new');
    await send('wmOld', text('reply via API'));
    s.sim.advanceClock(24 * 3600_000 + 1000);
    await s.refreshToken();
    const token = await callbackToken();
    const page = await sync({ token });
    expect(page.msg_list.map((m: { text: { content: string } }) => m.text.content)).toEqual(['new']);
  });

  it('throttles calls without a valid callback Token: 10 a minute, then 45009 for a minute', async () => {
    for (let i = 0; i < 10; i++) expect((await sync({})).errcode).toBe(0);
    expect(await sync({})).toMatchObject({ errcode: 45009 });
    s.sim.customerSays(openKfId, 'wmT', 'x');
    expect((await sync({ token: await callbackToken() })).errcode).toBe(0);
    s.sim.advanceClock(60_001);
    expect((await sync({})).errcode).toBe(0);
    // A Token past its 10 minutes counts as no Token.
    s.sim.advanceClock(600_001);
    await s.refreshToken();
    const expired = await callbackToken();
    for (let i = 0; i < 10; i++) await sync({ token: expired });
    expect(await sync({ token: expired })).toMatchObject({ errcode: 45009 });
  });
});

describe('kf/send_msg', () => {
  it('sends within the rules and moves a new session to the assistant (state 1)', async () => {
    s.sim.customerSays(openKfId, 'wmS', 'hi');
    const sent = await send('wmS', { msgid: 'reply-1', ...text('您好') });
    expect(sent).toMatchObject({ errcode: 0, msgid: 'reply-1' });
    expect(
      (await s.api('/cgi-bin/kf/service_state/get', { open_kfid: openKfId, external_userid: 'wmS' }))
        .service_state,
    ).toBe(1);
    expect(s.sim.wecom.sent).toMatchObject([
      { touser: 'wmS', msgid: 'reply-1', msgtype: 'text', body: { content: '您好' }, via: 'send_msg' },
    ]);
  });

  it('allows 5 replies per customer message (95001) and resets the quota when the customer writes again', async () => {
    s.sim.customerSays(openKfId, 'wmQ', 'hi');
    for (let i = 0; i < 5; i++) expect((await send('wmQ', text(`r${i}`))).errcode).toBe(0);
    expect(await send('wmQ', text('sixth'))).toMatchObject({ errcode: 95001 });
    s.sim.customerSays(openKfId, 'wmQ', 'more');
    expect((await send('wmQ', text('allowed again'))).errcode).toBe(0);
  });

  it('refuses sends outside 48 h of the last customer message (95002)', async () => {
    expect(await send('wmNever', text('cold'))).toMatchObject({ errcode: 95002 });
    s.sim.customerSays(openKfId, 'wmW', 'hi');
    s.sim.advanceClock(48 * 3600_000);
    await s.refreshToken();
    expect(await send('wmW', text('late'))).toMatchObject({ errcode: 95002 });
  });

  it('refuses sends while a servicer or the pool has the session (95018)', async () => {
    await s.api('/cgi-bin/kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice'] });
    s.sim.customerSays(openKfId, 'wmH', 'hi');
    await s.api('/cgi-bin/kf/service_state/trans', {
      open_kfid: openKfId,
      external_userid: 'wmH',
      service_state: 3,
      servicer_userid: 'alice',
    });
    expect(await send('wmH', text('bot reply'))).toMatchObject({ errcode: 95018 });
  });

  it('checks msgid format and uniqueness per kf account', async () => {
    s.sim.customerSays(openKfId, 'wmM', 'hi');
    expect(await send('wmM', { msgid: 'has space', ...text('x') })).toMatchObject({ errcode: 40058 });
    expect(await send('wmM', { msgid: 'a'.repeat(33), ...text('x') })).toMatchObject({ errcode: 40058 });
    expect((await send('wmM', { msgid: 'same-id', ...text('x') })).errcode).toBe(0);
    // WeCom refuses a repeated msgid with a code it does not publish: the simulator's own stands in.
    expect(await send('wmM', { msgid: 'same-id', ...text('x') })).toMatchObject({
      errcode: ERRCODES.KF_MSGID_REPEATED.code,
    });
    expect(ERRCODES.KF_MSGID_REPEATED.verified).toBe(false);
  });

  it('validates every msgtype with its limits', async () => {
    s.sim.customerSays(openKfId, 'wmV', 'hi');
    s.sim.customerSays(openKfId, 'wmV', 'hi');
    const bad: Record<string, unknown>[] = [
      text('字'.repeat(683)),
      { msgtype: 'image', image: { media_id: 'unknown' } },
      { msgtype: 'link', link: { title: 't', url: 'ftp://x', thumb_media_id: 'm' } },
      { msgtype: 'location', location: { latitude: 91, longitude: 0 } },
      {
        msgtype: 'msgmenu',
        msgmenu: {
          list: Array.from({ length: 11 }, () => ({ type: 'click', click: { id: '1', content: 'c' } })),
        },
      },
      { msgtype: 'msgmenu', msgmenu: { list: [{ type: 'bogus' }] } },
      { msgtype: 'ca_link', ca_link: {} },
      { msgtype: 'hologram', hologram: {} },
    ];
    for (const body of bad)
      expect((await send('wmV', body)).errcode, JSON.stringify(body).slice(0, 60)).not.toBe(0);
    // Menus have codes of their own: 95008 too many items, 95009 an item type WeCom does not take.
    expect(await send('wmV', bad[4] ?? {})).toMatchObject({ errcode: 95008 });
    expect(await send('wmV', bad[5] ?? {})).toMatchObject({ errcode: 95009 });
    expect((await send('wmV', text('字'.repeat(682)))).errcode).toBe(0);
    const ok = [
      {
        msgtype: 'msgmenu',
        msgmenu: {
          head_content: 'h',
          list: [
            { type: 'click', click: { id: '1', content: '满意' } },
            { type: 'view', view: { url: 'https://x', content: 'v' } },
            { type: 'text', text: { content: 't', no_newline: 1 } },
          ],
          tail_content: 't',
        },
      },
      {
        msgtype: 'location',
        location: { latitude: 23.1, longitude: 113.3, name: '广州塔', address: '广州' },
      },
      { msgtype: 'ca_link', ca_link: { link_url: 'https://work.weixin.qq.com/ca/abc' } },
    ];
    for (const body of ok) expect((await send('wmV', body)).errcode).toBe(0);
  });

  it('truncates link titles to 128 bytes, as WeCom does', async () => {
    s.sim.customerSays(openKfId, 'wmL', 'hi');
    const form = new FormData();
    form.append('media', new Blob([Buffer.alloc(64, 1)]), 'thumb.jpg');
    const token = await s.refreshToken();
    const { media_id } = await fetch(`${s.url}/cgi-bin/media/upload?access_token=${token}&type=image`, {
      method: 'POST',
      body: form,
    }).then((r) => r.json() as Promise<{ media_id: string }>);
    expect(
      (
        await send('wmL', {
          msgtype: 'link',
          link: { title: '标'.repeat(60), url: 'https://x', thumb_media_id: media_id },
        })
      ).errcode,
    ).toBe(0);
    expect(Buffer.byteLength(String(s.sim.wecom.sent.at(-1)?.body.title))).toBe(126);
  });

  it('reports a failed delivery later as a msg_send_fail event when a fault says so', async () => {
    s.sim.customerSays(openKfId, 'wmF', 'hi');
    s.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'send_fail', failType: 10, count: 1 }]);
    const sent = await send('wmF', text('x'));
    expect(sent.errcode).toBe(0);
    const page = await sync({ token: await callbackToken() });
    expect(page.msg_list.at(-1)).toMatchObject({
      event: { event_type: 'msg_send_fail', fail_msgid: sent.msgid, fail_type: 10 },
    });
  });
});

describe('session lifecycle', () => {
  const HOUR = 3600_000;
  const state = async (customer: string) =>
    (await s.api('/cgi-bin/kf/service_state/get', { open_kfid: openKfId, external_userid: customer }))
      .service_state;
  const later = async (ms: number) => {
    s.sim.advanceClock(ms);
    await s.refreshToken();
  };

  it('starts a session anew in state 0 when the customer writes after a servicer ended it', async () => {
    s.sim.customerSays(openKfId, 'wmEnd', 'hi');
    s.sim.servicerChangesSession(openKfId, 'wmEnd', 'take', 'alice');
    expect(await send('wmEnd', text('bot'))).toMatchObject({ errcode: 95018 });
    s.sim.servicerChangesSession(openKfId, 'wmEnd', 'end');
    expect(await state('wmEnd')).toBe(4);
    expect(await send('wmEnd', text('bot'))).toMatchObject({ errcode: 95018 });
    await later(5 * HOUR);
    s.sim.customerSays(openKfId, 'wmEnd', 'me again');
    expect(await state('wmEnd')).toBe(0);
    expect((await send('wmEnd', text('welcome back'))).errcode).toBe(0);
  });

  it("ends a session 48 h after the customer began it: a servicer's hold lapses, the next message starts anew", async () => {
    s.sim.customerSays(openKfId, 'wmLapse', 'hi');
    s.sim.servicerChangesSession(openKfId, 'wmLapse', 'take', 'alice');
    await later(2 * HOUR);
    s.sim.customerSays(openKfId, 'wmLapse', 'still there?');
    expect(await state('wmLapse')).toBe(3);
    expect(await send('wmLapse', text('bot'))).toMatchObject({ errcode: 95018 });
    await later(46 * HOUR);
    // 46 h after the customer's last message, but the session is over: 95018 covers a session over 48 h.
    expect(await state('wmLapse')).toBe(4);
    expect(await send('wmLapse', text('bot'))).toMatchObject({ errcode: 95018 });
    s.sim.customerSays(openKfId, 'wmLapse', 'hello?');
    expect(await state('wmLapse')).toBe(0);
    expect((await send('wmLapse', text('a new session'))).errcode).toBe(0);
  });

  it('gives a session a servicer takes back after it ended (change_type 4) a life of its own', async () => {
    s.sim.customerSays(openKfId, 'wmBack', 'hi');
    s.sim.servicerChangesSession(openKfId, 'wmBack', 'take', 'alice');
    s.sim.servicerChangesSession(openKfId, 'wmBack', 'end');
    await later(47 * HOUR);
    s.sim.servicerWrites(openKfId, 'wmBack', 'alice', text('one more thing'));
    await later(2 * HOUR);
    expect(await state('wmBack')).toBe(3);
    const events = (await sync({})).msg_list
      .filter((item: { msgtype: string }) => item.msgtype === 'event')
      .map((item: { event: { change_type: number } }) => item.event.change_type);
    expect(events).toEqual([1, 3, 4]);
  });
});

describe('kf/send_msg_on_event', () => {
  it('sends one welcome message per welcome_code, within 20 s', async () => {
    const code = s.sim.enterSession(openKfId, 'wmWelcome');
    const answer = await s.api('/cgi-bin/kf/send_msg_on_event', { code, ...text('欢迎') });
    expect(answer).toMatchObject({ errcode: 0, msgid: expect.any(String) });
    expect(await s.api('/cgi-bin/kf/send_msg_on_event', { code, ...text('again') })).toMatchObject({
      errcode: ERRCODES.KF_MSGTOKEN_INVALID.code,
    });
    const late = s.sim.enterSession(openKfId, 'wmLate');
    s.sim.advanceClock(20_001);
    expect(await s.api('/cgi-bin/kf/send_msg_on_event', { code: late, ...text('late') })).toMatchObject({
      errcode: ERRCODES.KF_MSGTOKEN_INVALID.code,
    });
  });

  it('allows msgmenu for end codes, text only for pool codes, and only in the state the code was issued in', async () => {
    await s.api('/cgi-bin/kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice'] });
    s.sim.customerSays(openKfId, 'wmE', 'hi');
    const { msg_code: pool } = await s.api('/cgi-bin/kf/service_state/trans', {
      open_kfid: openKfId,
      external_userid: 'wmE',
      service_state: 2,
    });
    const menu = {
      msgtype: 'msgmenu',
      msgmenu: { list: [{ type: 'click', click: { id: '1', content: '满意' } }] },
    };
    expect(await s.api('/cgi-bin/kf/send_msg_on_event', { code: pool, ...menu })).toMatchObject({
      errcode: 40058,
    });
    await s.api('/cgi-bin/kf/service_state/trans', {
      open_kfid: openKfId,
      external_userid: 'wmE',
      service_state: 3,
      servicer_userid: 'alice',
    });
    expect(await s.api('/cgi-bin/kf/send_msg_on_event', { code: pool, ...text('排队中') })).toMatchObject({
      errcode: 95018,
    });
    const end = s.sim.servicerChangesSession(openKfId, 'wmE', 'end');
    expect((await s.api('/cgi-bin/kf/send_msg_on_event', { code: end, ...menu })).errcode).toBe(0);
    expect(s.sim.wecom.sent.at(-1)).toMatchObject({
      via: 'send_msg_on_event',
      msgtype: 'msgmenu',
      touser: 'wmE',
    });
  });
});

describe('callback encryption interoperates with the published algorithm', () => {
  it('decrypts with a decoder written straight from the reference (§4), not with kf-bridge code', async () => {
    const { createDecipheriv, createHash } = await import('node:crypto');
    s.sim.customerSays(openKfId, 'wmInterop', 'x');
    await s.sim.callbacks.idle();
    const push = s.receiver.received[0];
    const encrypted = /<Encrypt><!\[CDATA\[(.*?)\]\]><\/Encrypt>/.exec(push?.body ?? '')?.[1] ?? '';
    const q = push?.query ?? new URLSearchParams();
    const sorted = [CORP.token, q.get('timestamp'), q.get('nonce'), encrypted].map(String).sort().join('');
    expect(createHash('sha1').update(sorted).digest('hex')).toBe(q.get('msg_signature'));
    const key = Buffer.from(`${CORP.encodingAesKey}=`, 'base64');
    const aes = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    const plain = Buffer.concat([aes.update(Buffer.from(encrypted, 'base64')), aes.final()]);
    const unpadded = plain.subarray(0, plain.length - (plain.at(-1) ?? 0));
    const length = unpadded.readUInt32BE(16);
    expect(unpadded.subarray(20 + length).toString()).toBe(CORP.corpId);
    expect(unpadded.subarray(20, 20 + length).toString()).toContain(
      `<OpenKfId><![CDATA[${openKfId}]]></OpenKfId>`,
    );
  });
});
