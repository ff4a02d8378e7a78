import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { AppConfig, Config } from '../config/config';
import { type OutboundRequest, parseOutboundRequest, type SendStatus } from '../contracts/outbound';
import { ContractError, KfBridgeError, UncertainOutcomeError } from '../errors';
import type { Log } from '../logger';
import type { PlatformCall, PlatformRequest } from '../platform/client';
import { allowance, type BudgetStore, budgetKeyOf, budgetRefusal, typingRefusal } from './budgets';
import type { MediaFile, ResolveMedia } from './mediaUpload';
import { type KfSendable, kfMenuBody, kfSendBody, type MpSendable, mpSendBody } from './messageBodies';
import type { SendLedger, SendOutcome } from './sendLedger';

/**
 * The WeCom msgid for a request: derived from the request id, so a retry after a crash sends the same msgid
 * and WeCom refuses the repeat. At most 32 bytes of [0-9a-zA-Z_-].
 */
export function msgidFor(request: Pick<OutboundRequest, 'app' | 'requestId'>): string {
  return `kfb${createHash('sha256').update(`${request.app}#${request.requestId}`).digest('base64url').slice(0, 29)}`;
}

const MEDIA_TYPES = new Set(['image', 'voice', 'video', 'file']);

/** Replaces files given as URLs or S3 objects by their media_ids; the resolver uploads each file once. */
async function withMediaIds<T extends KfSendable | MpSendable>(
  message: T,
  request: OutboundRequest,
  app: AppConfig,
  deps: SenderDeps,
): Promise<T> {
  const platform = request.channel === 'kf' ? 'wecom' : 'mp';
  const resolve = async (file: MediaFile) => {
    if (file.mediaId || (!file.url && !file.s3)) return file.mediaId;
    if (!deps.resolveMedia) throw new ContractError('media by URL or S3 object is not available here');
    return deps.resolveMedia(app, platform, file, deps.signal);
  };
  const resolved: Record<string, unknown> = { ...message };
  // A link's `url` is where it points, not a file: only media messages carry a file of their own.
  if (MEDIA_TYPES.has(message.type)) {
    resolved.mediaId = await resolve(message as MediaFile);
    delete resolved.url;
    delete resolved.s3;
  }
  const thumb = message as { thumbUrl?: string; thumbS3?: { bucket: string; key: string } };
  if (thumb.thumbUrl || thumb.thumbS3) {
    // WeCom takes thumbnails as images; MP has a `thumb` media type of its own.
    resolved.thumbMediaId = await resolve({
      type: platform === 'wecom' ? 'image' : 'thumb',
      ...(thumb.thumbUrl && { url: thumb.thumbUrl }),
      ...(thumb.thumbS3 && { s3: thumb.thumbS3 }),
    });
    delete resolved.thumbUrl;
    delete resolved.thumbS3;
  }
  return resolved as T;
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
  /** The queue will not deliver this request again: a transient failure is its outcome. */
  readonly finalAttempt?: boolean;
}

/** The platform call a request makes, its files uploaded first. */
async function platformCall(
  request: OutboundRequest,
  app: AppConfig,
  msgid: string,
  deps: SenderDeps,
): Promise<PlatformRequest> {
  const signal = deps.signal && { signal: deps.signal };
  if (request.channel === 'mp') {
    const message = request.message;
    if (message.type === 'typing')
      return {
        path: '/cgi-bin/message/custom/typing',
        body: { touser: request.openid, command: message.command ?? 'Typing' },
        ...signal,
      };
    return {
      path: '/cgi-bin/message/custom/send',
      body: {
        touser: request.openid,
        ...mpSendBody(await withMediaIds(message, request, app, deps)),
        ...(request.kfAccount && { customservice: { kf_account: request.kfAccount } }),
      },
      ...signal,
    };
  }
  const message = request.message;
  if (message.type === 'event_reply') {
    const reply =
      message.message.type === 'text'
        ? { msgtype: 'text', text: { content: message.message.content } }
        : { msgtype: 'msgmenu', msgmenu: kfMenuBody(message.message) };
    return {
      path: '/cgi-bin/kf/send_msg_on_event',
      body: { code: message.code, msgid, ...reply },
      ...signal,
    };
  }
  return {
    path: '/cgi-bin/kf/send_msg',
    body: {
      touser: request.externalUserId,
      open_kfid: request.openKfId,
      msgid,
      ...kfSendBody(await withMediaIds(message, request, app, deps)),
    },
    ...signal,
  };
}

const errcodeOf = (error: unknown) => (error instanceof KfBridgeError ? error.errcode : undefined);

/** One outbound.fifo record: parsed, then sent; the queue's last delivery settles even a transient failure. */
export async function sendRecord(record: SQSRecord, deps: SenderDeps): Promise<SendOutcome> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new ContractError('outbound request is not JSON');
  }
  const receives = Number(record.attributes.ApproximateReceiveCount ?? 1);
  return sendRequest(parseOutboundRequest(body), {
    ...deps,
    finalAttempt: receives >= deps.config.outboundMaxReceives,
  });
}

interface BudgetVerdict {
  readonly refusal?: string;
  readonly spends?: 'event' | 'message';
}

/** What the customer's budget says of a reply: why it is not allowed, or what it spends. */
async function budgetVerdict(request: OutboundRequest, deps: SenderDeps): Promise<BudgetVerdict> {
  // Replies on event codes have rules of their own (the code's validity); typing spends nothing.
  if (request.message.type === 'event_reply') return {};
  const budget = await deps.budgets.read(budgetKeyOf(request));
  const now = deps.now();
  const refusal = request.message.type === 'typing' ? typingRefusal(budget, now) : budgetRefusal(budget, now);
  if (refusal) return { refusal };
  return request.message.type === 'typing' ? {} : { spends: allowance(budget, now) };
}

const MAY_HAVE_ARRIVED = 'so it may or may not have reached the customer';
const NOT_AGAIN = 'not sent again, to avoid a duplicate';

/**
 * Sends one request once. A request already in the ledger is not sent again. A reply the customer's budget does
 * not allow (48 h window, 5 replies per customer message, MP's 3 per event, a servicer's or an ended kf session,
 * typing without a message in the last 30 s) is rejected without calling the platform. Refusals a retry cannot
 * change (95001, 95002, 95018, 45015, bad parameters) are recorded as failed; transient errors throw, for SQS to
 * retry after a back-off.
 *
 * An attempt is noted before the platform is called, and the note cleared when the platform answers that it did
 * not carry the send out. A note found by a later attempt means an earlier one may have reached the customer:
 * MP has no key to refuse a repeat, so the request is recorded uncertain without calling MP again; a kf retry
 * sends the same msgid, which WeCom accepts only if the earlier attempt did not get through, and anything but
 * that acceptance leaves the request uncertain (WeCom refuses a repeated msgid with a code it does not publish).
 */
export async function sendRequest(request: OutboundRequest, deps: SenderDeps): Promise<SendOutcome> {
  const app = deps.config.apps.get(request.app);
  if (!(request.channel === 'kf' ? app?.wecom : app?.mp))
    throw new ContractError(
      `outbound request for app '${request.app}', which has no ${request.channel === 'kf' ? 'WeCom' : 'Official Account'} settings`,
    );
  const settings = app as AppConfig;
  const { outcome: done, attemptedAt } = await deps.ledger.state(request.app, request.requestId);
  if (done && done.status !== 'queued') return done;
  const kf = request.channel === 'kf';
  const msgid = kf ? msgidFor(request) : undefined;
  const settle = async (outcome: SendOutcome) => {
    await deps.ledger.record(request.app, request.requestId, outcome);
    deps.log.info('outbound request done', {
      app: request.app,
      requestId: request.requestId,
      status: outcome.status,
      errcode: outcome.errcode,
      reason: outcome.reason,
    });
    return outcome;
  };
  const outcome = (status: SendStatus, reason: string, errcode?: number): SendOutcome => ({
    status,
    ...(msgid && { msgid }),
    ...(errcode !== undefined && { errcode }),
    reason,
    at: deps.now(),
  });
  if (!kf && attemptedAt !== undefined)
    return settle(
      outcome('uncertain', `an earlier attempt got no clear answer, ${MAY_HAVE_ARRIVED}; ${NOT_AGAIN}`),
    );
  // The msgid index maps a later msg_send_fail back to the request and notes the kf attempt. Written first, so
  // whatever ends this attempt knows whether an earlier one may have got through.
  const attemptedBefore = msgid
    ? await deps.ledger.indexMsgid(request.app, msgid, request.requestId, deps.now())
    : false;
  /** This attempt's own note, cleared when the platform surely did not carry the send out. */
  let noted = kf && !attemptedBefore;
  const clearNote = () =>
    msgid
      ? deps.ledger.clearMsgidAttempt(request.app, msgid)
      : deps.ledger.noteAttempt(request.app, request.requestId, undefined);
  /** Not sent by this attempt: after an earlier attempt of unknown outcome, that is all that can be said. */
  const unsent = (status: 'rejected' | 'failed', reason: string, errcode?: number) =>
    settle(
      attemptedBefore
        ? outcome(
            'uncertain',
            `an earlier attempt got no clear answer, ${MAY_HAVE_ARRIVED}; this one: ${reason}`,
            errcode,
          )
        : outcome(status, reason, errcode),
    );

  let verdict: BudgetVerdict;
  try {
    verdict = await budgetVerdict(request, deps);
    if (!verdict.refusal) {
      const call = await platformCall(request, settings, msgid ?? '', deps);
      if (!kf) {
        await deps.ledger.noteAttempt(request.app, request.requestId, deps.now());
        noted = true;
      }
      await deps.call(settings, kf ? 'wecom' : 'mp', call);
    }
  } catch (error) {
    // A refusal a retry cannot change (the platform's, or a media URL that does not resolve) is the outcome.
    if (error instanceof KfBridgeError && !error.retryable)
      return unsent('failed', error.message, error.errcode);
    const unanswered = error instanceof UncertainOutcomeError;
    if (unanswered && !kf)
      return settle(outcome('uncertain', `${error.message}, ${MAY_HAVE_ARRIVED}; ${NOT_AGAIN}`));
    // The platform answered that it did not carry the send out: a retry cannot make a duplicate.
    if (!unanswered && noted) await clearNote();
    if (deps.finalAttempt) {
      const reason = `gave up after the last retry: ${(error as Error).message}`;
      return unanswered
        ? settle(outcome('uncertain', `${reason}, ${MAY_HAVE_ARRIVED}`, errcodeOf(error)))
        : unsent('failed', reason, errcodeOf(error));
    }
    throw error;
  }
  if (verdict.refusal) return unsent('rejected', verdict.refusal);
  // Recorded before the budget is spent: a failure in between leaves the budget one reply generous (the
  // platform then refuses), never the customer with a reply sent twice.
  const sent = await settle({ status: 'sent', ...(msgid && { msgid }), at: deps.now() });
  if (verdict.spends) await deps.budgets.spend(budgetKeyOf(request), verdict.spends);
  return sent;
}
