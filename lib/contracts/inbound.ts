import { z } from 'zod';
import { ContractError } from '../errors';

/**
 * The inbound message contract: what kf-bridge publishes to `inbound.fifo` for every customer message
 * and event, from WeCom kf (`kf/sync_msg`) and from Official Account callbacks alike. Field names are
 * camelCase; `message.type` is the platform's msgtype (lowercase). Bumping `schema` is a breaking change.
 */
export const INBOUND_SCHEMA = 'kf-bridge.inbound/v1';

const text = z.string();
const opt = <T extends z.ZodType>(schema: T) => schema.optional();
const mediaId = z.string().min(1);

const msgMenuItem = z.discriminatedUnion('type', [
  z.object({ type: z.literal('click'), click: z.object({ id: text, content: text }) }),
  z.object({ type: z.literal('view'), view: z.object({ url: text, content: text }) }),
  z.object({
    type: z.literal('miniprogram'),
    miniprogram: z.object({ appid: text, pagepath: text, content: text }),
  }),
  z.object({ type: z.literal('text'), text: z.object({ content: text, noNewline: opt(z.number().int()) }) }),
]);

const kfEvent = z.discriminatedUnion('event', [
  z.object({
    type: z.literal('event'),
    event: z.literal('enter_session'),
    scene: opt(text),
    sceneParam: opt(text),
    welcomeCode: opt(text),
    wechatChannels: opt(
      z.object({ nickname: opt(text), shopNickname: opt(text), scene: opt(z.number().int()) }),
    ),
  }),
  z.object({
    type: z.literal('event'),
    event: z.literal('msg_send_fail'),
    failMsgid: text,
    failType: z.number().int(),
  }),
  z.object({
    type: z.literal('event'),
    event: z.literal('servicer_status_change'),
    servicerUserId: text,
    status: z.number().int(),
    stopType: opt(z.number().int()),
  }),
  z.object({
    type: z.literal('event'),
    event: z.literal('session_status_change'),
    changeType: z.number().int(),
    oldServicerUserId: opt(text),
    newServicerUserId: opt(text),
    msgCode: opt(text),
  }),
  z.object({ type: z.literal('event'), event: z.literal('user_recall_msg'), recallMsgid: text }),
  z.object({
    type: z.literal('event'),
    event: z.literal('servicer_recall_msg'),
    recallMsgid: text,
    servicerUserId: opt(text),
  }),
  z.object({
    type: z.literal('event'),
    event: z.literal('reject_customer_msg_switch_change'),
    servicerUserId: opt(text),
    rejectSwitch: z.number().int(),
  }),
]);

/** Official Account events (subscribe, SCAN, CLICK, kf_create_session, …): the name as MP sends it, plus the fields the push carried. */
const mpEvent = z.object({
  type: z.literal('event'),
  event: z.string().min(1),
  fields: z.record(z.string(), z.unknown()),
});

const platformMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), content: text, menuId: opt(text) }),
  z.object({ type: z.literal('image'), mediaId: opt(mediaId), picUrl: opt(text) }),
  z.object({ type: z.literal('voice'), mediaId, format: opt(text), recognition: opt(text) }),
  z.object({ type: z.literal('video'), mediaId, thumbMediaId: opt(text) }),
  z.object({ type: z.literal('shortvideo'), mediaId, thumbMediaId: opt(text) }),
  z.object({ type: z.literal('file'), mediaId }),
  z.object({
    type: z.literal('location'),
    latitude: z.number(),
    longitude: z.number(),
    name: opt(text),
    address: opt(text),
    scale: opt(z.number()),
  }),
  z.object({ type: z.literal('link'), title: text, description: opt(text), url: text, picUrl: opt(text) }),
  z.object({ type: z.literal('business_card'), userId: text }),
  z.object({
    type: z.literal('miniprogram'),
    title: opt(text),
    appId: text,
    pagePath: text,
    thumbMediaId: opt(text),
  }),
  z.object({
    type: z.literal('msgmenu'),
    headContent: opt(text),
    list: z.array(msgMenuItem),
    tailContent: opt(text),
  }),
  z.object({
    type: z.literal('channels_shop_product'),
    productId: text,
    headImage: opt(text),
    title: opt(text),
    salesPrice: opt(z.union([text, z.number()])),
    shopNickname: opt(text),
    shopHeadImage: opt(text),
  }),
  z.object({
    type: z.literal('channels_shop_order'),
    orderId: text,
    productTitles: opt(text),
    priceWording: opt(text),
    state: opt(text),
    imageUrl: opt(text),
    shopNickname: opt(text),
  }),
  z.object({
    type: z.literal('merged_msg'),
    title: opt(text),
    items: z.array(
      z.object({ sendTime: z.number().int(), msgtype: text, senderName: opt(text), msgContent: opt(text) }),
    ),
  }),
  z.object({
    type: z.literal('channels'),
    subType: opt(z.number().int()),
    nickname: opt(text),
    title: opt(text),
  }),
  // Shapes WeCom has not published: carried as the platform sent them.
  z.object({ type: z.literal('meeting'), raw: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('schedule'), raw: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('note'), raw: z.record(z.string(), z.unknown()) }),
  // A msgtype this version does not know yet passes through untouched, flagged by its type.
  z.object({ type: z.literal('unknown'), platformType: text, raw: z.record(z.string(), z.unknown()) }),
]);

export const inboundMessageBody = z.union([platformMessage, kfEvent, mpEvent]);

export const inboundMessage = z.object({
  schema: z.literal(INBOUND_SCHEMA),
  app: z.string().min(1),
  channel: z.enum(['kf', 'mp']),
  /** Platform message id (kf msgid, MP MsgId), or a stable id derived from the event for MP events. */
  id: z.string().min(1).max(128),
  /** The kf account (open_kfid) or the Official Account's original id (gh_…). */
  account: z.string().min(1),
  /** external_userid (kf) or openid (MP); absent for events that concern no customer. */
  customer: opt(z.string().min(1)),
  /** kf origin 3 / MP user message → customer; kf origin 4 / MP event → event; kf origin 5 → servicer. */
  origin: z.enum(['customer', 'event', 'servicer']),
  servicerUserId: opt(text),
  /** Unix seconds, as the platform stamped it. */
  sentAt: z.number().int().nonnegative(),
  /** ISO-8601 time kf-bridge received it. */
  receivedAt: z.iso.datetime(),
  message: inboundMessageBody,
});

export type InboundMessage = z.infer<typeof inboundMessage>;
export type InboundMessageBody = z.infer<typeof inboundMessageBody>;

/** Validates at a boundary; the error lists each offending field by its path. */
export function parseInboundMessage(value: unknown): InboundMessage {
  const result = inboundMessage.safeParse(value);
  if (!result.success) throw new ContractError(`inbound message: ${describeIssues(result.error)}`);
  return result.data;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
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
