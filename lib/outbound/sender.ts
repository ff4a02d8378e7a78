import { createHash } from 'node:crypto';
import type { AppConfig, Config } from '../config/config';
import type { KfOutboundMessage, OutboundRequest } from '../contracts/outbound';
import { ContractError, KfBridgeError, PlatformError } from '../errors';
import type { Log } from '../logger';
import type { PlatformCall } from '../platform/client';
import { DUPLICATE_MSGID } from '../platform/errcodes';
import { type BudgetStore, budgetRefusal } from './budgets';
import type { ResolveMedia } from './mediaUpload';
import type { SendLedger, SendOutcome } from './sendLedger';

/**
 * The WeCom msgid for a request: derived from the request id, so a retry after a crash sends the same msgid
 * and WeCom refuses the repeat. At most 32 bytes of [0-9a-zA-Z_-].
 */
export function msgidFor(request: Pick<OutboundRequest, 'app' | 'requestId'>): string {
  return `kfb${createHash('sha256').update(`${request.app}#${request.requestId}`).digest('base64url').slice(0, 29)}`;
}

function menuBody(menu: Extract<KfOutboundMessage, { type: 'msgmenu' }>) {
  return {
    head_content: menu.headContent,
    list: menu.list.map((item) =>
      item.type === 'text'
        ? { type: 'text', text: { content: item.text.content, no_newline: item.text.noNewline } }
        : item,
    ),
    tail_content: menu.tailContent,
  };
}

/** The kf/send_msg body of a message, in WeCom's field names. */
export function sendMsgBody(
  message: Exclude<KfOutboundMessage, { type: 'event_reply' }>,
): Record<string, unknown> {
  switch (message.type) {
    case 'text':
      return { msgtype: 'text', text: { content: message.content } };
    case 'image':
    case 'voice':
    case 'video':
    case 'file':
      return { msgtype: message.type, [message.type]: { media_id: message.mediaId } };
    case 'link':
      return {
        msgtype: 'link',
        link: {
          title: message.title,
          desc: message.description,
          url: message.url,
          thumb_media_id: message.thumbMediaId,
        },
      };
    case 'miniprogram':
      return {
        msgtype: 'miniprogram',
        miniprogram: {
          appid: message.appId,
          title: message.title,
          thumb_media_id: message.thumbMediaId,
          pagepath: message.pagePath,
        },
      };
    case 'msgmenu':
      return { msgtype: 'msgmenu', msgmenu: menuBody(message) };
    case 'location':
      return {
        msgtype: 'location',
        location: {
          name: message.name,
          address: message.address,
          latitude: message.latitude,
          longitude: message.longitude,
        },
      };
    case 'ca_link':
      return { msgtype: 'ca_link', ca_link: { link_url: message.linkUrl } };
  }
}

/** A media message with its media_id resolved from a URL or S3 object when it came without one. */
async function withMediaId(
  message: Exclude<KfOutboundMessage, { type: 'event_reply' }>,
  app: AppConfig,
  deps: SenderDeps,
) {
  if (
    !(
      message.type === 'image' ||
      message.type === 'voice' ||
      message.type === 'video' ||
      message.type === 'file'
    ) ||
    message.mediaId
  )
    return message;
  if (!deps.resolveMedia) throw new ContractError('media by URL or S3 object is not available here');
  return { ...message, mediaId: await deps.resolveMedia(app, message, deps.signal) };
}

export interface SenderDeps {
  readonly config: Config;
  readonly call: PlatformCall;
  readonly ledger: SendLedger;
  readonly budgets: BudgetStore;
  /** Turns a media URL or S3 object into a media_id; without it such requests fail as bad requests. */
  readonly resolveMedia?: ResolveMedia;
  readonly now: () => number;
  readonly log: Log;
  readonly signal?: AbortSignal;
}

/**
 * Sends one request once. A request already in the ledger is not sent again; WeCom refusing a repeated msgid
 * means an earlier attempt got through. A reply the customer's budget does not allow (48 h window, 5 replies
 * per customer message, a servicer's or an ended session) is rejected without calling WeCom. Refusals a retry cannot change (95001, 95002, 95018, bad parameters)
 * are recorded as failed and not retried; transient errors throw, for SQS to retry after a back-off.
 */
export async function sendRequest(request: OutboundRequest, deps: SenderDeps): Promise<SendOutcome> {
  const app = deps.config.apps.get(request.app);
  if (!app?.wecom)
    throw new ContractError(`outbound request for app '${request.app}', which has no WeCom settings`);
  const done = await deps.ledger.read(request.app, request.requestId);
  if (done && done.status !== 'queued') return done;
  const msgid = msgidFor(request);
  const message = request.message;
  let outcome: SendOutcome;
  // Replies on event codes have rules of their own (the code's validity); every other reply spends the budget.
  if (message.type !== 'event_reply') {
    const refusal = budgetRefusal(
      await deps.budgets.read(request.app, request.openKfId, request.externalUserId),
      deps.now(),
    );
    if (refusal) {
      outcome = { status: 'rejected', msgid, reason: refusal, at: deps.now() };
      await deps.ledger.record(request.app, request.requestId, outcome);
      deps.log.info('outbound request rejected before sending', {
        app: request.app,
        requestId: request.requestId,
        reason: refusal,
      });
      return outcome;
    }
  }
  await deps.ledger.indexMsgid(request.app, msgid, request.requestId, deps.now());
  try {
    if (message.type === 'event_reply') {
      const reply =
        message.message.type === 'text'
          ? { msgtype: 'text', text: { content: message.message.content } }
          : { msgtype: 'msgmenu', msgmenu: menuBody(message.message) };
      await deps.call(app, 'wecom', {
        path: '/cgi-bin/kf/send_msg_on_event',
        body: { code: message.code, msgid, ...reply },
        ...(deps.signal && { signal: deps.signal }),
      });
    } else {
      const resolved = await withMediaId(message, app, deps);
      await deps.call(app, 'wecom', {
        path: '/cgi-bin/kf/send_msg',
        body: {
          touser: request.externalUserId,
          open_kfid: request.openKfId,
          msgid,
          ...sendMsgBody(resolved),
        },
        ...(deps.signal && { signal: deps.signal }),
      });
    }
    outcome = { status: 'sent', msgid, at: deps.now() };
    if (message.type !== 'event_reply')
      await deps.budgets.spend(request.app, request.openKfId, request.externalUserId);
  } catch (error) {
    // A refusal a retry cannot change (WeCom's, or a media URL that does not resolve) is the request's outcome.
    if (!(error instanceof KfBridgeError) || error.retryable) throw error;
    outcome =
      error instanceof PlatformError && error.errcode === DUPLICATE_MSGID
        ? { status: 'sent', msgid, at: deps.now() }
        : {
            status: 'failed',
            msgid,
            ...(error.errcode !== undefined && { errcode: error.errcode }),
            reason: error.message,
            at: deps.now(),
          };
  }
  await deps.ledger.record(request.app, request.requestId, outcome);
  deps.log.info('outbound request done', {
    app: request.app,
    requestId: request.requestId,
    status: outcome.status,
    errcode: outcome.errcode,
  });
  return outcome;
}
