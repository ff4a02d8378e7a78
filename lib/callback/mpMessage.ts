import { createHash } from 'node:crypto';
import {
  INBOUND_SCHEMA,
  type InboundMessage,
  type InboundMessageBody,
  parseInboundMessage,
} from '../contracts/inbound';
import { BadRequestError } from '../errors';
import { requiredText, textOf, type XmlElement } from '../xml';

const ENVELOPE = new Set([
  'ToUserName',
  'FromUserName',
  'CreateTime',
  'MsgType',
  'MsgId',
  'Event',
  'MsgDataId',
  'Idx',
]);
const WHAT = 'Official Account message';

function numberOf(xml: XmlElement, name: string): number | undefined {
  const value = textOf(xml, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new BadRequestError(`${WHAT} has a non-numeric <${name}>`);
  return parsed;
}

function requiredNumber(xml: XmlElement, name: string): number {
  const value = numberOf(xml, name);
  if (value === undefined) throw new BadRequestError(`${WHAT} has no <${name}>`);
  return value;
}

function mediaId(xml: XmlElement): string {
  return requiredText(xml, 'MediaId', WHAT);
}

function body(xml: XmlElement, msgType: string): InboundMessageBody {
  const optional = (name: string) => textOf(xml, name);
  switch (msgType) {
    case 'text':
      return { type: 'text', content: textOf(xml, 'Content') ?? '', menuId: optional('bizmsgmenuid') };
    case 'image':
      return { type: 'image', mediaId: optional('MediaId'), picUrl: optional('PicUrl') };
    case 'voice':
      return {
        type: 'voice',
        mediaId: mediaId(xml),
        format: optional('Format'),
        recognition: optional('Recognition'),
      };
    case 'video':
    case 'shortvideo':
      return { type: msgType, mediaId: mediaId(xml), thumbMediaId: optional('ThumbMediaId') };
    case 'location':
      return {
        type: 'location',
        latitude: requiredNumber(xml, 'Location_X'),
        longitude: requiredNumber(xml, 'Location_Y'),
        address: optional('Label'),
        scale: numberOf(xml, 'Scale'),
      };
    case 'link':
      return {
        type: 'link',
        title: textOf(xml, 'Title') ?? '',
        description: optional('Description'),
        url: requiredText(xml, 'Url', WHAT),
      };
    case 'event': {
      const fields = Object.fromEntries(Object.entries(xml).filter(([name]) => !ENVELOPE.has(name)));
      return { type: 'event', event: requiredText(xml, 'Event', WHAT), fields };
    }
    default:
      return { type: 'unknown', platformType: msgType, raw: xml };
  }
}

const stableId = (prefix: string, key: string) =>
  `${prefix}_${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;

/**
 * MP retries a push three times, so the id must be the same for each try and differ between messages. MsgIds of
 * different followers have been seen to collide (WxJava #333), so a message is keyed on MsgId + CreateTime +
 * FromUserName, as WxJava does; events carry no MsgId, and FromUserName + CreateTime + Event is the key WeChat
 * recommends for them.
 */
function messageId(
  xml: XmlElement,
  msgType: string,
  openid: string,
  createTime: string,
  msgId: string | undefined,
): string {
  if (msgId !== undefined) return stableId('msg', `${openid}#${createTime}#${msgId}`);
  if (msgType !== 'event') throw new BadRequestError(`${WHAT} has no <MsgId>`);
  return stableId(
    'event',
    `${openid}#${createTime}#${textOf(xml, 'Event') ?? ''}#${textOf(xml, 'EventKey') ?? ''}`,
  );
}

/** Normalises a decrypted MP push into the inbound message contract; throws BadRequestError or ContractError. */
export function normaliseMpMessage(xml: XmlElement, app: string, receivedAt: Date): InboundMessage {
  const msgType = requiredText(xml, 'MsgType', WHAT);
  const openid = requiredText(xml, 'FromUserName', WHAT);
  const createTime = requiredText(xml, 'CreateTime', WHAT);
  if (!/^\d+$/.test(createTime)) throw new BadRequestError(`${WHAT} has a non-numeric <CreateTime>`);
  const msgId = textOf(xml, 'MsgId');
  return parseInboundMessage({
    schema: INBOUND_SCHEMA,
    app,
    channel: 'mp',
    id: messageId(xml, msgType, openid, createTime, msgId),
    ...(msgId && { mpMsgId: msgId }),
    account: requiredText(xml, 'ToUserName', WHAT),
    customer: openid,
    origin: msgType === 'event' ? 'event' : 'customer',
    sentAt: Number(createTime),
    receivedAt: receivedAt.toISOString(),
    message: body(xml, msgType),
  });
}
