import { describe, expect, it } from 'vitest';
import type { MpOutboundMessage } from '../../lib/contracts/outbound';
import { sendRequest } from '../../lib/outbound/sender';
import {
  createPlatformDownload,
  createPlatformMultipart,
  createPlatformUpload,
  type PlatformRequest,
} from '../../lib/platform/client';
import { chatRecords } from '../../lib/reports/collect';
import { fetchPlatformToken } from '../../lib/tokens/platformToken';
import { corpusJson, corpusText, differencesFrom, wire } from './corpus';
import { app, clientDeps, corpusPlatform, corpusServer, runOperation, senderDeps, unused } from './fakes';

/**
 * kf-bridge's Official Account requests against the documented ones, and the fields it reads from the
 * documented answers.
 */

const body = (request: PlatformRequest | undefined) => wire(request?.body);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

const MP_MESSAGES: Record<string, MpOutboundMessage> = {
  text: { type: 'text', content: 'Hello World' },
  image: { type: 'image', mediaId: 'MEDIA_ID' },
  voice: { type: 'voice', mediaId: 'MEDIA_ID' },
  video: {
    type: 'video',
    mediaId: 'MEDIA_ID',
    thumbMediaId: 'MEDIA_ID',
    title: 'TITLE',
    description: 'DESCRIPTION',
  },
  music: {
    type: 'music',
    title: 'MUSIC_TITLE',
    description: 'MUSIC_DESCRIPTION',
    musicUrl: 'https://example.com/a.mp3',
    hqMusicUrl: 'https://example.com/a.flac',
    thumbMediaId: 'THUMB_MEDIA_ID',
  },
  news: {
    type: 'news',
    articles: [
      {
        title: 'Happy Day',
        description: 'Is Really A Happy Day',
        url: 'https://example.com',
        picUrl: 'https://example.com/p.jpg',
      },
    ],
  },
  mpnews: { type: 'mpnews', mediaId: 'MEDIA_ID' },
  mpnewsarticle: { type: 'mpnewsarticle', articleId: 'article_id' },
  miniprogrampage: {
    type: 'miniprogrampage',
    title: 'title',
    appId: 'appid',
    pagePath: 'pagepath',
    thumbMediaId: 'thumb_media_id',
  },
};

async function sent(message: MpOutboundMessage) {
  const { call, requests } = corpusPlatform({
    '/cgi-bin/message/custom/send': corpusJson('mp/custom_send.response.json'),
    '/cgi-bin/message/custom/typing': corpusJson('mp/custom_typing.response.json'),
  });
  const outcome = await sendRequest(
    {
      schema: 'kf-bridge.outbound/v1',
      requestId: `contract-${message.type}`,
      app: 'default',
      channel: 'mp',
      openid: 'OPENID',
      message,
    },
    senderDeps(call),
  );
  expect(outcome.status).toBe('sent');
  return requests[0];
}

describe('message/custom/send and message/custom/typing', () => {
  it.each(Object.entries(MP_MESSAGES))('%s is sent as the doc shows it', async (msgtype, message) => {
    const request = await sent(message);
    expect(request?.path).toBe('/cgi-bin/message/custom/send');
    expect(differencesFrom(`mp/custom_send.${msgtype}.request.json`, body(request))).toEqual([]);
  });

  it('typing is sent as the doc shows it', async () => {
    const request = await sent({ type: 'typing' });
    expect(request?.path).toBe('/cgi-bin/message/custom/typing');
    expect(differencesFrom('mp/custom_typing.request.json', body(request))).toEqual([]);
  });
});

describe('admin operations', () => {
  const platform = (path: string, file: string) => corpusPlatform({ [path]: corpusJson(file) });

  it('mp-accounts list: kf_id (a string) as a number, the binding and the pending invitation', async () => {
    const { call } = platform('/cgi-bin/customservice/getkflist', 'mp/getkflist.response.json');
    const avatar =
      ' http://mmbiz.qpic.cn/mmbiz/4whpV1VZl2iccsvYbHvnphkyGtnvjfUS8Ym0GSaLic0FD3vN0V8PILcibEGb2fPfEOmw/0';
    expect(await runOperation('mp-accounts list', {}, call)).toEqual({
      accounts: [
        { kfAccount: 'test1@test', nickname: 'ntest1', id: 1001, avatar, wechat: 'kfwx1' },
        { kfAccount: 'test2@test', nickname: 'ntest2', id: 1002, avatar, wechat: 'kfwx2' },
        {
          kfAccount: 'test3@test',
          nickname: 'ntest3',
          id: 1003,
          avatar,
          invitedWechat: 'kfwx3',
          invitation: 'waiting',
          invitationExpiresAt: iso(123456789),
        },
      ],
    });
  });

  it('mp-accounts online', async () => {
    const { call } = platform('/cgi-bin/customservice/getonlinekflist', 'mp/getonlinekflist.response.json');
    expect(await runOperation('mp-accounts online', {}, call)).toEqual({
      accounts: [
        { kfAccount: 'test1@test', id: 1001, signedIn: 'web', sessions: 1 },
        { kfAccount: 'test2@test', id: 1002, signedIn: 'web', sessions: 2 },
      ],
    });
  });

  const account = { kfAccount: 'test1@test' };
  const session = { kfAccount: 'test1@test', openid: 'OPENID' };
  // Each operation gets its own documented answer; kfaccount/update has none published, so add's stands in.
  it.each([
    [
      'mp-accounts add',
      { ...account, nickname: '客服1' },
      '/customservice/kfaccount/add',
      'kfaccount_add',
      'kfaccount_add',
      account,
    ],
    [
      'mp-accounts update',
      { ...account, nickname: '客服1' },
      '/customservice/kfaccount/update',
      'kfaccount_update',
      'kfaccount_add',
      account,
    ],
    [
      'mp-accounts delete',
      account,
      '/customservice/kfaccount/del',
      'kfaccount_del',
      'kfaccount_del',
      account,
    ],
    [
      'mp-accounts invite',
      { ...account, wechatId: 'test_kfwx' },
      '/customservice/kfaccount/inviteworker',
      'kfaccount_inviteworker',
      'kfaccount_inviteworker',
      account,
    ],
    [
      'mp-sessions create',
      session,
      '/customservice/kfsession/create',
      'kfsession_create',
      'kfsession_create',
      session,
    ],
    [
      'mp-sessions close',
      session,
      '/customservice/kfsession/close',
      'kfsession_close',
      'kfsession_close',
      session,
    ],
  ])(
    '%s sends the documented request and takes the documented answer',
    async (name, input, path, request, answer, output) => {
      const { call, requests } = corpusPlatform({ [path]: corpusJson(`mp/${answer}.response.json`) });
      expect(await runOperation(name, input, call)).toEqual(output);
      expect(differencesFrom(`mp/${request}.request.json`, body(requests[0]))).toEqual([]);
    },
  );

  it('mp-accounts avatar uploads the JPG as the doc shows it: field media, kf_account in the query', async () => {
    const server = await corpusServer({
      '/customservice/kfaccount/uploadheadimg': {
        body: corpusText('mp/kfaccount_uploadheadimg.response.json'),
      },
    });
    try {
      const jpg = Buffer.from([0xff, 0xd8, 0xff, 1]).toString('base64');
      const result = await runOperation('mp-accounts avatar', { ...account, avatar: { data: jpg } }, unused, {
        app: server.app,
        multipart: createPlatformMultipart(clientDeps),
      });
      expect(result).toEqual(account);
      expect(server.requests[0]?.query.get('kf_account')).toBe('test1@test');
      expect(server.requests[0]?.body).toContain('name="media"; filename="avatar.jpg"');
    } finally {
      await server.close();
    }
  });

  it('mp-sessions get, list and waiting read createtime and latest_time', async () => {
    const got = platform('/customservice/kfsession/getsession', 'mp/kfsession_getsession.response.json');
    expect(await runOperation('mp-sessions get', { openid: 'OPENID' }, got.call)).toEqual({
      openid: 'OPENID',
      kfAccount: 'test1@test',
      since: iso(123456789),
    });
    expect(got.requests[0]).toMatchObject({ query: { openid: 'OPENID' } });
    const listed = platform(
      '/customservice/kfsession/getsessionlist',
      'mp/kfsession_getsessionlist.response.json',
    );
    expect(await runOperation('mp-sessions list', { kfAccount: 'test1@test' }, listed.call)).toEqual({
      sessions: [
        { openid: 'OPENID', since: iso(123456789) },
        { openid: 'OPENID', since: iso(123456789) },
      ],
    });
    const waiting = platform(
      '/customservice/kfsession/getwaitcase',
      'mp/kfsession_getwaitcase.response.json',
    );
    expect(await runOperation('mp-sessions waiting', {}, waiting.call)).toEqual({
      count: 150,
      waiting: [
        { openid: 'OPENID', since: iso(123456789) },
        { openid: 'OPENID', since: iso(123456789) },
      ],
    });
  });
});

describe('chat records export', () => {
  it('asks with the documented fields and keeps every record of the answer', async () => {
    const answer = corpusJson('mp/msgrecord_getmsglist.response.json');
    const { call, requests } = corpusPlatform({ '/customservice/msgrecord/getmsglist': answer });
    expect(await chatRecords(call, app, '2014-05-20')).toEqual(answer.recordlist);
    expect(differencesFrom('mp/msgrecord_getmsglist.request.json', body(requests[0]))).toEqual([]);
  });
});

describe('tokens and media through the HTTP client', () => {
  it('stable_token: the documented request, and the token and lifetime of the answer', async () => {
    const server = await corpusServer({
      '/cgi-bin/stable_token': { body: corpusText('mp/stable_token.response.json') },
    });
    try {
      expect(await fetchPlatformToken(server.app, 'mp', { forceRefresh: false })).toEqual({
        token: 'ACCESS_TOKEN',
        expiresInSeconds: 7200,
      });
      expect(server.requests[0]?.method).toBe('POST');
      expect(
        differencesFrom('mp/stable_token.request.json', JSON.parse(server.requests[0]?.body ?? '')),
      ).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('stable_token still valid: the seconds it has left, not a full lifetime', async () => {
    const server = await corpusServer({
      '/cgi-bin/stable_token': { body: corpusText('mp/stable_token.still-valid.response.json') },
    });
    try {
      expect(await fetchPlatformToken(server.app, 'mp', { forceRefresh: false })).toEqual({
        token: 'ACCESS_TOKEN',
        expiresInSeconds: 345,
      });
    } finally {
      await server.close();
    }
  });

  const upload = async (type: string, file: string) => {
    const server = await corpusServer({ '/cgi-bin/media/upload': { body: corpusText(file) } });
    try {
      const data = { data: Buffer.from([0xff, 0xd8, 0xff, 1]), filename: 'a.jpg', contentType: 'image/jpeg' };
      return await createPlatformUpload(clientDeps)(server.app, 'mp', { type, file: data });
    } finally {
      await server.close();
    }
  };

  it('media/upload of an image: media_id and created_at (a number of seconds on MP)', async () => {
    expect(await upload('image', 'mp/media_upload.image.response.json')).toEqual({
      mediaId: 'MEDIA_ID',
      createdAt: 1672500000_000,
    });
  });

  it('media/upload of a thumb: MP answers thumb_media_id, no media_id', async () => {
    expect(await upload('thumb', 'mp/media_upload.thumb.response.json')).toEqual({
      mediaId: 'mediaId',
      createdAt: 1486032778_000,
    });
  });

  it('media/get answering JSON instead of the file: the errcode is read', async () => {
    const server = await corpusServer({
      '/cgi-bin/media/get': { body: corpusText('mp/media_get.error.json') },
    });
    try {
      const download = createPlatformDownload(clientDeps)(server.app, 'mp', {
        path: '/cgi-bin/media/get',
        query: { media_id: 'MEDIA_ID' },
      });
      await expect(download).rejects.toMatchObject({ errcode: 40007 });
    } finally {
      await server.close();
    }
  });
});
