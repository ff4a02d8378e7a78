import * as v from 'valibot';
import {
  INBOUND_SCHEMA,
  type InboundMessage,
  type InboundMessageBody,
  inboundMessage,
} from '../contracts/inbound';
import { ContractError } from '../errors';

type Raw = Record<string, unknown>;

const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
const num = (value: unknown) =>
  typeof value === 'number'
    ? value
    : typeof value === 'string' && value !== '' && Number.isFinite(Number(value))
      ? Number(value)
      : undefined;
const obj = (value: unknown): Raw =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : {};

function menuItem(item: Raw): Raw {
  const text = obj(item.text);
  return item.type === 'text'
    ? {
        type: 'text',
        text: { content: text.content, ...(text.no_newline !== undefined && { noNewline: text.no_newline }) },
      }
    : item;
}

const EVENTS: Record<string, (e: Raw) => Raw> = {
  enter_session: (e) => {
    const channels = e.wechat_channels ? obj(e.wechat_channels) : undefined;
    return {
      scene: str(e.scene),
      sceneParam: str(e.scene_param),
      welcomeCode: str(e.welcome_code),
      ...(channels && {
        wechatChannels: {
          nickname: str(channels.nickname),
          shopNickname: str(channels.shop_nickname),
          scene: num(channels.scene),
        },
      }),
    };
  },
  msg_send_fail: (e) => ({ failMsgid: e.fail_msgid, failType: num(e.fail_type) }),
  servicer_status_change: (e) => ({
    servicerUserId: e.servicer_userid,
    status: num(e.status),
    stopType: num(e.stop_type),
  }),
  session_status_change: (e) => ({
    changeType: num(e.change_type),
    oldServicerUserId: str(e.old_servicer_userid),
    newServicerUserId: str(e.new_servicer_userid),
    msgCode: str(e.msg_code),
  }),
  user_recall_msg: (e) => ({ recallMsgid: e.recall_msgid }),
  servicer_recall_msg: (e) => ({ recallMsgid: e.recall_msgid, servicerUserId: str(e.servicer_userid) }),
  reject_customer_msg_switch_change: (e) => ({
    servicerUserId: str(e.servicer_userid),
    rejectSwitch: num(e.reject_switch),
  }),
};

const BODIES: Record<string, (b: Raw) => Raw> = {
  text: (b) => ({ content: b.content, menuId: str(b.menu_id) }),
  image: (b) => ({ mediaId: b.media_id }),
  voice: (b) => ({ mediaId: b.media_id }),
  video: (b) => ({ mediaId: b.media_id }),
  file: (b) => ({ mediaId: b.media_id }),
  location: (b) => ({
    latitude: num(b.latitude),
    longitude: num(b.longitude),
    name: str(b.name),
    address: str(b.address),
  }),
  link: (b) => ({ title: b.title, description: str(b.desc), url: b.url, picUrl: str(b.pic_url) }),
  business_card: (b) => ({ userId: b.userid }),
  miniprogram: (b) => ({
    title: str(b.title),
    appId: b.appid,
    pagePath: b.pagepath,
    thumbMediaId: str(b.thumb_media_id),
  }),
  msgmenu: (b) => ({
    headContent: str(b.head_content),
    list: Array.isArray(b.list) ? b.list.map((i) => menuItem(obj(i))) : b.list,
    tailContent: str(b.tail_content),
  }),
  // WeCom's docs name these head_img / shop_head_img, some SDK samples head_image / shop_head_image: accept both.
  channels_shop_product: (b) => ({
    productId: b.product_id,
    headImage: str(b.head_img) ?? str(b.head_image),
    title: str(b.title),
    salesPrice: typeof b.sales_price === 'number' ? b.sales_price : str(b.sales_price),
    shopNickname: str(b.shop_nickname),
    shopHeadImage: str(b.shop_head_img) ?? str(b.shop_head_image),
  }),
  channels_shop_order: (b) => ({
    orderId: b.order_id,
    productTitles: str(b.product_titles),
    priceWording: str(b.price_wording),
    state: str(b.state),
    imageUrl: str(b.image_url),
    shopNickname: str(b.shop_nickname),
  }),
  merged_msg: (b) => ({
    title: str(b.title),
    items: (Array.isArray(b.item) ? b.item : []).map((i) => {
      const item = obj(i);
      return {
        sendTime: num(item.send_time),
        msgtype: item.msgtype,
        senderName: str(item.sender_name),
        msgContent: str(item.msg_content),
      };
    }),
  }),
  channels: (b) => ({ subType: num(b.sub_type), nickname: str(b.nickname), title: str(b.title) }),
  meeting: (b) => ({ raw: b }),
  schedule: (b) => ({ raw: b }),
  note: (b) => ({ raw: b }),
};

const ORIGIN: Record<number, InboundMessage['origin']> = { 3: 'customer', 4: 'event', 5: 'servicer' };

function body(item: Raw): Raw {
  const msgtype = String(item.msgtype ?? '');
  if (msgtype === 'event') {
    const event = obj(item.event);
    const eventType = String(event.event_type ?? '');
    const map = EVENTS[eventType];
    return map
      ? { type: 'event', event: eventType, ...map(event) }
      : { type: 'unknown', platformType: `event:${eventType}`, raw: item };
  }
  const map = BODIES[msgtype];
  return map
    ? { type: msgtype, ...map(obj(item[msgtype])) }
    : { type: 'unknown', platformType: msgtype, raw: item };
}

/** Drops undefined fields, so optional ones are absent rather than null in the published JSON. */
const compact = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/**
 * One `kf/sync_msg` item in the inbound message contract. For events, open_kfid and external_userid live
 * inside `event`. An item whose body does not fit the contract is carried raw as `unknown`, never dropped.
 */
export function normaliseKfMessage(
  item: Raw,
  app: string,
  receivedAt: Date,
): { message: InboundMessage; fitted: boolean } {
  const event = obj(item.event);
  const envelope = {
    schema: INBOUND_SCHEMA,
    app,
    channel: 'kf',
    id: String(item.msgid ?? ''),
    account: str(item.open_kfid) ?? str(event.open_kfid) ?? '',
    customer: str(item.external_userid) ?? str(event.external_userid),
    origin: ORIGIN[num(item.origin) ?? 0] ?? (item.msgtype === 'event' ? 'event' : 'customer'),
    servicerUserId: str(item.servicer_userid),
    sentAt: num(item.send_time) ?? Math.floor(receivedAt.getTime() / 1000),
    receivedAt: receivedAt.toISOString(),
  };
  const fitted = v.safeParse(inboundMessage, compact({ ...envelope, message: body(item) }));
  if (fitted.success) return { message: fitted.output, fitted: true };
  const raw = v.safeParse(
    inboundMessage,
    compact({
      ...envelope,
      message: {
        type: 'unknown',
        platformType: String(item.msgtype ?? ''),
        raw: item,
      } satisfies InboundMessageBody,
    }),
  );
  if (raw.success) return { message: raw.output, fitted: false };
  // Only a broken envelope (no msgid, no kf account) gets here; the caller cannot route such an item.
  throw new ContractError(
    `sync_msg item without msgid or open_kfid (${v.getDotPath(raw.issues[0]) ?? 'root'})`,
  );
}
