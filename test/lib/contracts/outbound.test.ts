import { describe, expect, it } from 'vitest';
import { OUTBOUND_SCHEMA, parseOutboundRequest } from '../../../lib/contracts/outbound';
import { ContractError } from '../../../lib/errors';

const base = {
  schema: OUTBOUND_SCHEMA,
  requestId: 'order-42:reply-1',
  app: 'default',
  channel: 'kf',
  openKfId: 'wkA',
  externalUserId: 'wmB',
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
      'message.content: at most 2048 bytes',
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
});
