import { createHash } from 'node:crypto';
import * as v from 'valibot';
import type { FifoMessage } from '../queue/publisher';
import { validate } from './validate';

/**
 * The inbound message contract: what kf-bridge publishes to `inbound.fifo` for every customer message
 * and event, from WeCom kf (`kf/sync_msg`) and from Official Account callbacks alike. Field names are
 * camelCase; `message.type` is the platform's msgtype (lowercase). Changing `schema` is a breaking change.
 */
export const INBOUND_SCHEMA = 'kf-bridge.inbound/v1';

const text = v.string();
const int = v.pipe(v.number(), v.integer());
const opt = v.optional;
const mediaId = v.pipe(v.string(), v.minLength(1));
const raw = v.record(v.string(), v.unknown());

const msgMenuItem = v.variant('type', [
  v.object({ type: v.literal('click'), click: v.object({ id: text, content: text }) }),
  v.object({ type: v.literal('view'), view: v.object({ url: text, content: text }) }),
  v.object({
    type: v.literal('miniprogram'),
    miniprogram: v.object({ appid: text, pagepath: text, content: text }),
  }),
  v.object({ type: v.literal('text'), text: v.object({ content: text, noNewline: opt(int) }) }),
]);

const kfEvent = v.variant('event', [
  v.object({
    type: v.literal('event'),
    event: v.literal('enter_session'),
    scene: opt(text),
    sceneParam: opt(text),
    welcomeCode: opt(text),
    wechatChannels: opt(v.object({ nickname: opt(text), shopNickname: opt(text), scene: opt(int) })),
  }),
  v.object({ type: v.literal('event'), event: v.literal('msg_send_fail'), failMsgid: text, failType: int }),
  v.object({
    type: v.literal('event'),
    event: v.literal('servicer_status_change'),
    servicerUserId: text,
    status: int,
    stopType: opt(int),
  }),
  v.object({
    type: v.literal('event'),
    event: v.literal('session_status_change'),
    changeType: int,
    oldServicerUserId: opt(text),
    newServicerUserId: opt(text),
    msgCode: opt(text),
  }),
  v.object({ type: v.literal('event'), event: v.literal('user_recall_msg'), recallMsgid: text }),
  v.object({
    type: v.literal('event'),
    event: v.literal('servicer_recall_msg'),
    recallMsgid: text,
    servicerUserId: opt(text),
  }),
  v.object({
    type: v.literal('event'),
    event: v.literal('reject_customer_msg_switch_change'),
    servicerUserId: opt(text),
    rejectSwitch: int,
  }),
]);

/** Official Account events (subscribe, SCAN, CLICK, kf_create_session, …): the name as MP sends it, plus the fields the push carried. */
const mpEvent = v.object({
  type: v.literal('event'),
  event: v.pipe(v.string(), v.minLength(1)),
  fields: raw,
});

const platformMessage = v.variant('type', [
  v.object({ type: v.literal('text'), content: text, menuId: opt(text) }),
  v.object({ type: v.literal('image'), mediaId: opt(mediaId), picUrl: opt(text) }),
  v.object({ type: v.literal('voice'), mediaId, format: opt(text), recognition: opt(text) }),
  v.object({ type: v.literal('video'), mediaId, thumbMediaId: opt(text) }),
  v.object({ type: v.literal('shortvideo'), mediaId, thumbMediaId: opt(text) }),
  v.object({ type: v.literal('file'), mediaId }),
  v.object({
    type: v.literal('location'),
    latitude: v.number(),
    longitude: v.number(),
    name: opt(text),
    address: opt(text),
    scale: opt(v.number()),
  }),
  v.object({ type: v.literal('link'), title: text, description: opt(text), url: text, picUrl: opt(text) }),
  v.object({ type: v.literal('business_card'), userId: text }),
  v.object({
    type: v.literal('miniprogram'),
    title: opt(text),
    appId: text,
    pagePath: text,
    thumbMediaId: opt(text),
  }),
  v.object({
    type: v.literal('msgmenu'),
    headContent: opt(text),
    list: v.array(msgMenuItem),
    tailContent: opt(text),
  }),
  v.object({
    type: v.literal('channels_shop_product'),
    productId: text,
    headImage: opt(text),
    title: opt(text),
    salesPrice: opt(v.union([text, v.number()])),
    shopNickname: opt(text),
    shopHeadImage: opt(text),
  }),
  v.object({
    type: v.literal('channels_shop_order'),
    orderId: text,
    productTitles: opt(text),
    priceWording: opt(text),
    state: opt(text),
    imageUrl: opt(text),
    shopNickname: opt(text),
  }),
  v.object({
    type: v.literal('merged_msg'),
    title: opt(text),
    items: v.array(v.object({ sendTime: int, msgtype: text, senderName: opt(text), msgContent: opt(text) })),
  }),
  v.object({ type: v.literal('channels'), subType: opt(int), nickname: opt(text), title: opt(text) }),
  // Shapes WeCom has not published: carried as the platform sent them.
  v.object({ type: v.literal('meeting'), raw }),
  v.object({ type: v.literal('schedule'), raw }),
  v.object({ type: v.literal('note'), raw }),
  // A msgtype this version does not know yet passes through untouched, flagged by its type.
  v.object({ type: v.literal('unknown'), platformType: text, raw }),
]);

/**
 * Stands in for a message SQS would not take (over its size limit as sent, or refused): the original inbound
 * message is kept whole, as JSON, in the media bucket, and this is published in its place, in order.
 */
const quarantined = v.object({
  type: v.literal('quarantined'),
  /** The original's `message.type`. */
  originalType: text,
  /** `too_large`: over SQS's 256 KiB as sent; `refused`: SQS refused it, `code` says how. */
  reason: v.picklist(['too_large', 'refused']),
  code: opt(text),
  /** The original's size as it would have been sent, in bytes. */
  bytes: int,
  /** Where the original is kept. */
  content: v.object({ bucket: text, key: text }),
});

export const inboundMessageBody = v.union([platformMessage, kfEvent, mpEvent, quarantined]);

export const inboundMessage = v.object({
  schema: v.literal(INBOUND_SCHEMA),
  app: v.pipe(v.string(), v.minLength(1)),
  channel: v.picklist(['kf', 'mp']),
  /**
   * Unique per message: kf msgid; for MP a stable id derived from MsgId, CreateTime and the sender (MsgIds of
   * different followers can collide), or from sender, time and event for MP events.
   */
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  /** MP messages: the MsgId as MP sent it. */
  mpMsgId: opt(v.pipe(v.string(), v.minLength(1))),
  /** The kf account (open_kfid) or the Official Account's original id (gh_…). */
  account: v.pipe(v.string(), v.minLength(1)),
  /** external_userid (kf) or openid (MP); absent for events that concern no customer. */
  customer: opt(v.pipe(v.string(), v.minLength(1))),
  /** kf origin 3 / MP user message → customer; kf origin 4 / MP event → event; kf origin 5 → servicer. */
  origin: v.picklist(['customer', 'event', 'servicer']),
  servicerUserId: opt(text),
  /** Unix seconds, as the platform stamped it. */
  sentAt: v.pipe(int, v.minValue(0)),
  /** ISO-8601 time kf-bridge received it. */
  receivedAt: v.pipe(v.string(), v.isoTimestamp()),
  /** Where kf-bridge archived the file of an image, voice, video or file message, when archiving is on. */
  media: opt(v.object({ bucket: text, key: text, contentType: text, bytes: int })),
  /**
   * Why a file archiving should have copied is not there: `expired` (past WeCom's 3 days), `unavailable` (WeCom
   * no longer has it), `timeout` (it could not be downloaded in the time a pull has), `too_large` (over WeCom's
   * limit for its type). `message.mediaId` still names it.
   */
  mediaNotArchived: opt(v.object({ reason: v.picklist(['expired', 'unavailable', 'timeout', 'too_large']) })),
  message: inboundMessageBody,
});

export type InboundMessage = v.InferOutput<typeof inboundMessage>;
export type InboundMessageBody = v.InferOutput<typeof inboundMessageBody>;

export function parseInboundMessage(value: unknown): InboundMessage {
  return validate(inboundMessage, value, 'inbound message');
}

/**
 * FIFO group: one customer's messages stay in order, different customers proceed in parallel.
 * kf: `app#open_kfid#external_userid`; MP (one account per app): `app#openid`.
 */
export function inboundMessageGroupId(message: InboundMessage): string {
  const customer = message.customer ?? '-';
  return message.channel === 'kf'
    ? `${message.app}#${message.account}#${customer}`
    : `${message.app}#${customer}`;
}

/** A message's inbound.fifo deduplication id: the same message, pulled or pushed again, is absorbed. */
export const inboundDeduplicationId = (message: InboundMessage) =>
  createHash('sha256').update(`${message.app}#${message.channel}#${message.id}`).digest('hex');

/** An inbound message as it goes on inbound.fifo: in its customer's group, with its deduplication id. */
export const inboundFifoMessage = (message: InboundMessage): FifoMessage => ({
  body: JSON.stringify(message),
  groupId: inboundMessageGroupId(message),
  deduplicationId: inboundDeduplicationId(message),
});
