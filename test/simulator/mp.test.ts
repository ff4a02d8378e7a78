import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEncodingAesKey, decrypt, signature } from '../../lib/crypto/wxBizMsgCrypt';
import { parseWechatXml, textOf } from '../../lib/xml';
import { json, setup } from './harness';

// The WxJava vector's credentials (reference §4.1): MP safe mode uses the AppID as receive id.
const APP = {
  appId: 'wxb11529c136998cb6',
  secret: 'mp-secret',
  token: 'pamtest',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};

let s: Awaited<ReturnType<typeof setup>>;
let token: string;
beforeEach(async () => {
  s = await setup();
  s.sim.createMpApp({ ...APP, callbackUrl: s.receiver.url, mode: 'safe' });
  token = (
    await fetch(
      `${s.url}/cgi-bin/token?grant_type=client_credential&appid=${APP.appId}&secret=${APP.secret}`,
    ).then(json)
  ).access_token;
});
afterEach(async () => {
  await s.close();
});

const call = (path: string, body?: unknown, query: Record<string, string> = {}) =>
  fetch(
    `${s.url}${path}?${new URLSearchParams({ access_token: token, ...query })}`,
    body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) },
  ).then(json);
const send = (touser: string, body: Record<string, unknown>) =>
  call('/cgi-bin/message/custom/send', { touser, ...body });
const text = (content: string) => ({ msgtype: 'text', text: { content } });

describe('pushes to the server URL', () => {
  it('pushes a follower message in safe mode, signed and encrypted for the AppID', async () => {
    const msgId = s.sim.mpUserWrites(APP.appId, 'oFollower', { MsgType: 'text', Content: '你好' });
    await s.sim.callbacks.idle();
    const [push] = s.receiver.received;
    const q = push?.query ?? new URLSearchParams();
    expect(Object.keys(parseWechatXml(push?.body ?? ''))).toEqual(['ToUserName', 'Encrypt']);
    expect(q.get('encrypt_type')).toBe('aes');
    expect(q.get('openid')).toBe('oFollower');
    expect(q.get('signature')).toBe(signature(APP.token, q.get('timestamp') ?? '', q.get('nonce') ?? ''));
    const encrypted = textOf(parseWechatXml(push?.body ?? ''), 'Encrypt') ?? '';
    expect(q.get('msg_signature')).toBe(
      signature(APP.token, q.get('timestamp') ?? '', q.get('nonce') ?? '', encrypted),
    );
    const message = parseWechatXml(
      decrypt(
        { token: APP.token, receiveId: APP.appId, aesKey: decodeEncodingAesKey(APP.encodingAesKey) },
        encrypted,
      ),
    );
    expect(message).toMatchObject({
      FromUserName: 'oFollower',
      MsgType: 'text',
      Content: '你好',
      MsgId: msgId,
    });
  });

  it('pushes in compatible mode: the plaintext message and its ciphertext in one body, signed as in safe mode', async () => {
    s.sim.createMpApp({
      appId: 'wxcompat00000001',
      secret: 's',
      token: 'compattoken',
      encodingAesKey: APP.encodingAesKey,
      callbackUrl: s.receiver.url,
      mode: 'compatible',
    });
    const msgId = s.sim.mpUserWrites('wxcompat00000001', 'oCompat', { MsgType: 'text', Content: '你好' });
    await s.sim.callbacks.idle();
    const push = s.receiver.received.at(-1);
    const q = push?.query ?? new URLSearchParams();
    const body = parseWechatXml(push?.body ?? '');
    const encrypted = textOf(body, 'Encrypt') ?? '';
    expect(q.get('encrypt_type')).toBe('aes');
    expect(q.get('msg_signature')).toBe(
      signature('compattoken', q.get('timestamp') ?? '', q.get('nonce') ?? '', encrypted),
    );
    const message = { FromUserName: 'oCompat', MsgType: 'text', Content: '你好', MsgId: msgId };
    expect(body).toMatchObject(message);
    const cipher = {
      token: 'compattoken',
      receiveId: 'wxcompat00000001',
      aesKey: decodeEncodingAesKey(APP.encodingAesKey),
    };
    expect(parseWechatXml(decrypt(cipher, encrypted))).toMatchObject(message);
  });

  it('pushes in plaintext mode when the account uses it', async () => {
    s.sim.createMpApp({
      appId: 'wxplain000000001',
      secret: 's',
      token: 'plaintoken',
      callbackUrl: s.receiver.url,
      mode: 'plaintext',
    });
    s.sim.mpUserWrites('wxplain000000001', 'oPlain', {
      MsgType: 'event',
      Event: 'subscribe',
      EventKey: 'qrscene_1',
    });
    await s.sim.callbacks.idle();
    const push = s.receiver.received.at(-1);
    expect(push?.query.get('encrypt_type')).toBeNull();
    expect(parseWechatXml(push?.body ?? '')).toMatchObject({
      MsgType: 'event',
      Event: 'subscribe',
      EventKey: 'qrscene_1',
    });
  });
});

describe('message/custom/send', () => {
  it('sends every message type within 48 h, 5 per follower message (45047)', async () => {
    s.sim.mpUserWrites(APP.appId, 'oA', { MsgType: 'text', Content: 'hi' });
    const thumb = s.sim.uploadMedia(APP.appId, 'thumb', 'cover.jpg', Buffer.from('a small cover'));
    expect((await send('oA', text('hello'))).errcode).toBe(0);
    expect(
      (await send('oA', { msgtype: 'news', news: { articles: [{ title: 't', url: 'https://x' }] } })).errcode,
    ).toBe(0);
    expect(
      (
        await send('oA', {
          msgtype: 'msgmenu',
          msgmenu: { head_content: 'h', list: [{ id: '1', content: '满意' }] },
        })
      ).errcode,
    ).toBe(0);
    expect(
      (
        await send('oA', {
          msgtype: 'miniprogrampage',
          miniprogrampage: { title: 't', appid: 'wx1', pagepath: 'p', thumb_media_id: thumb },
        })
      ).errcode,
    ).toBe(0);
    expect((await send('oA', { msgtype: 'wxcard', wxcard: { card_id: 'c' } })).errcode).toBe(0);
    expect(await send('oA', text('sixth'))).toMatchObject({ errcode: 45047 });
    expect(s.sim.mp.sent).toHaveLength(5);
  });

  it('refuses sends after 48 h (45015), more than one article (45008), unknown media and types', async () => {
    expect(await send('oNobody', text('x'))).toMatchObject({ errcode: 45015 });
    s.sim.mpUserWrites(APP.appId, 'oB', { MsgType: 'text', Content: 'hi' });
    expect(await send('oB', { msgtype: 'news', news: { articles: [{}, {}] } })).toMatchObject({
      errcode: 45008,
    });
    expect(await send('oB', { msgtype: 'image', image: { media_id: 'nope' } })).toMatchObject({
      errcode: 40007,
    });
    expect(await send('oB', { msgtype: 'hologram', hologram: {} })).toMatchObject({ errcode: 40008 });
    s.sim.advanceClock(48 * 3600_000);
    token = (
      await fetch(
        `${s.url}/cgi-bin/token?grant_type=client_credential&appid=${APP.appId}&secret=${APP.secret}`,
      ).then(json)
    ).access_token;
    expect(await send('oB', text('late'))).toMatchObject({ errcode: 45015 });
  });

  it('shows typing only within 30 s of a message, once per 15 s', async () => {
    const typing = (command: string) => call('/cgi-bin/message/custom/typing', { touser: 'oT', command });
    expect(await typing('Typing')).toMatchObject({ errcode: 45080 });
    s.sim.mpUserWrites(APP.appId, 'oT', { MsgType: 'text', Content: 'hi' });
    expect((await typing('Typing')).errcode).toBe(0);
    expect(await typing('Typing')).toMatchObject({ errcode: 45081 });
    expect(await typing('Dancing')).toMatchObject({ errcode: 45072 });
    expect((await typing('CancelTyping')).errcode).toBe(0);
    expect((await typing('Typing')).errcode).toBe(0);
    expect(s.sim.mp.typings.map((t) => t.command)).toEqual(['Typing', 'CancelTyping', 'Typing']);
  });

  it('allows 3 replies within a minute of a follow, scan or menu click, before any message', async () => {
    s.sim.mpUserWrites(APP.appId, 'oF', { MsgType: 'event', Event: 'subscribe' });
    for (let i = 0; i < 3; i++) expect((await send('oF', text(`welcome ${i}`))).errcode).toBe(0);
    expect(await send('oF', text('fourth'))).toMatchObject({ errcode: 45015 });
    s.sim.mpUserWrites(APP.appId, 'oF', { MsgType: 'event', Event: 'CLICK', EventKey: 'menu' });
    s.sim.advanceClock(60_000);
    expect(await send('oF', text('a minute later'))).toMatchObject({ errcode: 45015 });
    s.sim.mpUserWrites(APP.appId, 'oF', { MsgType: 'event', Event: 'VIEW', EventKey: 'https://x' });
    expect(await send('oF', text('after a link click'))).toMatchObject({ errcode: 45015 });
  });

  it('allows 3 replies within a minute of the scan-code menu events, none after other menu types', async () => {
    for (const event of ['scancode_push', 'scancode_waitmsg']) {
      s.sim.mpUserWrites(APP.appId, `o_${event}`, { MsgType: 'event', Event: event, EventKey: 'scan' });
      for (let i = 0; i < 3; i++) expect((await send(`o_${event}`, text(`scanned ${i}`))).errcode).toBe(0);
      expect(await send(`o_${event}`, text('fourth'))).toMatchObject({ errcode: 45015 });
    }
    for (const event of ['pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select']) {
      s.sim.mpUserWrites(APP.appId, `o_${event}`, { MsgType: 'event', Event: event, EventKey: 'menu' });
      expect(await send(`o_${event}`, text('after the menu'))).toMatchObject({ errcode: 45015 });
    }
  });

  it('takes MP media types: a thumb of at most 64 KB jpg, no file', async () => {
    const upload = (type: string, name: string, size: number) => {
      try {
        return s.sim.uploadMedia(APP.appId, type as 'thumb', name, Buffer.alloc(size, 1));
      } catch (error) {
        return (error as { errcode: number }).errcode;
      }
    };
    expect(upload('thumb', 'c.jpg', 1000)).toEqual(expect.any(String));
    expect(upload('thumb', 'c.jpg', 65 * 1024)).toBe(40009);
    expect(upload('thumb', 'c.png', 1000)).toBe(40005);
    expect(upload('file', 'a.pdf', 1000)).toBe(40004);
    expect(upload('voice', 'a.mp3', 1000)).toEqual(expect.any(String));
  });

  it("answers uploads as MP does: a thumb's id in thumb_media_id (no media_id), created_at a number", async () => {
    const upload = (type: string, name: string) => {
      const form = new FormData();
      form.append('media', new Blob([Buffer.alloc(1000, 1)]), name);
      return fetch(`${s.url}/cgi-bin/media/upload?access_token=${token}&type=${type}`, {
        method: 'POST',
        body: form,
      }).then(json);
    };
    // The real answer, quoted in silenceper/wechat PR #14 and read so by WxJava's WxMediaUploadResultAdapter.
    expect(await upload('thumb', 'cover.jpg')).toEqual({
      type: 'thumb',
      thumb_media_id: expect.any(String),
      created_at: expect.any(Number),
    });
    expect(await upload('image', 'a.png')).toEqual({
      type: 'image',
      media_id: expect.any(String),
      created_at: expect.any(Number),
    });
  });
});

describe('kf accounts and sessions', () => {
  it('manages accounts and their errors', async () => {
    expect(
      (await call('/customservice/kfaccount/add', { kf_account: 'kf1@test', nickname: '小客服' })).errcode,
    ).toBe(0);
    expect(
      await call('/customservice/kfaccount/add', { kf_account: 'kf1@test', nickname: '小客服' }),
    ).toMatchObject({ errcode: 65406 });
    expect(
      await call('/customservice/kfaccount/add', { kf_account: 'no-at-sign', nickname: 'x' }),
    ).toMatchObject({ errcode: 65404 });
    expect(
      await call('/customservice/kfaccount/add', { kf_account: 'kf2@test', nickname: '' }),
    ).toMatchObject({ errcode: 65403 });
    expect(
      (await call('/customservice/kfaccount/update', { kf_account: 'kf1@test', nickname: '新名字' })).errcode,
    ).toBe(0);
    expect(
      (
        await call('/customservice/kfaccount/inviteworker', {
          kf_account: 'kf1@test',
          invite_wx: 'worker_wx',
        })
      ).errcode,
    ).toBe(0);
    const list = await call('/cgi-bin/customservice/getkflist');
    expect(list.kf_list).toEqual([
      {
        kf_account: 'kf1@test',
        kf_headimgurl: '',
        kf_id: '1001',
        kf_nick: '新名字',
        invite_wx: 'worker_wx',
        invite_expire_time: expect.any(Number),
        invite_status: 'waiting',
      },
    ]);
    const form = new FormData();
    form.append('media', new Blob([Buffer.alloc(100)]), 'head.jpg');
    const upload = await fetch(
      `${s.url}/customservice/kfaccount/uploadheadimg?access_token=${token}&kf_account=kf1@test`,
      { method: 'POST', body: form },
    ).then(json);
    expect(upload.errcode).toBe(0);
    const png = new FormData();
    png.append('media', new Blob([Buffer.alloc(100)]), 'head.png');
    // The Official Account takes JPG avatars only.
    const refused = await fetch(
      `${s.url}/customservice/kfaccount/uploadheadimg?access_token=${token}&kf_account=kf1@test`,
      { method: 'POST', body: png },
    ).then(json);
    expect(refused.errcode).toBe(40005);
    expect((await call('/customservice/kfaccount/del', undefined, { kf_account: 'kf1@test' })).errcode).toBe(
      0,
    );
    expect(await call('/customservice/kfaccount/del', { kf_account: 'kf1@test' })).toMatchObject({
      errcode: 65401,
    });
  });

  it('creates sessions only with a bound, online worker, and closes them', async () => {
    await call('/customservice/kfaccount/add', { kf_account: 'kf1@test', nickname: 'a' });
    s.sim.mpUserWrites(APP.appId, 'oS', { MsgType: 'text', Content: 'hi' });
    expect(
      await call('/customservice/kfsession/create', { kf_account: 'kf1@test', openid: 'oS' }),
    ).toMatchObject({ errcode: 65402 });
    await call('/customservice/kfaccount/inviteworker', { kf_account: 'kf1@test', invite_wx: 'w' });
    s.sim.setMpKfWorker(APP.appId, 'kf1@test', { acceptInvite: true });
    expect(
      await call('/customservice/kfsession/create', { kf_account: 'kf1@test', openid: 'oS' }),
    ).toMatchObject({ errcode: 65415 });
    s.sim.setMpKfWorker(APP.appId, 'kf1@test', { online: true });
    expect((await call('/cgi-bin/customservice/getonlinekflist')).kf_online_list).toEqual([
      { kf_account: 'kf1@test', status: 1, kf_id: '1001', accepted_case: 0 },
    ]);
    expect(await call('/customservice/kfsession/getwaitcase')).toMatchObject({
      count: 1,
      waitcaselist: [{ openid: 'oS' }],
    });
    expect(
      (await call('/customservice/kfsession/create', { kf_account: 'kf1@test', openid: 'oS' })).errcode,
    ).toBe(0);
    expect(await call('/customservice/kfsession/getsession', undefined, { openid: 'oS' })).toMatchObject({
      kf_account: 'kf1@test',
    });
    expect(
      (await call('/customservice/kfsession/getsessionlist', undefined, { kf_account: 'kf1@test' }))
        .sessionlist,
    ).toEqual([{ openid: 'oS', createtime: expect.any(Number) }]);
    expect(await call('/customservice/kfsession/getwaitcase')).toMatchObject({ count: 0 });
    expect(
      (await call('/customservice/kfsession/close', { kf_account: 'kf1@test', openid: 'oS' })).errcode,
    ).toBe(0);
    expect(
      await call('/customservice/kfsession/close', { kf_account: 'kf1@test', openid: 'oS' }),
    ).toMatchObject({ errcode: 65413 });
  });
});

describe('msgrecord/getmsglist', () => {
  it('returns the chat records of a window of at most 24 h, paged by msgid', async () => {
    await call('/customservice/kfaccount/add', { kf_account: 'kf1@test', nickname: 'a' });
    await call('/customservice/kfaccount/inviteworker', { kf_account: 'kf1@test', invite_wx: 'w' });
    s.sim.setMpKfWorker(APP.appId, 'kf1@test', { acceptInvite: true, online: true });
    s.sim.mpUserWrites(APP.appId, 'oR', { MsgType: 'text', Content: 'first' });
    await call('/customservice/kfsession/create', { kf_account: 'kf1@test', openid: 'oR' });
    s.sim.mpUserWrites(APP.appId, 'oR', { MsgType: 'text', Content: '在吗' });
    await send('oR', { ...text('在的'), customservice: { kf_account: 'kf1@test' } });
    s.sim.mpUserWrites(APP.appId, 'oR', { MsgType: 'image', PicUrl: 'https://x', MediaId: 'm' });
    const now = s.sim.clock.nowSeconds();
    const first = await call('/customservice/msgrecord/getmsglist', {
      starttime: now - 60,
      endtime: now + 60,
      msgid: 1,
      number: 2,
    });
    expect(first).toMatchObject({ number: 2, msgid: 3 });
    expect(first.recordlist).toEqual([
      { openid: 'oR', opercode: 2003, text: '在吗', time: expect.any(Number), worker: 'kf1@test' },
      { openid: 'oR', opercode: 2002, text: '在的', time: expect.any(Number), worker: 'kf1@test' },
    ]);
    const rest = await call('/customservice/msgrecord/getmsglist', {
      starttime: now - 60,
      endtime: now + 60,
      msgid: first.msgid,
      number: 2,
    });
    expect(rest.recordlist.map((r: { text: string }) => r.text)).toEqual(['[image]']);
    expect(
      await call('/customservice/msgrecord/getmsglist', {
        starttime: now - 90_000,
        endtime: now,
        msgid: 1,
        number: 10,
      }),
    ).toMatchObject({ errcode: 65417 });
    expect(
      await call('/customservice/msgrecord/getmsglist', {
        starttime: now,
        endtime: now,
        msgid: 1,
        number: 10001,
      }),
    ).toMatchObject({ errcode: 65416 });
  });
});
