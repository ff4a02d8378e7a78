import { describe, expect, it } from 'vitest';
import { INBOUND_SCHEMA, inboundMessageGroupId, parseInboundMessage } from '../../../lib/contracts/inbound';
import { ContractError } from '../../../lib/errors';

const kf = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  schema: INBOUND_SCHEMA,
  app: 'default',
  channel: 'kf',
  id: 'from_msgid_4622416642169452483',
  account: 'wkAAA',
  customer: 'wmCustomer',
  origin: 'customer',
  sentAt: 1700000000,
  receivedAt: '2026-11-21T08:00:00.000Z',
  message,
  ...extra,
});

describe('inbound message contract', () => {
  it.each([
    { type: 'text', content: 'hi', menuId: '101' },
    { type: 'image', mediaId: 'm' },
    { type: 'voice', mediaId: 'm' },
    { type: 'video', mediaId: 'm' },
    { type: 'file', mediaId: 'm' },
    { type: 'location', latitude: 23.1, longitude: 113.3, name: 'n', address: 'a' },
    { type: 'link', title: 't', description: 'd', url: 'https://x', picUrl: 'https://p' },
    { type: 'business_card', userId: 'u' },
    { type: 'miniprogram', title: 't', appId: 'wx1', pagePath: 'p', thumbMediaId: 'm' },
    {
      type: 'msgmenu',
      headContent: 'h',
      list: [
        { type: 'click', click: { id: '1', content: 'c' } },
        { type: 'view', view: { url: 'https://x', content: 'v' } },
        { type: 'miniprogram', miniprogram: { appid: 'wx1', pagepath: 'p', content: 'm' } },
        { type: 'text', text: { content: 't', noNewline: 1 } },
      ],
      tailContent: 't',
    },
    { type: 'channels_shop_product', productId: 'p', salesPrice: '100', title: 't' },
    { type: 'channels_shop_product', productId: 'p', salesPrice: 100 },
    { type: 'channels_shop_order', orderId: 'o', priceWording: '¥1', state: '已支付' },
    {
      type: 'merged_msg',
      title: 't',
      items: [{ sendTime: 1, msgtype: 'text', senderName: 's', msgContent: '{}' }],
    },
    { type: 'channels', subType: 1, nickname: 'n', title: 't' },
    { type: 'meeting', raw: { meetingid: 'x' } },
    { type: 'schedule', raw: {} },
    { type: 'note', raw: {} },
    { type: 'unknown', platformType: 'hologram', raw: { hologram: {} } },
  ])('carries kf $type', (message) => {
    expect(parseInboundMessage(kf(message)).message).toEqual(message);
  });

  it.each([
    {
      type: 'event',
      event: 'enter_session',
      scene: 's',
      sceneParam: 'p',
      welcomeCode: 'w',
      wechatChannels: { nickname: 'n', scene: 1 },
    },
    { type: 'event', event: 'msg_send_fail', failMsgid: 'm', failType: 4 },
    { type: 'event', event: 'servicer_status_change', servicerUserId: 'u', status: 1, stopType: 0 },
    { type: 'event', event: 'session_status_change', changeType: 3, oldServicerUserId: 'u', msgCode: 'c' },
    { type: 'event', event: 'user_recall_msg', recallMsgid: 'm' },
    { type: 'event', event: 'servicer_recall_msg', recallMsgid: 'm', servicerUserId: 'u' },
    { type: 'event', event: 'reject_customer_msg_switch_change', servicerUserId: 'u', rejectSwitch: 1 },
  ])('carries the kf event $event', (message) => {
    expect(parseInboundMessage(kf(message, { origin: 'event' })).message).toEqual(message);
  });

  it('refuses a message that breaks the contract, naming each field', () => {
    expect(() => parseInboundMessage(kf({ type: 'location', latitude: 'north' }, { sentAt: -1 }))).toThrow(
      ContractError,
    );
    expect(() => parseInboundMessage(kf({ type: 'text' }, { receivedAt: 'yesterday' }))).toThrow(
      /^inbound message: .*receivedAt/,
    );
  });

  it('groups kf messages per kf account and customer, MP messages per customer', () => {
    expect(inboundMessageGroupId(parseInboundMessage(kf({ type: 'text', content: 'x' })))).toBe(
      'default#wkAAA#wmCustomer',
    );
    const mp = parseInboundMessage(
      kf({ type: 'text', content: 'x' }, { channel: 'mp', account: 'gh_1', customer: 'oUser' }),
    );
    expect(inboundMessageGroupId(mp)).toBe('default#oUser');
  });
});
