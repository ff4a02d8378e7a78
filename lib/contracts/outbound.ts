import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { APP_NAME } from '../config/config';
import { ContractError } from '../errors';
import type { FifoMessage } from '../queue/publisher';
import { SQS_MAX_MESSAGE_BYTES, sqsBody } from '../queue/sqsBody';
import { given, httpsUrl, httpUrl, mediaId, s3Object, text } from './fields';
import { type CheckRules, exactlyOneOf } from './jsonSchema';
import { validate } from './validate';

/**
 * The outbound request contract: what a company's systems (and kf-bridge itself, for welcome and closing
 * messages) put on `outbound.fifo` to reach a customer. `requestId` is the caller's idempotency key: one
 * request id is sent at most once, whatever is retried.
 */
export const OUTBOUND_SCHEMA = 'kf-bridge.outbound/v1';

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

/**
 * A file: a media_id already uploaded, or an https URL or S3 object kf-bridge uploads (and caches). The main file
 * of a message is `mediaId` | `url` | `s3`; a thumbnail is `thumbMediaId` | `thumbUrl` | `thumbS3`.
 */
const mediaSource = { mediaId: v.optional(mediaId), url: v.optional(httpsUrl), s3: v.optional(s3Object) };
const thumbSource = {
  thumbMediaId: v.optional(mediaId),
  thumbUrl: v.optional(httpsUrl),
  thumbS3: v.optional(s3Object),
};
const oneMedia = (m: { mediaId?: string; url?: string; s3?: object }) => given(m.mediaId, m.url, m.s3) === 1;
export const ONE_MEDIA = 'exactly one of mediaId, url or s3';
const thumbs = (m: { thumbMediaId?: string; thumbUrl?: string; thumbS3?: object }) =>
  given(m.thumbMediaId, m.thumbUrl, m.thumbS3);
export const ONE_THUMB = 'exactly one of thumbMediaId, thumbUrl or thumbS3';
export const AT_MOST_ONE_THUMB = 'at most one of thumbMediaId, thumbUrl or thumbS3';

const mediaMessage = <T extends string>(type: T) =>
  v.pipe(
    v.object({ type: v.literal(type), ...mediaSource }),
    v.check((m) => oneMedia(m), ONE_MEDIA),
  );

const msgmenu = v.object({
  type: v.literal('msgmenu'),
  headContent: v.optional(text(1024)),
  list: v.pipe(v.array(menuItem), v.maxLength(10)),
  tailContent: v.optional(text(1024)),
});
/**
 * The most UTF-8 bytes a text message may carry: WeCom kf publishes 2048; MP publishes no limit, and 2048 is what
 * a developer measured (reference §12.2, unverified), so kf-bridge holds MP text to it as well.
 */
export const TEXT_MAX_BYTES = 2048;
const kfText = v.object({ type: v.literal('text'), content: text(TEXT_MAX_BYTES) });

export const kfOutboundMessage = v.variant('type', [
  kfText,
  mediaMessage('image'),
  mediaMessage('voice'),
  mediaMessage('video'),
  mediaMessage('file'),
  // WeCom truncates title and description to their limits; kf-bridge passes them on as given.
  v.pipe(
    v.object({
      type: v.literal('link'),
      title: v.pipe(v.string(), v.minLength(1)),
      description: v.optional(v.string()),
      url: httpUrl,
      ...thumbSource,
    }),
    v.check((m) => thumbs(m) === 1, ONE_THUMB),
  ),
  v.pipe(
    v.object({
      type: v.literal('miniprogram'),
      appId: text(64),
      title: v.optional(v.string()),
      pagePath: text(1024),
      ...thumbSource,
    }),
    v.check((m) => thumbs(m) === 1, ONE_THUMB),
  ),
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
    linkUrl: httpsUrl,
  }),
  // A reply on a code from an event (welcome, queue, assignment or closing message): kf/send_msg_on_event.
  v.object({
    type: v.literal('event_reply'),
    code: text(512),
    message: v.variant('type', [kfText, msgmenu]),
  }),
]);

/** Official Account customer-service messages (`message/custom/send`) and the typing indicator. */
export const mpOutboundMessage = v.variant('type', [
  v.object({ type: v.literal('text'), content: text(TEXT_MAX_BYTES) }),
  mediaMessage('image'),
  mediaMessage('voice'),
  v.pipe(
    v.object({
      type: v.literal('video'),
      ...mediaSource,
      ...thumbSource,
      title: v.optional(v.string()),
      description: v.optional(v.string()),
    }),
    v.check((m) => oneMedia(m), ONE_MEDIA),
    v.check((m) => thumbs(m) <= 1, AT_MOST_ONE_THUMB),
  ),
  v.pipe(
    v.object({
      type: v.literal('music'),
      title: v.optional(v.string()),
      description: v.optional(v.string()),
      musicUrl: httpUrl,
      hqMusicUrl: v.optional(httpUrl),
      ...thumbSource,
    }),
    v.check((m) => thumbs(m) === 1, ONE_THUMB),
  ),
  v.object({
    type: v.literal('news'),
    // MP sends one article per news message since October 2018 (45008 otherwise).
    articles: v.pipe(
      v.array(
        v.object({
          title: text(512),
          description: v.optional(v.string()),
          url: httpUrl,
          picUrl: v.optional(httpUrl),
        }),
      ),
      v.length(1, 'exactly one article'),
    ),
  }),
  v.object({ type: v.literal('mpnews'), mediaId }),
  v.object({ type: v.literal('mpnewsarticle'), articleId: text(128) }),
  v.object({
    type: v.literal('msgmenu'),
    headContent: v.optional(text(1024)),
    list: v.pipe(v.array(v.object({ id: text(64), content: text(1024) })), v.minLength(1), v.maxLength(10)),
    tailContent: v.optional(text(1024)),
  }),
  v.object({ type: v.literal('wxcard'), cardId: text(128) }),
  v.pipe(
    v.object({
      type: v.literal('miniprogrampage'),
      appId: text(64),
      title: v.optional(v.string()),
      pagePath: text(1024),
      ...thumbSource,
    }),
    v.check((m) => thumbs(m) === 1, ONE_THUMB),
  ),
  // "Typing…" for 15 s, or its cancellation; it spends no reply.
  v.object({ type: v.literal('typing'), command: v.optional(v.picklist(['Typing', 'CancelTyping'])) }),
]);

/** The caller's idempotency key; a DynamoDB sort key (at most 1024 bytes), well inside it. */
export const outboundRequestId = v.pipe(
  v.string(),
  v.regex(/^[\w.:-]{1,128}$/, '1-128 letters, digits or _ . : -'),
);
/** An app as configured (KF_BRIDGE_APPS): no other can be sent for. */
const app = v.pipe(v.string(), v.regex(APP_NAME, "1-32 lowercase letters, digits or '-'"));

const requestFields = { schema: v.literal(OUTBOUND_SCHEMA), requestId: outboundRequestId, app };

/**
 * SQS takes a message group id of at most 128 letters, digits and ASCII punctuation, and refuses anything else.
 * WeChat's ids as its docs show them (open_kfid `wk…` and external_userid `wm…` of 32 characters, openid of 28)
 * use letters, digits, `_` and `-`: they fit.
 */
const SQS_GROUP_ID_MAX = 128;
const ONLY_SQS_CHARACTERS = 'letters, digits and ASCII punctuation only';
const recipientId = v.pipe(v.string(), v.minLength(1), v.regex(/^[\x21-\x7e]+$/, ONLY_SQS_CHARACTERS));
const KF_GROUP_ID_LENGTH = 'with app and openKfId, over the 128 characters of a message group id';
const MP_GROUP_ID_LENGTH = 'with app, over the 128 characters of a message group id';
const fitsGroupId = (...parts: string[]) => parts.join('#').length <= SQS_GROUP_ID_MAX;

export const outboundRequest = v.variant('channel', [
  v.pipe(
    v.object({
      ...requestFields,
      channel: v.literal('kf'),
      openKfId: recipientId,
      externalUserId: recipientId,
      message: kfOutboundMessage,
    }),
    v.forward(
      v.check((r) => fitsGroupId(r.app, r.openKfId, r.externalUserId), KF_GROUP_ID_LENGTH),
      ['externalUserId'],
    ),
  ),
  v.pipe(
    v.object({
      ...requestFields,
      channel: v.literal('mp'),
      openid: recipientId,
      /** Sends as this customer-service account (`prefix@account`), which then shows in chat records. */
      kfAccount: v.optional(v.pipe(v.string(), v.regex(/^[\w-]{1,10}@[\w-]{1,32}$/, 'prefix@account'))),
      message: mpOutboundMessage,
    }),
    v.forward(
      v.check((r) => fitsGroupId(r.app, r.openid), MP_GROUP_ID_LENGTH),
      ['openid'],
    ),
  ),
]);

export type OutboundRequest = v.InferOutput<typeof outboundRequest>;
export type KfOutboundRequest = Extract<OutboundRequest, { channel: 'kf' }>;
export type MpOutboundRequest = Extract<OutboundRequest, { channel: 'mp' }>;
export type KfOutboundMessage = v.InferOutput<typeof kfOutboundMessage>;
export type MpOutboundMessage = v.InferOutput<typeof mpOutboundMessage>;

const MEDIA_FIELDS = ['mediaId', 'url', 's3'];
const [THUMB_ID, THUMB_URL, THUMB_S3] = ['thumbMediaId', 'thumbUrl', 'thumbS3'] as const;

/** The contract's own checks in JSON Schema, for the published schema and OpenAPI. */
export const OUTBOUND_RULES: CheckRules = {
  // JSON Schema cannot add up lengths: the limit is stated for callers, kf-bridge checks it.
  [KF_GROUP_ID_LENGTH]: { description: 'app#openKfId#externalUserId is at most 128 characters' },
  [MP_GROUP_ID_LENGTH]: { description: 'app#openid is at most 128 characters' },
  [ONE_MEDIA]: exactlyOneOf(MEDIA_FIELDS),
  [ONE_THUMB]: exactlyOneOf([THUMB_ID, THUMB_URL, THUMB_S3]),
  [AT_MOST_ONE_THUMB]: {
    not: {
      anyOf: [
        { required: [THUMB_ID, THUMB_URL] },
        { required: [THUMB_ID, THUMB_S3] },
        { required: [THUMB_URL, THUMB_S3] },
      ],
    },
  },
};

export function parseOutboundRequest(value: unknown): OutboundRequest {
  return validate(outboundRequest, value, 'outbound request');
}

/** `GET /v1/messages/{requestId}?app=`: the same keys, so a status query never reaches DynamoDB malformed. */
const statusQuery = v.object({ requestId: outboundRequestId, app });

export function parseStatusQuery(value: unknown): v.InferOutput<typeof statusQuery> {
  return validate(statusQuery, value, 'status query');
}

/**
 * SQS refuses a message over 256 KiB (outbound.fifo keeps the default MaximumMessageSize). Bodies go out with
 * every non-ASCII character escaped as \uXXXX, 6 bytes each, so that no character can be refused.
 */
const TOO_LARGE_FOR_SQS = 'the request is over the 256 KiB SQS takes, once its non-ASCII text is escaped';

/** Refuses a request that could not be put on outbound.fifo, naming its message (ids and keys are bounded). */
export function checkQueueable(request: OutboundRequest): void {
  if (sqsBody(JSON.stringify(request)).length > SQS_MAX_MESSAGE_BYTES)
    throw new ContractError(`outbound request: message: ${TOO_LARGE_FOR_SQS}`, {
      issues: [{ path: 'message', message: TOO_LARGE_FOR_SQS }],
    });
}

/** One customer's replies stay in order: kf `app#open_kfid#external_userid`, MP `app#openid`. */
export const outboundGroupId = (request: OutboundRequest) =>
  request.channel === 'kf'
    ? `${request.app}#${request.openKfId}#${request.externalUserId}`
    : `${request.app}#${request.openid}`;

/** A request as it goes on outbound.fifo: in its customer's group, deduplicated by its request id. */
export function outboundFifoMessage(request: OutboundRequest): FifoMessage {
  return {
    body: JSON.stringify(request),
    groupId: outboundGroupId(request),
    deduplicationId: createHash('sha256').update(`${request.app}#${request.requestId}`).digest('hex'),
  };
}

/**
 * What became of a request, as `GET /v1/messages/{requestId}` answers it. queued: accepted, not sent yet; sent:
 * the platform accepted it; rejected: kf-bridge refused it before calling the platform (the customer's budget);
 * failed: the platform refused it, or it could not be sent (a retry cannot help, or the retries ran out);
 * uncertain: an attempt got no clear answer, so it may or may not have reached the customer; never sent again.
 */
export const SEND_STATUSES = ['queued', 'sent', 'rejected', 'failed', 'uncertain'] as const;
export type SendStatus = (typeof SEND_STATUSES)[number];
