import { describe, expect, it } from 'vitest';
import { OUTBOUND_SCHEMA, outboundGroupId, parseOutboundRequest } from '../../../lib/contracts/outbound';
import { ContractError } from '../../../lib/errors';

const base = {
  schema: OUTBOUND_SCHEMA,
  requestId: 'order-42:reply-1',
  app: 'default',
  channel: 'kf',
  openKfId: 'wkA',
  externalUserId: 'wmB',
};
const mpBase = {
  schema: OUTBOUND_SCHEMA,
  requestId: 'mp-1',
  app: 'default',
  channel: 'mp',
  openid: 'oFollower',
};

describe('outbound request contract', () => {
  it('accepts every kf message type and event replies', () => {
    for (const message of [
      { type: 'text', content: '你好' },
      { type: 'image', mediaId: 'm' },
      { type: 'link', title: 't', url: 'https://x', thumbMediaId: 'm' },
      { type: 'miniprogram', appId: 'wx1', thumbMediaId: 'm', pagePath: 'p' },
      { type: 'msgmenu', list: [{ type: 'view', view: { url: 'https://x', content: 'v' } }] },
      { type: 'location', latitude: 0, longitude: 0 },
      { type: 'ca_link', linkUrl: 'https://work.weixin.qq.com/ca/x' },
      { type: 'event_reply', code: 'CODE', message: { type: 'text', content: '欢迎' } },
    ]) {
      expect(parseOutboundRequest({ ...base, message }).message).toEqual(message);
    }
  });

  it.each([
    [{ ...base, requestId: 'has space' }, 'requestId'],
    [
      { ...base, message: { type: 'text', content: '字'.repeat(683) } },
      'message.content is longer than 2048 bytes',
    ],
    [{ ...base, message: { type: 'location', latitude: 91, longitude: 0 } }, 'message.latitude'],
    [
      {
        ...base,
        message: {
          type: 'msgmenu',
          list: Array.from({ length: 11 }, () => ({ type: 'click', click: { content: 'c' } })),
        },
      },
      'message.list',
    ],
    [{ ...base, message: { type: 'link', title: 't', url: 'ftp://x', thumbMediaId: 'm' } }, 'message.url'],
    [
      { ...base, message: { type: 'event_reply', code: 'C', message: { type: 'image', mediaId: 'm' } } },
      'message.message',
    ],
    [{ ...base, message: { type: 'hologram' } }, 'message.type'],
  ])('refuses %# naming the field', (value, field) => {
    expect(() => parseOutboundRequest(value)).toThrow(ContractError);
    expect(() => parseOutboundRequest(value)).toThrow(field);
  });

  // outbound.fifo's message group id is app#openKfId#externalUserId (MP: app#openid): SQS takes at most 128
  // letters, digits and ASCII punctuation. The same contract holds for requests a company puts on the queue itself.
  it.each([
    [
      { ...base, externalUserId: 'wm 客户' },
      'externalUserId must be letters, digits and ASCII punctuation only',
    ],
    [{ ...base, openKfId: 'wk\tA' }, 'openKfId must be letters, digits and ASCII punctuation only'],
    [
      { ...base, externalUserId: `wm${'x'.repeat(115)}` },
      'externalUserId, with app and openKfId, is over the 128 characters of a message group id',
    ],
    [
      { ...mpBase, openid: `o${'x'.repeat(120)}` },
      'openid, with app, is over the 128 characters of a message group id',
    ],
    [{ ...base, app: 'Default' }, 'app'],
    [{ ...base, requestId: 'r'.repeat(129) }, 'requestId'],
  ])('refuses ids SQS would refuse in the message group id (%#), naming the field', (value, field) => {
    expect(() => parseOutboundRequest({ ...value, message: { type: 'text', content: 'x' } })).toThrow(field);
  });

  it("takes WeChat's own ids, at the longest a message group id allows", () => {
    const text = { type: 'text', content: 'x' };
    expect(
      parseOutboundRequest({
        ...base,
        app: 'after-sales-and-returns-team-abc',
        openKfId: 'wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw',
        externalUserId: 'wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw',
        message: text,
      }),
    ).toMatchObject({ externalUserId: 'wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw' });
    expect(
      parseOutboundRequest({ ...mpBase, openid: 'oLVPpjqs9BhvzwPj5A-vTYAX3GLc', message: text }),
    ).toMatchObject({
      openid: 'oLVPpjqs9BhvzwPj5A-vTYAX3GLc',
    });
    const longest = {
      ...base,
      app: 'a',
      openKfId: 'wk',
      externalUserId: `wm${'x'.repeat(121)}`,
      message: text,
    };
    expect(outboundGroupId(parseOutboundRequest(longest))).toHaveLength(128);
  });

  it('takes a media file as exactly one of a media_id, an https URL or an S3 object', () => {
    expect(
      parseOutboundRequest({ ...base, message: { type: 'image', url: 'https://cdn.example.com/a.png' } })
        .message,
    ).toMatchObject({ url: 'https://cdn.example.com/a.png' });
    expect(
      parseOutboundRequest({ ...base, message: { type: 'file', s3: { bucket: 'b', key: 'k/x.pdf' } } })
        .message,
    ).toMatchObject({ s3: { key: 'k/x.pdf' } });
    for (const message of [
      { type: 'image' },
      { type: 'image', mediaId: 'm', url: 'https://x/a.png' },
      { type: 'voice', url: 'http://plain/a.amr' },
    ]) {
      expect(() => parseOutboundRequest({ ...base, message })).toThrow(ContractError);
    }
  });
});

describe('outbound request contract, Official Account', () => {
  it('accepts every MP message type and typing', () => {
    for (const message of [
      { type: 'text', content: '你好' },
      { type: 'image', mediaId: 'm' },
      { type: 'voice', url: 'https://cdn.example.com/a.mp3' },
      { type: 'video', mediaId: 'm', thumbMediaId: 't', title: '视频' },
      { type: 'music', musicUrl: 'https://x/a.mp3', thumbS3: { bucket: 'b', key: 'k.jpg' } },
      { type: 'news', articles: [{ title: '文章', url: 'https://x/a', picUrl: 'https://x/p.jpg' }] },
      { type: 'mpnews', mediaId: 'permanent' },
      { type: 'mpnewsarticle', articleId: 'a1' },
      { type: 'msgmenu', headContent: '评价', list: [{ id: '101', content: '满意' }] },
      { type: 'wxcard', cardId: 'pFS7Fjg' },
      { type: 'miniprogrampage', appId: 'wx1', pagePath: 'p', thumbMediaId: 't' },
      { type: 'typing' },
      { type: 'typing', command: 'CancelTyping' },
    ]) {
      expect(parseOutboundRequest({ ...mpBase, message }).message).toEqual(message);
    }
    expect(
      parseOutboundRequest({ ...mpBase, kfAccount: 'kf01@gh_test', message: { type: 'text', content: 'x' } }),
    ).toMatchObject({ kfAccount: 'kf01@gh_test' });
  });

  it.each([
    [{ ...mpBase, openid: '' }, 'openid'],
    [
      { ...mpBase, openid: undefined, externalUserId: 'wmB', message: { type: 'text', content: 'x' } },
      'openid',
    ],
    [{ ...mpBase, message: { type: 'file', mediaId: 'm' } }, 'message.type'],
    [
      {
        ...mpBase,
        message: {
          type: 'news',
          articles: [
            { title: 'a', url: 'https://x' },
            { title: 'b', url: 'https://y' },
          ],
        },
      },
      'message.articles must have exactly one article',
    ],
    [
      { ...mpBase, message: { type: 'music', musicUrl: 'https://x/a.mp3' } },
      'exactly one of thumbMediaId, thumbUrl or thumbS3',
    ],
    [
      { ...mpBase, message: { type: 'video', mediaId: 'm', thumbMediaId: 't', thumbUrl: 'https://x/t.jpg' } },
      'at most one of thumbMediaId, thumbUrl or thumbS3',
    ],
    [{ ...mpBase, message: { type: 'msgmenu', list: [] } }, 'message.list'],
    [{ ...mpBase, message: { type: 'typing', command: 'Stop' } }, 'message.command'],
    [{ ...mpBase, kfAccount: 'no-at-sign', message: { type: 'text', content: 'x' } }, 'kfAccount'],
    [{ ...mpBase, channel: 'sms' }, 'channel'],
  ])('refuses %# naming the field', (value, field) => {
    expect(() => parseOutboundRequest(value)).toThrow(ContractError);
    expect(() => parseOutboundRequest(value)).toThrow(field);
  });

  it('takes kf link and miniprogram thumbnails by URL or S3 object too', () => {
    expect(
      parseOutboundRequest({
        ...base,
        message: { type: 'link', title: 't', url: 'https://x', thumbUrl: 'https://cdn.example.com/t.png' },
      }).message,
    ).toMatchObject({ thumbUrl: 'https://cdn.example.com/t.png' });
    expect(() =>
      parseOutboundRequest({ ...base, message: { type: 'miniprogram', appId: 'wx1', pagePath: 'p' } }),
    ).toThrow('exactly one of thumbMediaId, thumbUrl or thumbS3');
  });
});
