import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERRCODES } from '../../lib/platform/errcodes';
import { CORP, json, setup } from './harness';

let s: Awaited<ReturnType<typeof setup>>;
let openKfId: string;
beforeEach(async () => {
  s = await setup();
  openKfId = s.sim.createKfAccount(CORP.corpId, '售后客服');
});
afterEach(async () => {
  await s.close();
});

async function uploadAvatar() {
  const form = new FormData();
  form.append('media', new Blob([Buffer.alloc(64, 7)], { type: 'image/png' }), 'avatar.png');
  const token = await s.refreshToken();
  return (
    await fetch(`${s.url}/cgi-bin/media/upload?access_token=${token}&type=image`, {
      method: 'POST',
      body: form,
    }).then(json)
  ).media_id as string;
}

describe('kf accounts', () => {
  it('adds an account with an uploaded avatar, lists it (POST or GET), updates and deletes it', async () => {
    const mediaId = await uploadAvatar();
    const added = await s.api('/cgi-bin/kf/account/add', { name: '新客服', media_id: mediaId });
    expect(added).toMatchObject({ errcode: 0, open_kfid: expect.stringMatching(/^wk/) });
    const listed = await s.api('/cgi-bin/kf/account/list', { offset: 0, limit: 100 });
    expect(listed.account_list.map((a: { name: string }) => a.name)).toEqual(['售后客服', '新客服']);
    expect(listed.account_list[0]).toMatchObject({
      open_kfid: openKfId,
      manage_privilege: true,
      avatar: expect.any(String),
    });
    expect((await s.api('/cgi-bin/kf/account/list')).account_list).toHaveLength(2);
    expect((await s.api('/cgi-bin/kf/account/list', { offset: 1, limit: 1 })).account_list).toHaveLength(1);
    expect(
      await s.api('/cgi-bin/kf/account/update', { open_kfid: added.open_kfid, name: '改名' }),
    ).toMatchObject({ errcode: 0 });
    expect(await s.api('/cgi-bin/kf/account/del', { open_kfid: added.open_kfid })).toMatchObject({
      errcode: 0,
    });
    expect(await s.api('/cgi-bin/kf/account/del', { open_kfid: added.open_kfid })).toMatchObject({
      errcode: 95004,
    });
  });

  it('checks names, avatars and limits', async () => {
    expect(
      await s.api('/cgi-bin/kf/account/add', { name: '一二三四五六七八九十一二三四五六七', media_id: 'x' }),
    ).toMatchObject({ errcode: 40058 });
    expect(await s.api('/cgi-bin/kf/account/add', { name: 'ok', media_id: 'no-such-media' })).toMatchObject({
      errcode: 40007,
    });
    expect(await s.api('/cgi-bin/kf/account/list', { limit: 101 })).toMatchObject({ errcode: 40058 });
    expect(await s.api('/cgi-bin/kf/add_contact_way', { open_kfid: 'not-a-kf' })).toMatchObject({
      errcode: 95004,
    });
  });

  it('refuses to manage an account the console keeps to itself: 48007, the account is not authorised to the app', async () => {
    const consoleOnly = s.sim.createKfAccount(CORP.corpId, '人工客服', { managedByApi: false });
    expect(await s.api('/cgi-bin/kf/account/update', { open_kfid: consoleOnly, name: 'x' })).toMatchObject({
      errcode: ERRCODES.KF_ACCOUNT_NOT_AUTHORISED.code,
    });
    expect(ERRCODES.KF_ACCOUNT_NOT_AUTHORISED.code).toBe(48007);
  });

  it("answers malformed JSON with the simulator's 47001", async () => {
    const token = await s.refreshToken();
    const answer = await fetch(`${s.url}/cgi-bin/kf/account/add?access_token=${token}`, {
      method: 'POST',
      body: '{"name":',
    }).then(json);
    expect(answer).toMatchObject({ errcode: ERRCODES.WECOM_BODY_UNREADABLE.code });
    expect(answer.errmsg).toContain('Warning: wrong json format.');
  });
});

describe('contact-way links', () => {
  it('carries the scene and the appended scene_param into enter_session', async () => {
    const { url } = await s.api('/cgi-bin/kf/add_contact_way', { open_kfid: openKfId, scene: 'spring_sale' });
    expect(url).toMatch(/^https:\/\/work\.weixin\.qq\.com\/kf\/kfc\w+\?enc_scene=ENC/);
    expect(
      await s.api('/cgi-bin/kf/add_contact_way', { open_kfid: openKfId, scene: 'bad scene!' }),
    ).toMatchObject({ errcode: 40058 });
    const welcome = s.sim.openContactWay(
      `${url}&scene_param=${encodeURIComponent('订单=123')}`,
      'wmCustomer1',
    );
    expect(welcome).toMatch(/^MSGCODE/);
    const page = await s.api('/cgi-bin/kf/sync_msg', {
      open_kfid: openKfId,
      token: s.sim.wecom.callbackTokens.keys().next().value,
    });
    expect(page.msg_list[0]).toMatchObject({
      origin: 4,
      msgtype: 'event',
      event: {
        event_type: 'enter_session',
        open_kfid: openKfId,
        external_userid: 'wmCustomer1',
        scene: 'spring_sale',
        scene_param: '订单=123',
        welcome_code: welcome,
      },
    });
    expect(page.msg_list[0].open_kfid).toBeUndefined();
  });

  it('issues no welcome code to a customer welcomed in the last 48 h or who has written', () => {
    expect(s.sim.enterSession(openKfId, 'wmA')).toBeDefined();
    s.sim.wecom.session(s.sim.wecom.accounts.get(openKfId) as never, 'wmA').lastWelcomeAt = s.sim.clock.now();
    expect(s.sim.enterSession(openKfId, 'wmA')).toBeUndefined();
    s.sim.customerSays(openKfId, 'wmB', 'hi');
    expect(s.sim.enterSession(openKfId, 'wmB')).toBeUndefined();
    s.sim.advanceClock(48 * 3600_000 + 1);
    expect(s.sim.enterSession(openKfId, 'wmA')).toBeDefined();
  });
});

describe('servicers', () => {
  it('adds and removes users and departments with a result per item', async () => {
    const added = await s.api('/cgi-bin/kf/servicer/add', {
      open_kfid: openKfId,
      userid_list: ['alice', 'nobody'],
      department_id_list: [1],
    });
    expect(added.result_list).toEqual([
      { userid: 'alice', errcode: 0, errmsg: 'success' },
      { userid: 'nobody', errcode: 60111, errmsg: 'invalid userid' },
      { department_id: 1, errcode: 0, errmsg: 'success' },
    ]);
    expect(
      (await s.api('/cgi-bin/kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice'] }))
        .result_list[0].errmsg,
    ).toBe('ignored');
    const list = await s.api('/cgi-bin/kf/servicer/list', undefined, { query: { open_kfid: openKfId } });
    expect(list.servicer_list).toEqual([{ userid: 'alice', status: 0, stop_type: 0 }, { department_id: 1 }]);
    await s.api('/cgi-bin/kf/servicer/del', { open_kfid: openKfId, userid_list: ['alice'] });
    expect(
      (await s.api('/cgi-bin/kf/servicer/list', undefined, { query: { open_kfid: openKfId } })).servicer_list,
    ).toEqual([{ department_id: 1 }]);
    expect(await s.api('/cgi-bin/kf/servicer/add', { open_kfid: openKfId })).toMatchObject({
      errcode: 40058,
    });
  });

  it("refuses servicers past 2000 per account with the simulator's own code, not 95015 (a dedicated service)", async () => {
    const account = s.sim.wecom.accounts.get(openKfId);
    for (let i = 0; i < 2000; i++) account?.servicers.set(`member${i}`, { status: 0, stopType: 0 });
    const added = await s.api('/cgi-bin/kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice'] });
    expect(added.result_list).toEqual([
      { userid: 'alice', errcode: ERRCODES.KF_SERVICER_LIMIT.code, errmsg: 'servicer count exceed limit' },
    ]);
    expect(ERRCODES.KF_SERVICER_LIMIT.code).not.toBe(95015);
  });
});

describe('service state', () => {
  const state = (externalUserId: string) =>
    s.api('/cgi-bin/kf/service_state/get', { open_kfid: openKfId, external_userid: externalUserId });
  const trans = (externalUserId: string, service_state: number, servicer_userid?: string) =>
    s.api('/cgi-bin/kf/service_state/trans', {
      open_kfid: openKfId,
      external_userid: externalUserId,
      service_state,
      servicer_userid,
    });

  it('moves a new session through the pool to a servicer and to the end, with a msg_code at each first move', async () => {
    await s.api('/cgi-bin/kf/servicer/add', { open_kfid: openKfId, userid_list: ['alice', 'bob'] });
    s.sim.customerSays(openKfId, 'wmC', '在吗');
    expect(await state('wmC')).toMatchObject({ errcode: 0, service_state: 0 });
    const pool = await trans('wmC', 2);
    expect(pool.msg_code).toMatch(/^MSGCODE/);
    expect((await trans('wmC', 2)).msg_code).toBeUndefined();
    const assigned = await trans('wmC', 3, 'alice');
    expect(assigned.msg_code).toMatch(/^MSGCODE/);
    expect(await state('wmC')).toMatchObject({ service_state: 3, servicer_userid: 'alice' });
    expect((await trans('wmC', 3, 'bob')).msg_code).toBeUndefined();
    expect((await trans('wmC', 4)).msg_code).toMatch(/^MSGCODE/);
    expect(await state('wmC')).toMatchObject({ service_state: 4 });
    expect(await trans('wmC', 0)).toMatchObject({ errcode: 95016 });
    s.sim.customerSays(openKfId, 'wmC', '又来了');
    expect(await state('wmC')).toMatchObject({ service_state: 0 });
  });

  it('refuses transitions the platform does not allow, and servicers who cannot take a session', async () => {
    s.sim.customerSays(openKfId, 'wmD', 'hi');
    await trans('wmD', 2);
    expect(await trans('wmD', 1)).toMatchObject({ errcode: 95016 });
    // carol is no servicer of the account (95014); bob is one, but has paused receiving (95019).
    expect(await trans('wmD', 3, 'carol')).toMatchObject({ errcode: 95014 });
    s.sim.wecom.accounts.get(openKfId)?.servicers.set('bob', { status: 1, stopType: 1 });
    expect(await trans('wmD', 3, 'bob')).toMatchObject({ errcode: 95019 });
    expect(await trans('wmD', 3)).toMatchObject({ errcode: 40058 });
    expect(await trans('wmD', 7)).toMatchObject({ errcode: 40058 });
  });
});

describe('customer/batchget', () => {
  it('returns only customers active in the last 48 h', async () => {
    s.sim.customerSays(openKfId, 'wmRecent', 'hi');
    s.sim.enterSession(openKfId, 'wmEntered', 'scene1', 'p1');
    const answer = await s.api('/cgi-bin/kf/customer/batchget', {
      external_userid_list: ['wmRecent', 'wmEntered', 'wmUnknown'],
      need_enter_session_context: 1,
    });
    expect(answer.customer_list.map((c: { external_userid: string }) => c.external_userid)).toEqual([
      'wmRecent',
      'wmEntered',
    ]);
    expect(answer.customer_list[1].enter_session_context).toEqual({ scene: 'scene1', scene_param: 'p1' });
    expect(answer.invalid_external_userid).toEqual(['wmUnknown']);
    s.sim.advanceClock(48 * 3600_000 + 1);
    await s.refreshToken();
    const later = await s.api('/cgi-bin/kf/customer/batchget', { external_userid_list: ['wmRecent'] });
    expect(later).toMatchObject({ customer_list: [], invalid_external_userid: ['wmRecent'] });
    expect(await s.api('/cgi-bin/kf/customer/batchget', { external_userid_list: [] })).toMatchObject({
      errcode: 40058,
    });
  });

  it('serves the upgrade-service configuration', async () => {
    expect(await s.api('/cgi-bin/kf/customer/get_upgrade_service_config')).toMatchObject({
      member_range: { userid_list: ['alice', 'bob'], department_id_list: [1] },
      groupchat_range: { chat_id_list: [] },
    });
  });
});
