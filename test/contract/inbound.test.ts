import { describe, expect, it } from 'vitest';
import { handleCallback } from '../../lib/callback/handleCallback';
import { normaliseMpMessage } from '../../lib/callback/mpMessage';
import { parseInboundMessage } from '../../lib/contracts/inbound';
import { parseSyncJob } from '../../lib/contracts/syncJob';
import { normaliseKfMessage } from '../../lib/inbound/normaliseKf';
import { NO_METRICS } from '../../lib/metrics';
import { requiredText } from '../../lib/xml';
import { recordingLog, recordingPublisher } from '../support/recording';
import { mpPost, testConfig, wecomPost } from '../support/wechat';
import { corpusJson, corpusText, corpusXml } from './corpus';

// biome-ignore lint/suspicious/noExplicitAny: corpus items are read field by field.
type Item = Record<string, any>;
const receivedAt = new Date('2026-01-01T00:00:00Z');

/**
 * What each real kf body must become in the inbound contract, written out field by field from the platform's
 * names to kf-bridge's, so a field the normaliser drops or misnames fails here.
 */
const KF_BODIES: Record<string, (body: Item) => Item> = {
  text: (b) => ({ content: b.content, menuId: b.menu_id }),
  image: (b) => ({ mediaId: b.media_id }),
  voice: (b) => ({ mediaId: b.media_id }),
  video: (b) => ({ mediaId: b.media_id }),
  file: (b) => ({ mediaId: b.media_id }),
  location: (b) => ({ latitude: b.latitude, longitude: b.longitude, name: b.name, address: b.address }),
  link: (b) => ({ title: b.title, description: b.desc, url: b.url, picUrl: b.pic_url }),
  business_card: (b) => ({ userId: b.userid }),
  miniprogram: (b) => ({
    title: b.title,
    appId: b.appid,
    pagePath: b.pagepath,
    thumbMediaId: b.thumb_media_id,
  }),
  msgmenu: (b) => ({ headContent: b.head_content, list: b.list, tailContent: b.tail_content }),
  channels_shop_product: (b) => ({
    productId: b.product_id,
    headImage: b.head_image,
    title: b.title,
    salesPrice: b.sales_price,
    shopNickname: b.shop_nickname,
    shopHeadImage: b.shop_head_image,
  }),
  channels_shop_order: (b) => ({
    orderId: b.order_id,
    productTitles: b.product_titles,
    priceWording: b.price_wording,
    state: b.state,
    imageUrl: b.image_url,
    shopNickname: b.shop_nickname,
  }),
};
const KF_EVENTS: Record<string, (event: Item) => Item> = {
  enter_session: (e) => ({ scene: e.scene, sceneParam: e.scene_param, welcomeCode: e.welcome_code }),
  msg_send_fail: (e) => ({ failMsgid: e.fail_msgid, failType: e.fail_type }),
  servicer_status_change: (e) => ({ servicerUserId: e.servicer_userid, status: e.status }),
  session_status_change: (e) => ({
    changeType: e.change_type,
    oldServicerUserId: e.old_servicer_userid,
    newServicerUserId: e.new_servicer_userid,
    msgCode: e.msg_code,
  }),
  user_recall_msg: (e) => ({ recallMsgid: e.recall_msgid }),
  servicer_recall_msg: (e) => ({ recallMsgid: e.recall_msgid, servicerUserId: e.servicer_userid }),
};

const syncItems: Item[] = corpusJson('wecom/sync_msg.response.json').msg_list;
const [header, ...recallEvents]: Item[] = corpusJson('wecom/sync_msg.recall-events.response.json').msg_list;

/**
 * Event items as the doc describes them (94670): the common fields, origin 4 ("系统推送的事件消息"), and no
 * open_kfid, external_userid or servicer_userid outside `event` ("msgtype为event，该字段不返回"). The SDK
 * samples either keep a customer message's header or drop the common fields.
 */
const asDocEvent = (item: Item, common: Item): Item => ({
  msgid: common.msgid,
  send_time: common.send_time,
  origin: 4,
  msgtype: 'event',
  event: item.event,
});

const messageItems = [
  ...syncItems.filter((item) => item.msgtype !== 'event'),
  corpusJson('wecom/sync_msg_item.channels_shop_product.json'),
  corpusJson('wecom/sync_msg_item.channels_shop_order.json'),
];
const eventItems = [
  ...syncItems.filter((item) => item.msgtype === 'event').map((item) => asDocEvent(item, item)),
  ...recallEvents.map((item) => asDocEvent(item, header ?? {})),
];

describe('kf/sync_msg items through the normaliser', () => {
  it('covers every message type and event of the corpus', () => {
    expect(messageItems.map((item) => item.msgtype)).toEqual(Object.keys(KF_BODIES));
    expect(eventItems.map((item) => item.event.event_type)).toEqual(Object.keys(KF_EVENTS));
  });

  it.each(messageItems.map((item) => [item.msgtype, item]))(
    '%s keeps ids, customer, account and content',
    (msgtype, item) => {
      const { message, fitted } = normaliseKfMessage(item, 'default', receivedAt);
      expect(fitted).toBe(true);
      expect(message).toEqual({
        schema: 'kf-bridge.inbound/v1',
        app: 'default',
        channel: 'kf',
        id: item.msgid,
        account: item.open_kfid,
        customer: item.external_userid,
        origin: 'customer',
        servicerUserId: item.servicer_userid,
        sentAt: item.send_time,
        receivedAt: receivedAt.toISOString(),
        message: { type: msgtype, ...KF_BODIES[msgtype]?.(item[msgtype]) },
      });
    },
  );

  it.each(eventItems.map((item) => [item.event.event_type, item]))(
    'event %s keeps its fields',
    (eventType, item) => {
      const { message, fitted } = normaliseKfMessage(item, 'default', receivedAt);
      expect(fitted).toBe(true);
      expect(message).toEqual({
        schema: 'kf-bridge.inbound/v1',
        app: 'default',
        channel: 'kf',
        id: item.msgid,
        account: item.event.open_kfid,
        ...(item.event.external_userid && { customer: item.event.external_userid }),
        origin: 'event',
        sentAt: item.send_time,
        receivedAt: receivedAt.toISOString(),
        message: { type: 'event', event: eventType, ...KF_EVENTS[eventType]?.(item.event) },
      });
    },
  );
});

/** What each real MP push must become: the fields MP pushes, under kf-bridge's names. */
const MP_MESSAGES: Record<string, Item> = {
  'mp/push.text.xml': { type: 'text', content: 'this is a test' },
  'mp/push.image.xml': { type: 'image', mediaId: 'media_id', picUrl: 'this is a url' },
  'mp/push.voice.xml': { type: 'voice', mediaId: 'media_id', format: 'Format' },
  'mp/push.video.xml': { type: 'video', mediaId: 'media_id', thumbMediaId: 'thumb_media_id' },
  'mp/push.shortvideo.xml': { type: 'shortvideo', mediaId: 'media_id', thumbMediaId: 'thumb_media_id' },
  'mp/push.location.xml': {
    type: 'location',
    latitude: 23.134521,
    longitude: 113.358803,
    scale: 20,
    address: '位置信息',
  },
  'mp/push.link.xml': {
    type: 'link',
    title: '公众平台官网链接',
    description: '公众平台官网链接',
    url: 'url',
  },
};
const scanCode = (result: string) => ({
  EventKey: '6',
  ScanCodeInfo: { ScanType: 'qrcode', ScanResult: result },
});
const MP_EVENTS: Record<string, Item> = {
  'mp/event.subscribe.xml': {},
  'mp/event.subscribe-qrscene.xml': { EventKey: 'qrscene_123123', Ticket: 'TICKET' },
  'mp/event.unsubscribe.xml': {},
  'mp/event.SCAN.xml': { EventKey: 'SCENE_VALUE', Ticket: 'TICKET' },
  'mp/event.LOCATION.xml': { Latitude: '23.137466', Longitude: '113.352425', Precision: '119.385040' },
  'mp/event.CLICK.xml': { EventKey: 'EVENTKEY' },
  'mp/event.VIEW.xml': { EventKey: 'www.qq.com' },
  'mp/event.scancode_push.xml': scanCode('1'),
  'mp/event.scancode_waitmsg.xml': scanCode('2'),
  'mp/event.pic_sysphoto.xml': {
    EventKey: '6',
    SendPicsInfo: { Count: '1', PicList: { item: { PicMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' } } },
  },
  'mp/event.location_select.xml': {
    EventKey: '6',
    SendLocationInfo: {
      Location_X: '23',
      Location_Y: '113',
      Scale: '15',
      Label: '广州市海珠区客村艺苑路 106号',
      Poiname: '',
    },
  },
  'mp/event.kf_create_session.xml': { KfAccount: 'test1@test' },
  'mp/event.kf_close_session.xml': { KfAccount: 'test1@test' },
  'mp/event.kf_switch_session.xml': { FromKfAccount: 'test1@test', ToKfAccount: 'test2@test' },
};

describe('Official Account pushes through the normaliser', () => {
  it.each(Object.entries(MP_MESSAGES))('%s keeps MsgId, follower, account and content', (file, body) => {
    const xml = corpusXml(file);
    expect(normaliseMpMessage(xml, 'default', receivedAt)).toEqual({
      schema: 'kf-bridge.inbound/v1',
      app: 'default',
      channel: 'mp',
      id: expect.stringMatching(/^msg_/),
      mpMsgId: xml.MsgId,
      account: xml.ToUserName,
      customer: xml.FromUserName,
      origin: 'customer',
      sentAt: Number(xml.CreateTime),
      receivedAt: receivedAt.toISOString(),
      message: body,
    });
  });

  it.each(Object.entries(MP_EVENTS))('%s keeps the event and every field it carries', (file, fields) => {
    const xml = corpusXml(file);
    const message = normaliseMpMessage(xml, 'default', receivedAt);
    expect(message).toEqual({
      schema: 'kf-bridge.inbound/v1',
      app: 'default',
      channel: 'mp',
      id: expect.any(String),
      account: xml.ToUserName,
      customer: xml.FromUserName,
      origin: 'event',
      sentAt: Number(xml.CreateTime),
      receivedAt: receivedAt.toISOString(),
      message: { type: 'event', event: xml.Event, fields },
    });
  });
});

function callbackDeps(env: Record<string, string> = {}) {
  const { publish, published } = recordingPublisher();
  const { log, lines } = recordingLog();
  const deps = {
    config: testConfig(env),
    publish,
    budgets: { apply: async () => {} },
    replays: { claim: async () => 'new' as const, processed: async () => {} },
    now: () => new Date(),
    log,
    meter: NO_METRICS,
  };
  return { deps, published, lines };
}

describe('callbacks', () => {
  it("verifies and decrypts Tencent's published WeCom POST, envelope and all", async () => {
    // The corpus entry's credentials; the sample is an app text message, which kf-bridge acknowledges and skips.
    const { deps, published, lines } = callbackDeps({
      WECOM_CORP_ID: 'ww1436e0e65a779aee',
      WECOM_CALLBACK_TOKEN: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
      WECOM_ENCODING_AES_KEY: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
      CALLBACK_MAX_CLOCK_SKEW_SECONDS: '0',
      KF_BRIDGE_STAGE: 'local',
    });
    const answer = await handleCallback(
      {
        method: 'POST',
        app: 'default',
        query: {
          msg_signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
          timestamp: '1476422779',
          nonce: '1597212914',
        },
        body: corpusText('wecom/callback_envelope.xml'),
      },
      deps,
    );
    expect(answer).toEqual({ status: 200, body: 'success' });
    expect(published).toEqual([]);
    expect(lines).toContainEqual({
      level: 'info',
      args: [
        'wecom callback ignored: not a kf message notice',
        { app: 'default', msgType: 'text', event: undefined },
      ],
    });
  });

  it('turns the documented kf_msg_or_event notice into a sync job with its Token and OpenKfId', async () => {
    const { deps, published } = callbackDeps();
    const notice = corpusXml('wecom/kf_msg_or_event.xml');
    await handleCallback(wecomPost(corpusText('wecom/kf_msg_or_event.xml')), deps);
    expect(published).toHaveLength(1);
    expect(parseSyncJob(JSON.parse(published[0]?.message.body ?? '{}'))).toMatchObject({
      app: 'default',
      openKfId: notice.OpenKfId,
      token: notice.Token,
    });
  });

  it('publishes a real MP push, plaintext and safe mode alike', async () => {
    for (const safe of [false, true]) {
      // An app with an AES key takes safe-mode pushes only; plaintext mode is an app without one.
      const { deps, published } = callbackDeps(safe ? {} : { MP_ENCODING_AES_KEY: '' });
      await handleCallback(mpPost(corpusText('mp/push.text.xml'), { safe }), deps);
      const inbound = parseInboundMessage(JSON.parse(published[0]?.message.body ?? '{}'));
      expect(inbound).toMatchObject({ mpMsgId: '1234567890123456', customer: 'fromUser', account: 'toUser' });
    }
  });

  it('finds the ciphertext in a captured safe-mode envelope', () => {
    expect(requiredText(corpusXml('mp/safe_mode_envelope.xml'), 'Encrypt', 'callback body')).toMatch(
      /^[\w+/]+=*$/,
    );
  });
});
