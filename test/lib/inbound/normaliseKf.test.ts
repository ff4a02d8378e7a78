import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../lib/errors';
import { normaliseKfMessage } from '../../../lib/inbound/normaliseKf';

const AT = new Date('2026-11-21T08:00:00.000Z');
const message = (msgtype: string, body: unknown, extra: Record<string, unknown> = {}) => ({
  msgid: 'from_msgid_4622416642169452483',
  open_kfid: 'wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw',
  external_userid: 'wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw',
  send_time: 1615478585,
  origin: 3,
  msgtype,
  [msgtype]: body,
  ...extra,
});
const normalise = (item: Record<string, unknown>) => normaliseKfMessage(item, 'default', AT);

describe('normaliseKfMessage', () => {
  it('fills the envelope from a customer message', () => {
    expect(normalise(message('text', { content: '你好', menu_id: '101' }))).toEqual({
      fitted: true,
      message: {
        schema: 'kf-bridge.inbound/v1',
        app: 'default',
        channel: 'kf',
        id: 'from_msgid_4622416642169452483',
        account: 'wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw',
        customer: 'wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw',
        origin: 'customer',
        sentAt: 1615478585,
        receivedAt: '2026-11-21T08:00:00.000Z',
        message: { type: 'text', content: '你好', menuId: '101' },
      },
    });
  });

  it.each([
    ['image', { media_id: 'm1' }, { type: 'image', mediaId: 'm1' }],
    ['voice', { media_id: 'm2' }, { type: 'voice', mediaId: 'm2' }],
    ['video', { media_id: 'm3' }, { type: 'video', mediaId: 'm3' }],
    ['file', { media_id: 'm4' }, { type: 'file', mediaId: 'm4' }],
    [
      'location',
      { latitude: 23.1, longitude: 113.3, name: '广州塔', address: '海珠区' },
      { type: 'location', latitude: 23.1, longitude: 113.3, name: '广州塔', address: '海珠区' },
    ],
    [
      'link',
      { title: 'T', desc: 'D', url: 'https://x', pic_url: 'https://p' },
      { type: 'link', title: 'T', description: 'D', url: 'https://x', picUrl: 'https://p' },
    ],
    ['business_card', { userid: 'alice' }, { type: 'business_card', userId: 'alice' }],
    [
      'miniprogram',
      { title: 't', appid: 'wx1', pagepath: 'p/i', thumb_media_id: 'm' },
      { type: 'miniprogram', title: 't', appId: 'wx1', pagePath: 'p/i', thumbMediaId: 'm' },
    ],
    [
      'msgmenu',
      {
        head_content: 'h',
        list: [
          { type: 'click', click: { id: '1', content: 'c' } },
          { type: 'text', text: { content: 't', no_newline: 1 } },
        ],
        tail_content: 't',
      },
      {
        type: 'msgmenu',
        headContent: 'h',
        list: [
          { type: 'click', click: { id: '1', content: 'c' } },
          { type: 'text', text: { content: 't', noNewline: 1 } },
        ],
        tailContent: 't',
      },
    ],
    [
      'channels_shop_product',
      {
        product_id: 'p',
        head_img: 'i',
        title: 't',
        sales_price: '100',
        shop_nickname: 's',
        shop_head_img: 'h',
      },
      {
        type: 'channels_shop_product',
        productId: 'p',
        headImage: 'i',
        title: 't',
        salesPrice: '100',
        shopNickname: 's',
        shopHeadImage: 'h',
      },
    ],
    [
      'channels_shop_product',
      { product_id: 'p', head_image: 'i', sales_price: 100 },
      { type: 'channels_shop_product', productId: 'p', headImage: 'i', salesPrice: 100 },
    ],
    [
      'channels_shop_order',
      {
        order_id: 'o',
        product_titles: 'a',
        price_wording: '¥1',
        state: '已支付',
        image_url: 'u',
        shop_nickname: 's',
      },
      {
        type: 'channels_shop_order',
        orderId: 'o',
        productTitles: 'a',
        priceWording: '¥1',
        state: '已支付',
        imageUrl: 'u',
        shopNickname: 's',
      },
    ],
    [
      'merged_msg',
      { title: '聊天记录', item: [{ send_time: 1, msgtype: 'text', sender_name: 'n', msg_content: '{}' }] },
      {
        type: 'merged_msg',
        title: '聊天记录',
        items: [{ sendTime: 1, msgtype: 'text', senderName: 'n', msgContent: '{}' }],
      },
    ],
    [
      'channels',
      { sub_type: 1, nickname: 'n', title: 't' },
      { type: 'channels', subType: 1, nickname: 'n', title: 't' },
    ],
    ['meeting', { meetingid: 'x' }, { type: 'meeting', raw: { meetingid: 'x' } }],
    ['schedule', { schedule_id: 'x' }, { type: 'schedule', raw: { schedule_id: 'x' } }],
    ['note', {}, { type: 'note', raw: {} }],
  ])('normalises %s', (msgtype, body, expected) => {
    const { message: normalised, fitted } = normalise(message(msgtype, body));
    expect(fitted).toBe(true);
    expect(normalised.message).toEqual(expected);
  });

  it('reads a servicer message (origin 5)', () => {
    expect(
      normalise(message('text', { content: 'hi' }, { origin: 5, servicer_userid: 'alice' })).message,
    ).toMatchObject({ origin: 'servicer', servicerUserId: 'alice' });
  });

  const event = (body: Record<string, unknown>) => ({
    msgid: 'evt1',
    send_time: 1700000000,
    origin: 4,
    msgtype: 'event',
    event: { open_kfid: 'wkA', external_userid: 'wmB', ...body },
  });

  it.each([
    [
      {
        event_type: 'enter_session',
        scene: 's',
        scene_param: 'p',
        welcome_code: 'w',
        wechat_channels: { nickname: 'n', scene: 1 },
      },
      {
        event: 'enter_session',
        scene: 's',
        sceneParam: 'p',
        welcomeCode: 'w',
        wechatChannels: { nickname: 'n', scene: 1 },
      },
    ],
    [
      { event_type: 'msg_send_fail', fail_msgid: 'm', fail_type: 4 },
      { event: 'msg_send_fail', failMsgid: 'm', failType: 4 },
    ],
    [
      { event_type: 'servicer_status_change', servicer_userid: 'u', status: 1, stop_type: 1 },
      { event: 'servicer_status_change', servicerUserId: 'u', status: 1, stopType: 1 },
    ],
    [
      { event_type: 'session_status_change', change_type: 1, new_servicer_userid: 'u', msg_code: 'c' },
      { event: 'session_status_change', changeType: 1, newServicerUserId: 'u', msgCode: 'c' },
    ],
    [
      {
        event_type: 'session_status_change',
        change_type: 2,
        old_servicer_userid: 'a',
        new_servicer_userid: 'b',
      },
      { event: 'session_status_change', changeType: 2, oldServicerUserId: 'a', newServicerUserId: 'b' },
    ],
    [
      { event_type: 'user_recall_msg', recall_msgid: 'm' },
      { event: 'user_recall_msg', recallMsgid: 'm' },
    ],
    [
      { event_type: 'servicer_recall_msg', recall_msgid: 'm', servicer_userid: 'u' },
      { event: 'servicer_recall_msg', recallMsgid: 'm', servicerUserId: 'u' },
    ],
    [
      { event_type: 'reject_customer_msg_switch_change', servicer_userid: 'u', reject_switch: 1 },
      { event: 'reject_customer_msg_switch_change', servicerUserId: 'u', rejectSwitch: 1 },
    ],
  ])('normalises the event %o, with account and customer from inside the event', (body, expected) => {
    const { message: normalised } = normalise(event(body));
    expect(normalised).toMatchObject({ id: 'evt1', account: 'wkA', customer: 'wmB', origin: 'event' });
    expect(normalised.message).toEqual({ type: 'event', ...expected });
  });

  it('carries an event that concerns no customer without one', () => {
    const item = {
      msgid: 'e2',
      send_time: 1,
      origin: 4,
      msgtype: 'event',
      event: { event_type: 'servicer_status_change', open_kfid: 'wkA', servicer_userid: 'u', status: 2 },
    };
    expect(normalise(item).message.customer).toBeUndefined();
  });

  it('passes an unknown msgtype or event through raw, flagged', () => {
    const item = message('hologram', { beam: 1 });
    expect(normalise(item).message.message).toEqual({ type: 'unknown', platformType: 'hologram', raw: item });
    const unknownEvent = event({ event_type: 'teleport' });
    expect(normalise(unknownEvent).message.message).toEqual({
      type: 'unknown',
      platformType: 'event:teleport',
      raw: unknownEvent,
    });
  });

  it('carries a known type with a malformed body raw rather than dropping it', () => {
    const item = message('location', { latitude: 'north' });
    expect(normalise(item)).toMatchObject({
      fitted: false,
      message: { message: { type: 'unknown', platformType: 'location', raw: item } },
    });
  });

  it('refuses an item it cannot route: no msgid or no kf account', () => {
    expect(() => normalise({ ...message('text', { content: 'x' }), msgid: undefined })).toThrow(
      ContractError,
    );
    expect(() => normalise({ ...message('text', { content: 'x' }), open_kfid: undefined })).toThrow(
      ContractError,
    );
  });
});
