import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CORP, json, setup } from './harness';

let s: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  s = await setup();
});
afterEach(async () => {
  await s.close();
});

const get = (path: string) => fetch(`${s.url}${path}`).then(json);

describe('WeCom gettoken', () => {
  it('refuses an unknown corp (40013) and a wrong secret (40001)', async () => {
    expect(await get('/cgi-bin/gettoken?corpid=wwnobody&corpsecret=x')).toMatchObject({ errcode: 40013 });
    expect(await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=wrong`)).toMatchObject({
      errcode: 40001,
    });
  });

  it('returns the same token while it is valid, and a new one once it expired', async () => {
    const first = await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.secret}`);
    expect(first).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 7200 });
    // Fetching again within its validity returns the same result, which renews it.
    s.sim.advanceClock(7000_000);
    const again = await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.secret}`);
    expect(again).toMatchObject({ access_token: first.access_token, expires_in: 7200 });
    s.sim.advanceClock(7000_000);
    expect((await s.api('/cgi-bin/kf/account/list', {}, { token: first.access_token })).errcode).toBe(0);
    s.sim.advanceClock(200_000);
    expect(await s.api('/cgi-bin/kf/account/list', {}, { token: first.access_token })).toMatchObject({
      errcode: 42001,
    });
    const renewed = await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.secret}`);
    expect(renewed.access_token).not.toBe(first.access_token);
  });

  it('gives each secret of a corp its own token', async () => {
    s.sim.createCorp({ corpId: CORP.corpId, secrets: ['second-secret'] });
    const a = await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.secret}`);
    const b = await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=second-secret`);
    expect(a.access_token).not.toBe(b.access_token);
  });

  it('answers 41001 without a token, 40014 to a revoked one and 42001 to an expired one', async () => {
    expect(await s.api('/cgi-bin/kf/account/list', {}, { token: null })).toMatchObject({ errcode: 41001 });
    s.sim.invalidateTokens('revoke', CORP.corpId);
    expect(await s.api('/cgi-bin/kf/account/list', {})).toMatchObject({ errcode: 40014 });
    await s.refreshToken();
    s.sim.invalidateTokens('expire');
    expect(await s.api('/cgi-bin/kf/account/list', {})).toMatchObject({ errcode: 42001 });
  });

  it('puts a hint and a doc link in errmsg, as WeCom does', async () => {
    const answer = await get('/cgi-bin/gettoken?corpid=wwnobody&corpsecret=x');
    expect(answer.errmsg).toMatch(
      /^invalid corpid, hint: \[.+\], from ip: .+, more info at https:\/\/open\.work\.weixin\.qq\.com\/devtool\/query\?e=40013$/,
    );
  });
});

describe('Official Account tokens', () => {
  beforeEach(() => {
    s.sim.createMpApp({ appId: 'wxmpapp0000000001', secret: 'mp-secret', token: 'mptoken' });
  });
  const plain = () =>
    get('/cgi-bin/token?grant_type=client_credential&appid=wxmpapp0000000001&secret=mp-secret');
  const stable = (force = false) =>
    fetch(`${s.url}/cgi-bin/stable_token`, {
      method: 'POST',
      body: JSON.stringify({
        grant_type: 'client_credential',
        appid: 'wxmpapp0000000001',
        secret: 'mp-secret',
        force_refresh: force,
      }),
    }).then(json);
  const typing = (token: string) =>
    fetch(`${s.url}/cgi-bin/message/custom/typing?access_token=${token}`, {
      method: 'POST',
      body: '{}',
    }).then(json);

  it('issues a new /cgi-bin/token each call and keeps the previous one valid for 5 minutes', async () => {
    const first = (await plain()).access_token;
    const second = (await plain()).access_token;
    expect(second).not.toBe(first);
    expect((await typing(first)).errcode).toBe(45072);
    s.sim.advanceClock(300_001);
    expect((await typing(first)).errcode).toBe(42001);
    expect((await typing(second)).errcode).toBe(45072);
  });

  it('refuses bad credentials and grant types', async () => {
    expect(await get('/cgi-bin/token?grant_type=client_credential&appid=wxnobody&secret=x')).toMatchObject({
      errcode: 40013,
    });
    expect(
      await get('/cgi-bin/token?grant_type=client_credential&appid=wxmpapp0000000001&secret=x'),
    ).toMatchObject({ errcode: 40001 });
    expect(
      await get('/cgi-bin/token?grant_type=password&appid=wxmpapp0000000001&secret=mp-secret'),
    ).toMatchObject({ errcode: 40002 });
  });

  it('returns the same stable token while valid and renews it in its last 5 minutes with an overlap', async () => {
    const first = await stable();
    expect((await stable()).access_token).toBe(first.access_token);
    s.sim.advanceClock(7200_000 - 299_000);
    const renewed = await stable();
    expect(renewed.access_token).not.toBe(first.access_token);
    expect((await typing(first.access_token)).errcode).toBe(45072);
  });

  it('force_refresh replaces the stable token at once, at most every 30 s', async () => {
    const first = (await stable()).access_token;
    const forced = await stable(true);
    expect(forced.access_token).not.toBe(first);
    expect((await typing(first)).errcode).toBe(42001);
    expect(await stable(true)).toMatchObject({ errcode: 45009 });
    s.sim.advanceClock(31_000);
    // A token answer on MP carries no errcode: a success is the token itself.
    expect(await stable(true)).toEqual({ access_token: expect.any(String), expires_in: 7200 });
  });

  it('keeps stable and plain tokens apart', async () => {
    const stableToken = (await stable()).access_token;
    await plain();
    expect((await stable()).access_token).toBe(stableToken);
  });
});
