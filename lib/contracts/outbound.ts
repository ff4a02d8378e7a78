import * as v from 'valibot';
import { validate } from './validate';

/**
 * The outbound request contract: what a company's systems (and kf-bridge itself, for welcome and closing
 * messages) put on `outbound.fifo` to reach a customer. `requestId` is the caller's idempotency key: one
 * request id is sent at most once, whatever is retried.
 */
export const OUTBOUND_SCHEMA = 'kf-bridge.outbound/v1';

const bytes = (max: number) =>
  v.check((s: string) => Buffer.byteLength(s, 'utf8') <= max, `at most ${max} bytes`);
const text = (max: number) => v.pipe(v.string(), v.minLength(1), bytes(max));
const mediaId = v.pipe(v.string(), v.minLength(1), bytes(128));
const httpUrl = v.pipe(v.string(), v.regex(/^https?:\/\//, 'an http(s) URL'), bytes(2048));

const menuItem = v.variant('type', [
  v.object({ type: v.literal('click'), click: v.object({ id: v.optional(text(64)), content: text(128) }) }),
  v.object({ type: v.literal('view'), view: v.object({ url: httpUrl, content: text(1024) }) }),
  v.object({
    type: v.literal('miniprogram'),
    miniprogram: v.object({ appid: text(64), pagepath: text(1024), content: text(1024) }),
  }),
  v.object({
    type: v.literal('text'),
    text: v.object({ content: text(256), noNewline: v.optional(v.picklist([0, 1])) }),
  }),
]);

/** A file for WeCom: a media_id already uploaded, or an https URL or S3 object kf-bridge uploads (and caches). */
const mediaSource = {
  mediaId: v.optional(mediaId),
  url: v.optional(v.pipe(v.string(), v.regex(/^https:\/\//, 'an https URL'), bytes(2048))),
  s3: v.optional(v.object({ bucket: text(63), key: text(1024) })),
};
const mediaMessage = <T extends 'image' | 'voice' | 'video' | 'file'>(type: T) =>
  v.pipe(
    v.object({ type: v.literal(type), ...mediaSource }),
    v.check(
      (m) => [m.mediaId, m.url, m.s3].filter((source) => source !== undefined).length === 1,
      'exactly one of mediaId, url or s3',
    ),
  );

const msgmenu = v.object({
  type: v.literal('msgmenu'),
  headContent: v.optional(text(1024)),
  list: v.pipe(v.array(menuItem), v.maxLength(10)),
  tailContent: v.optional(text(1024)),
});
const kfText = v.object({ type: v.literal('text'), content: text(2048) });

export const kfOutboundMessage = v.variant('type', [
  kfText,
  mediaMessage('image'),
  mediaMessage('voice'),
  mediaMessage('video'),
  mediaMessage('file'),
  // WeCom truncates title and description to their limits; kf-bridge passes them on as given.
  v.object({
    type: v.literal('link'),
    title: v.pipe(v.string(), v.minLength(1)),
    description: v.optional(v.string()),
    url: httpUrl,
    thumbMediaId: mediaId,
  }),
  v.object({
    type: v.literal('miniprogram'),
    appId: text(64),
    title: v.optional(v.string()),
    thumbMediaId: mediaId,
    pagePath: text(1024),
  }),
  msgmenu,
  v.object({
    type: v.literal('location'),
    latitude: v.pipe(v.number(), v.minValue(-90), v.maxValue(90)),
    longitude: v.pipe(v.number(), v.minValue(-180), v.maxValue(180)),
    name: v.optional(v.string()),
    address: v.optional(v.string()),
  }),
  v.object({
    type: v.literal('ca_link'),
    linkUrl: v.pipe(v.string(), v.regex(/^https:\/\//, 'an https URL')),
  }),
  // A reply on a code from an event (welcome, queue, assignment or closing message): kf/send_msg_on_event.
  v.object({
    type: v.literal('event_reply'),
    code: text(512),
    message: v.variant('type', [kfText, msgmenu]),
  }),
]);

export const outboundRequest = v.object({
  schema: v.literal(OUTBOUND_SCHEMA),
  requestId: v.pipe(v.string(), v.regex(/^[\w.:-]{1,128}$/, '1-128 letters, digits or _ . : -')),
  app: v.pipe(v.string(), v.minLength(1)),
  channel: v.literal('kf'),
  openKfId: v.pipe(v.string(), v.minLength(1)),
  externalUserId: v.pipe(v.string(), v.minLength(1)),
  message: kfOutboundMessage,
});

export type OutboundRequest = v.InferOutput<typeof outboundRequest>;
export type KfOutboundMessage = v.InferOutput<typeof kfOutboundMessage>;

export function parseOutboundRequest(value: unknown): OutboundRequest {
  return validate(outboundRequest, value, 'outbound request');
}

/** One customer's replies stay in order: `app#open_kfid#external_userid`. */
export const outboundGroupId = (request: OutboundRequest) =>
  `${request.app}#${request.openKfId}#${request.externalUserId}`;
