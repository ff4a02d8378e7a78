import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEncodingAesKey, decrypt } from '../../lib/crypto/wxBizMsgCrypt';
import { parseWechatXml, textOf } from '../../lib/xml';
import { chinaDayStart } from '../../simulator/wecom/statistics';
import { CORP, json, openKfCallback, setup, type WxAnswer } from '../simulator/harness';
import { corpusJson, corpusXml, differencesFrom } from './corpus';
import { shapeDifferences } from './shape';

/**
 * The simulator's answers against real ones: same field names, JSON types and nesting. Where they differ the
 * simulator is wrong, since the corpus came from the platforms' own documentation or real answers.
 */

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const MP_APP = {
  appId: 'wxb11529c136998cb6',
  secret: 'mp-secret',
  token: 'pamtest',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};
const DAY_SECONDS = 24 * 3600;
const jpg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(100, 1)]);

let s: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  s = await setup();
});
afterEach(async () => {
  await s.close();
});

/** A multipart POST with the file in field `media`, as media/upload and uploadheadimg take it. */
function upload(path: string, query: Record<string, string>, filename: string, data: Buffer) {
  const form = new FormData();
  form.append('media', new Blob([new Uint8Array(data)]), filename);
  return fetch(`${s.url}${path}?${new URLSearchParams(query)}`, { method: 'POST', body: form }).then(json);
}

describe('WeCom answers', () => {
  let openKfId: string;
  const kf = (path: string, body?: unknown, query?: Record<string, string>) =>
    s.api(`/cgi-bin/${path}`, body, query && { query });
  beforeEach(async () => {
    openKfId = s.sim.createKfAccount(CORP.corpId, '客服');
  });

  it('gettoken', async () => {
    const answer = await fetch(
      `${s.url}/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.secret}`,
    ).then(json);
    expect(differencesFrom('wecom/gettoken.response.json', answer)).toEqual([]);
  });

  it('kf/account/add, kf/account/list, kf/add_contact_way, kf/account/update and kf/account/del', async () => {
    const mediaId = s.sim.uploadMedia(CORP.corpId, 'image', 'avatar.png', PNG);
    const added = await kf('kf/account/add', { name: '新建的客服帐号', media_id: mediaId });
    expect(differencesFrom('wecom/account_add.response.json', added)).toEqual([]);
    const list = await kf('kf/account/list', { offset: 0, limit: 100 });
    expect(differencesFrom('wecom/account_list.response.json', list)).toEqual([]);
    const way = await kf('kf/add_contact_way', { open_kfid: openKfId, scene: '12345' });
    expect(differencesFrom('wecom/add_contact_way.response.json', way)).toEqual([]);
    const updated = await kf('kf/account/update', { open_kfid: added.open_kfid, name: '修改客服名' });
    expect(differencesFrom('wecom/account_update.response.json', updated)).toEqual([]);
    const deleted = await kf('kf/account/del', { open_kfid: added.open_kfid });
    expect(differencesFrom('wecom/account_del.response.json', deleted)).toEqual([]);
  });

  it('kf/servicer/add, kf/servicer/list and kf/servicer/del', async () => {
    const added = await kf('kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice', 'bob'] });
    expect(differencesFrom('wecom/servicer_add.response.json', added)).toEqual([]);
    await kf('kf/servicer/add', { open_kfid: openKfId, department_id_list: [1] });
    const list = await kf('kf/servicer/list', undefined, { open_kfid: openKfId });
    expect(list.servicer_list).toHaveLength(3);
    expect(differencesFrom('wecom/servicer_list.response.json', list)).toEqual([]);
    const removed = await kf('kf/servicer/del', { open_kfid: openKfId, userid_list: ['alice', 'carol'] });
    expect(differencesFrom('wecom/servicer_del.response.json', removed)).toEqual([]);
  });

  it('kf/service_state/trans and kf/service_state/get', async () => {
    await kf('kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice'] });
    s.sim.customerSays(openKfId, 'wmCustomer', '你好');
    const moved = await kf('kf/service_state/trans', {
      open_kfid: openKfId,
      external_userid: 'wmCustomer',
      service_state: 3,
      servicer_userid: 'alice',
    });
    expect(moved.msg_code).toEqual(expect.any(String));
    expect(differencesFrom('wecom/service_state_trans.response.json', moved)).toEqual([]);
    const state = await kf('kf/service_state/get', { open_kfid: openKfId, external_userid: 'wmCustomer' });
    expect(differencesFrom('wecom/service_state_get.response.json', state)).toEqual([]);
  });

  it('kf/customer/batchget and kf/customer/get_upgrade_service_config', async () => {
    s.sim.enterSession(openKfId, 'wmCustomer', 'ad01', 'campaign=1');
    const customers = await kf('kf/customer/batchget', {
      external_userid_list: ['wmCustomer', 'wmNobody'],
      need_enter_session_context: 1,
    });
    expect(customers.customer_list).toHaveLength(1);
    expect(differencesFrom('wecom/customer_batchget.response.json', customers)).toEqual([]);
    const config = await kf('kf/customer/get_upgrade_service_config');
    expect(differencesFrom('wecom/get_upgrade_service_config.response.json', config)).toEqual([]);
  });

  it('kf/sync_msg: customer messages and the events the simulator raises', async () => {
    const { msg_list: items } = corpusJson('wecom/sync_msg.response.json');
    // The customer's bodies are the corpus's own: what is compared is the item the simulator wraps them in.
    for (const item of items.filter((i: WxAnswer) => i.msgtype !== 'event'))
      s.sim.customerWrites(openKfId, 'wmCustomer', {
        msgtype: item.msgtype,
        [item.msgtype]: item[item.msgtype],
      });
    s.sim.enterSession(openKfId, 'wmNew', 'ad01', 'p');
    await kf('kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice'] });
    s.sim.servicerChangesSession(openKfId, 'wmCustomer', 'take', 'alice');
    s.sim.customerSays(openKfId, 'wmNew', 'hi');
    s.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'send_fail', failType: 4 }]);
    await kf('kf/send_msg', {
      touser: 'wmNew',
      open_kfid: openKfId,
      msgtype: 'text',
      text: { content: 'x' },
    });
    const page = await kf('kf/sync_msg', { open_kfid: openKfId });
    const events = page.msg_list
      .filter((i: WxAnswer) => i.msgtype === 'event')
      .map((i: WxAnswer) => i.event.event_type);
    expect(events).toEqual(['enter_session', 'session_status_change', 'msg_send_fail']);
    expect(differencesFrom('wecom/sync_msg.response.json', page)).toEqual([]);
  });

  it('kf/send_msg and kf/send_msg_on_event', async () => {
    const welcome = s.sim.enterSession(openKfId, 'wmCustomer');
    const onEvent = await kf('kf/send_msg_on_event', {
      code: welcome,
      msgtype: 'text',
      text: { content: '欢迎' },
    });
    expect(differencesFrom('wecom/send_msg_on_event.response.json', onEvent)).toEqual([]);
    s.sim.customerSays(openKfId, 'wmCustomer', '你好');
    const sent = await kf('kf/send_msg', {
      touser: 'wmCustomer',
      open_kfid: openKfId,
      msgid: 'reply1',
      msgtype: 'text',
      text: { content: '好的' },
    });
    expect(differencesFrom('wecom/send_msg.response.json', sent)).toEqual([]);
  });

  it('kf/get_corp_statistic and kf/get_servicer_statistic', async () => {
    await kf('kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice'] });
    s.sim.customerSays(openKfId, 'wm1', 'a');
    await kf('kf/service_state/trans', {
      open_kfid: openKfId,
      external_userid: 'wm1',
      service_state: 3,
      servicer_userid: 'alice',
    });
    s.sim.servicerWrites(openKfId, 'wm1', 'alice', { msgtype: 'text', text: { content: 'b' } });
    s.sim.servicerChangesSession(openKfId, 'wm1', 'end');
    s.sim.customerRates(openKfId, 'wm1', 'satisfied');
    const day = chinaDayStart(s.sim.clock.now()) / 1000;
    s.sim.advanceClock(2 * DAY_SECONDS * 1000);
    await s.refreshToken();
    const window = { open_kfid: openKfId, start_time: day, end_time: day + DAY_SECONDS };
    const corp = await kf('kf/get_corp_statistic', window);
    expect(corp.statistic_list[0].statistic).toBeDefined();
    expect(differencesFrom('wecom/get_corp_statistic.response.json', corp)).toEqual([]);
    const servicer = await kf('kf/get_servicer_statistic', { ...window, servicer_userid: 'alice' });
    expect(servicer.statistic_list[0].statistic).toBeDefined();
    expect(differencesFrom('wecom/get_servicer_statistic.response.json', servicer)).toEqual([]);
  });

  it('media/upload, and media/get refusing an unknown media_id', async () => {
    const token = await s.refreshToken();
    const uploaded = await upload(
      '/cgi-bin/media/upload',
      { access_token: token, type: 'image' },
      'photo.png',
      PNG,
    );
    expect(differencesFrom('wecom/media_upload.response.json', uploaded)).toEqual([]);
    const refused = await kf('media/get', undefined, { media_id: 'nothing' });
    expect(differencesFrom('wecom/media_get.error.json', refused)).toEqual([]);
  });
});

describe('WeCom callbacks', () => {
  it('pushes the envelope and the kf_msg_or_event notice as WeCom does', async () => {
    const openKfId = s.sim.createKfAccount(CORP.corpId, '客服');
    s.sim.customerSays(openKfId, 'wmCustomer', '你好');
    await s.sim.callbacks.idle();
    const [push] = s.receiver.received;
    if (!push) throw new Error('no callback arrived');
    const envelope = parseWechatXml(push.body);
    expect(shapeDifferences(corpusXml('wecom/callback_envelope.xml'), envelope)).toEqual([]);
    expect(shapeDifferences(corpusXml('wecom/kf_msg_or_event.xml'), openKfCallback(push).event)).toEqual([]);
  });
});

describe('Official Account answers', () => {
  let token: string;
  const mp = (path: string, body?: unknown, query: Record<string, string> = {}) =>
    fetch(
      `${s.url}${path}?${new URLSearchParams({ access_token: token, ...query })}`,
      body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) },
    ).then(json);
  beforeEach(async () => {
    s.sim.createMpApp({ ...MP_APP, callbackUrl: s.receiver.url, mode: 'safe' });
    const answer = await fetch(`${s.url}/cgi-bin/stable_token`, {
      method: 'POST',
      body: JSON.stringify({ grant_type: 'client_credential', appid: MP_APP.appId, secret: MP_APP.secret }),
    }).then(json);
    token = answer.access_token;
    expect(differencesFrom('mp/stable_token.response.json', answer)).toEqual([]);
  });

  it('cgi-bin/token', async () => {
    const answer = await fetch(
      `${s.url}/cgi-bin/token?grant_type=client_credential&appid=${MP_APP.appId}&secret=${MP_APP.secret}`,
    ).then(json);
    expect(differencesFrom('mp/token.response.json', answer)).toEqual([]);
  });

  it('message/custom/send and message/custom/typing', async () => {
    s.sim.mpUserWrites(MP_APP.appId, 'oFollower', { MsgType: 'text', Content: '你好' });
    const typing = await mp('/cgi-bin/message/custom/typing', { touser: 'oFollower', command: 'Typing' });
    expect(differencesFrom('mp/custom_typing.response.json', typing)).toEqual([]);
    const reply = await mp('/cgi-bin/message/custom/send', {
      touser: 'oFollower',
      msgtype: 'text',
      text: { content: '好的' },
    });
    expect(differencesFrom('mp/custom_send.response.json', reply)).toEqual([]);
  });

  it('kf accounts: add, inviteworker, uploadheadimg, getkflist, getonlinekflist, del', async () => {
    const added = await mp('/customservice/kfaccount/add', corpusJson('mp/kfaccount_add.request.json'));
    expect(differencesFrom('mp/kfaccount_add.response.json', added)).toEqual([]);
    await mp('/customservice/kfaccount/add', { kf_account: 'test2@test', nickname: '客服2' });
    const invited = await mp('/customservice/kfaccount/inviteworker', {
      kf_account: 'test1@test',
      invite_wx: 'kfwx1',
    });
    expect(differencesFrom('mp/kfaccount_inviteworker.response.json', invited)).toEqual([]);
    const avatar = await upload(
      '/customservice/kfaccount/uploadheadimg',
      { access_token: token, kf_account: 'test1@test' },
      'test.jpg',
      jpg,
    );
    expect(differencesFrom('mp/kfaccount_uploadheadimg.response.json', avatar)).toEqual([]);
    s.sim.setMpKfWorker(MP_APP.appId, 'test1@test', { acceptInvite: true, online: true });
    await mp('/customservice/kfaccount/inviteworker', { kf_account: 'test2@test', invite_wx: 'kfwx2' });
    const list = await mp('/cgi-bin/customservice/getkflist');
    expect(differencesFrom('mp/getkflist.response.json', list)).toEqual([]);
    const online = await mp('/cgi-bin/customservice/getonlinekflist');
    expect(online.kf_online_list).toHaveLength(1);
    expect(differencesFrom('mp/getonlinekflist.response.json', online)).toEqual([]);
    const deleted = await mp('/customservice/kfaccount/del', corpusJson('mp/kfaccount_del.request.json'));
    expect(differencesFrom('mp/kfaccount_del.response.json', deleted)).toEqual([]);
  });

  it('kf sessions: create, getsession, getsessionlist, getwaitcase, msgrecord/getmsglist', async () => {
    await mp('/customservice/kfaccount/add', { kf_account: 'test1@test', nickname: '客服1' });
    await mp('/customservice/kfaccount/inviteworker', { kf_account: 'test1@test', invite_wx: 'kfwx1' });
    s.sim.setMpKfWorker(MP_APP.appId, 'test1@test', { acceptInvite: true, online: true });
    s.sim.mpUserWrites(MP_APP.appId, 'oWaiting', { MsgType: 'text', Content: '在吗' });
    const waiting = await mp('/customservice/kfsession/getwaitcase');
    expect(waiting.waitcaselist).toHaveLength(1);
    expect(differencesFrom('mp/kfsession_getwaitcase.response.json', waiting)).toEqual([]);
    const created = await mp('/customservice/kfsession/create', {
      kf_account: 'test1@test',
      openid: 'oWaiting',
    });
    expect(differencesFrom('mp/kfsession_create.response.json', created)).toEqual([]);
    const session = await mp('/customservice/kfsession/getsession', undefined, { openid: 'oWaiting' });
    expect(differencesFrom('mp/kfsession_getsession.response.json', session)).toEqual([]);
    const sessions = await mp('/customservice/kfsession/getsessionlist', undefined, {
      kf_account: 'test1@test',
    });
    expect(differencesFrom('mp/kfsession_getsessionlist.response.json', sessions)).toEqual([]);
    s.sim.mpUserWrites(MP_APP.appId, 'oWaiting', { MsgType: 'text', Content: '你好' });
    await mp('/cgi-bin/message/custom/send', {
      touser: 'oWaiting',
      msgtype: 'text',
      text: { content: '您好' },
      customservice: { kf_account: 'test1@test' },
    });
    const now = s.sim.clock.nowSeconds();
    const records = await mp('/customservice/msgrecord/getmsglist', {
      starttime: now - 3600,
      endtime: now + 60,
      msgid: 1,
      number: 10000,
    });
    expect(records.recordlist).toHaveLength(2);
    expect(differencesFrom('mp/msgrecord_getmsglist.response.json', records)).toEqual([]);
    const closed = await mp('/customservice/kfsession/close', {
      kf_account: 'test1@test',
      openid: 'oWaiting',
    });
    expect(differencesFrom('mp/kfsession_close.response.json', closed)).toEqual([]);
  });

  it('media/upload of an image', async () => {
    const image = await upload(
      '/cgi-bin/media/upload',
      { access_token: token, type: 'image' },
      'photo.jpg',
      jpg,
    );
    expect(differencesFrom('mp/media_upload.image.response.json', image)).toEqual([]);
  });

  it('media/upload of a thumb', async () => {
    const thumb = await upload(
      '/cgi-bin/media/upload',
      { access_token: token, type: 'thumb' },
      'thumb.jpg',
      jpg,
    );
    expect(differencesFrom('mp/media_upload.thumb.response.json', thumb)).toEqual([]);
  });

  it('media/get refusing an unknown media_id', async () => {
    const refused = await mp('/cgi-bin/media/get', undefined, { media_id: 'nothing' });
    expect(differencesFrom('mp/media_get.error.json', refused)).toEqual([]);
  });
});

describe('Official Account pushes', () => {
  it('pushes messages and events in safe mode as MP does', async () => {
    s.sim.createMpApp({ ...MP_APP, callbackUrl: s.receiver.url, mode: 'safe' });
    s.sim.mpUserWrites(MP_APP.appId, 'oFollower', { MsgType: 'text', Content: '你好' });
    s.sim.mpUserWrites(MP_APP.appId, 'oFollower', { MsgType: 'event', Event: 'subscribe' });
    await s.sim.callbacks.idle();
    const cipher = {
      token: MP_APP.token,
      receiveId: MP_APP.appId,
      aesKey: decodeEncodingAesKey(MP_APP.encodingAesKey),
    };
    const [text, subscribe] = s.receiver.received.map((push) => {
      const envelope = parseWechatXml(push.body);
      expect(shapeDifferences(corpusXml('mp/safe_mode_envelope.xml'), envelope)).toEqual([]);
      return parseWechatXml(decrypt(cipher, textOf(envelope, 'Encrypt') ?? ''));
    });
    expect(shapeDifferences(corpusXml('mp/push.text.xml'), text)).toEqual([]);
    expect(shapeDifferences(corpusXml('mp/event.subscribe.xml'), subscribe)).toEqual([]);
  });
});
