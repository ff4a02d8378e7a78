import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import {
  allowance,
  type Budget,
  type BudgetStore,
  budgetKeyOf,
  budgetRefusal,
  SESSION_OF_SERVICE_STATE,
  type SessionState,
  typingRefusal,
} from '../budgets';
import type { AppConfig, Config } from '../config/config';
import { type OutboundRequest, parseOutboundRequest, type SendStatus } from '../contracts/outbound';
import { ContractError, KfBridgeError, UncertainOutcomeError } from '../errors';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { CALL_TIMEOUT_MS, type PlatformCall, type PlatformRequest } from '../platform/client';
import { lookupErrcode } from '../platform/errcodes';
import { NotTriedError } from '../queue/fifoConsumer';
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
    return deps.resolveMedia(app, platform, file, deps.signal, deps.log);
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
  readonly meter: Meter;
  readonly signal?: AbortSignal;
  /**
   * The time the invocation has left, in ms (Lambda's `getRemainingTimeInMillis`). Without it, only each call's
   * own time limit bounds a request.
   */
  readonly remainingMs?: () => number;
  /** The queue will not deliver this request again: a transient failure is its outcome. */
  readonly lastDelivery?: boolean;
}

/** Kept at the end of an invocation to record outcomes and release the records not finished. */
const RECORDING_MS = 2_000;
/** The least time a call is given: with less left, a request is not begun, nor its send made. */
const MIN_CALL_MS = 2_000;

/** The invocation's time as one signal for every call a request makes, ending while outcomes can still be recorded. */
function withDeadline(deps: SenderDeps): { timed: SenderDeps; timeLeft: () => number } {
  const timeLeft = () => (deps.remainingMs ? deps.remainingMs() - RECORDING_MS : Number.POSITIVE_INFINITY);
  if (!deps.remainingMs) return { timed: deps, timeLeft };
  const deadline = AbortSignal.timeout(Math.max(0, timeLeft()));
  return {
    timed: { ...deps, signal: deps.signal ? AbortSignal.any([deps.signal, deadline]) : deadline },
    timeLeft,
  };
}

/** The platform call a request makes, its files uploaded first. */
async function platformCall(
  request: OutboundRequest,
  app: AppConfig,
  msgid: string,
  deps: SenderDeps,
): Promise<PlatformRequest> {
  const signal = deps.signal && { signal: deps.signal };
  const delivery = { delivers: true, ...signal };
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
      ...delivery,
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
      ...delivery,
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
    ...delivery,
  };
}

const errcodeOf = (error: unknown) => (error instanceof KfBridgeError ? error.errcode : undefined);

/**
 * One outbound.fifo record: parsed, then sent. Its last attempt, or the queue's last delivery (receives run ahead
 * of attempts while a request waits behind a failing one), settles even a transient failure.
 */
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
    lastDelivery: receives >= deps.config.outboundMaxReceives,
  });
}

interface BudgetVerdict {
  readonly refusal?: string;
  readonly spends?: 'event' | 'message';
}

/**
 * The customer's kf session as WeCom has it now (service_state/get), recorded for the replies that follow. The
 * state kf-bridge keeps is its reading of WeCom's events, and not every change is sure to come as one: before a
 * reply is dropped on that reading, WeCom is asked.
 */
async function confirmedSession(
  request: OutboundRequest,
  app: AppConfig,
  deps: SenderDeps,
): Promise<SessionState> {
  if (request.channel !== 'kf') throw new Error('only kf sessions have a state');
  const answer = await deps.call(app, 'wecom', {
    path: '/cgi-bin/kf/service_state/get',
    body: { open_kfid: request.openKfId, external_userid: request.externalUserId },
    ...(deps.signal && { signal: deps.signal }),
    log: deps.log,
  });
  const state = SESSION_OF_SERVICE_STATE[Number(answer.service_state)] ?? 'open';
  await deps.budgets.apply({ ...budgetKeyOf(request), session: { state, at: deps.now() } });
  return state;
}

/** What the customer's budget (`read`, none for a reply on an event code) says of a reply: why it is not allowed, or what it spends; typing spends nothing. */
async function budgetVerdict(
  request: OutboundRequest,
  app: AppConfig,
  deps: SenderDeps,
  read: Promise<Budget> | undefined,
): Promise<BudgetVerdict> {
  if (!read) return {};
  let budget = await read;
  const now = deps.now();
  if (request.message.type === 'typing') {
    const refusal = typingRefusal(budget, now);
    return refusal ? { refusal } : {};
  }
  if (budget.session && budget.session !== 'open')
    budget = { ...budget, session: await confirmedSession(request, app, deps) };
  const refusal = budgetRefusal(budget, now);
  return refusal ? { refusal } : { spends: allowance(budget, now) };
}

const MAY_HAVE_ARRIVED = 'so it may or may not have reached the customer';
const NOT_AGAIN = 'not sent again, to avoid a duplicate';

/**
 * Sends one request once. A request already in the ledger is not sent again. A reply the customer's budget does
 * not allow (48 h window, 5 replies per customer message, MP's 3 per event, a kf session WeCom confirms is
 * queued, with a servicer or ended, typing without a message in the last 30 s) is rejected without sending.
 * Refusals a retry cannot change (95001, 95002, 95018, 45015, bad parameters) are recorded as failed; transient
 * errors throw, for SQS to retry after a back-off.
 *
 * An attempt is noted before the platform is called, and the note cleared when the platform answers that it did
 * not carry the send out. A note found by a later attempt means an earlier one may have reached the customer:
 * MP has no key to refuse a repeat, so the request is recorded uncertain without calling MP again; a kf retry
 * sends the same msgid, which WeCom accepts only if the earlier attempt did not get through, and anything but
 * that acceptance leaves the request uncertain (WeCom refuses a repeated msgid with a code it does not publish).
 * For the same reason a refusal in a code WeCom does not publish, of a msgid WeCom has seen before, is uncertain.
 *
 * Every call ends while the invocation can still record the outcome (`remainingMs`); a request is begun, and
 * its send made, only with time left for a call, else it is released untried (NotTriedError). Transient errors
 * throw for a retry until the request's last attempt, counted in the ledger, or the queue's last delivery.
 */
export async function sendRequest(request: OutboundRequest, deps: SenderDeps): Promise<SendOutcome> {
  const app = deps.config.apps.get(request.app);
  if (!app || !(request.channel === 'kf' ? app.wecom : app.mp))
    throw new ContractError(
      `outbound request for app '${request.app}', which has no ${request.channel === 'kf' ? 'WeCom' : 'Official Account'} settings`,
    );
  const { outcome: done, attemptedAt } = await deps.ledger.state(request.app, request.requestId);
  if (done && done.status !== 'queued') return done;
  const kf = request.channel === 'kf';
  const msgid = kf ? msgidFor(request) : undefined;
  const settle = async (outcome: SendOutcome) => {
    const recorded = await deps.ledger.record(request.app, request.requestId, outcome);
    // Another delivery of the same request recorded what it learned first: that outcome stands.
    const standing = recorded
      ? outcome
      : ((await deps.ledger.read(request.app, request.requestId)) ?? outcome);
    if (recorded)
      deps.meter.record('Replies', 1, { app: request.app, channel: request.channel, status: outcome.status });
    deps.log.info('outbound request done', {
      app: request.app,
      requestId: request.requestId,
      status: standing.status,
      errcode: standing.errcode,
      reason: standing.reason,
    });
    return standing;
  };
  const outcome = (status: SendStatus, reason: string, errcode?: number): SendOutcome => ({
    status,
    ...(msgid && { msgid }),
    ...(errcode !== undefined && { errcode }),
    reason,
    at: deps.now(),
  });
  const earlierUnknown = (reason: string, errcode?: number) =>
    settle(
      outcome('uncertain', `an earlier attempt got no clear answer, ${MAY_HAVE_ARRIVED}; ${reason}`, errcode),
    );
  if (!kf && attemptedAt !== undefined) return earlierUnknown(NOT_AGAIN);

  /** What is known of earlier attempts: one may have got through (unknown); WeCom has seen the msgid (presented). */
  let earlier = { unknown: false, presented: false };
  /** This attempt's own note, cleared when the platform surely did not carry the send out. */
  let noted = false;
  /** The request's attempts, this one included, once the ledger has counted it. */
  let attempts = 0;
  /** This attempt began its work: it was not released untried. */
  let began = false;
  /** The send itself was made: only it can have reached the customer. */
  let sending = false;
  const { timed, timeLeft } = withDeadline(deps);
  const ensureTimeTo = (what: string, needs = MIN_CALL_MS) => {
    if (timeLeft() < needs)
      throw new NotTriedError(
        `too little time left in this invocation to ${what}; released for another delivery`,
      );
  };
  /** Not sent by this attempt; after an earlier attempt that may have got through, that is all that can be said. */
  const unsent = (status: 'rejected' | 'failed', reason: string, errcode?: number) =>
    earlier.unknown ||
    (earlier.presented && errcode !== undefined && !lookupErrcode('wecom', errcode)?.verified)
      ? earlierUnknown(`this one: ${reason}`, errcode)
      : settle(outcome(status, reason, errcode));

  let verdict: BudgetVerdict;
  try {
    ensureTimeTo('begin');
    began = true;
    // Replies on event codes have rules of their own (the code's validity), and no budget. The budget does not
    // depend on the msgid index: both are asked for at once, one round trip before the send instead of two.
    const budget =
      request.message.type === 'event_reply' ? undefined : deps.budgets.read(budgetKeyOf(request));
    // Awaited by the verdict; should the index fail first, its error is the one that counts.
    budget?.catch(() => {});
    // The msgid index maps a later msg_send_fail back to the request and notes the kf attempt. Written first, so
    // whatever ends this attempt knows whether an earlier one may have got through.
    if (msgid) {
      ({ attempts, ...earlier } = await deps.ledger.indexMsgid(
        request.app,
        msgid,
        request.requestId,
        deps.now(),
      ));
      noted = !earlier.unknown;
    }
    verdict = await budgetVerdict(request, app, timed, budget);
    if (!verdict.refusal) {
      const call = await platformCall(request, app, msgid ?? '', timed);
      // Files take time: the send waits for a delivery with time for its whole limit rather than be cut short,
      // since a send our own deadline cuts off is one whose fate is unknown.
      ensureTimeTo('send', CALL_TIMEOUT_MS);
      if (!kf) {
        // One write claims the attempt: of two deliveries racing, only the first calls MP.
        const note = await deps.ledger.noteAttempt(request.app, request.requestId, deps.now());
        if (note.earlier) return earlierUnknown(NOT_AGAIN);
        attempts = note.attempts;
        noted = true;
      }
      sending = true;
      await deps.call(app, kf ? 'wecom' : 'mp', { ...call, log: deps.log });
    }
  } catch (error) {
    // A refusal a retry cannot change (the platform's, or a media URL that does not resolve) is the outcome.
    if (error instanceof KfBridgeError && !error.retryable)
      return unsent('failed', error.message, error.errcode);
    // Only the send can have reached the customer: a file upload or a read that got no answer did not.
    const unanswered = sending && error instanceof UncertainOutcomeError;
    if (unanswered && !kf)
      return settle(outcome('uncertain', `${error.message}, ${MAY_HAVE_ARRIVED}; ${NOT_AGAIN}`));
    // The platform answered that it did not carry the send out: a retry cannot make a duplicate.
    if (!unanswered && noted)
      await (msgid
        ? deps.ledger.clearMsgidAttempt(request.app, msgid)
        : deps.ledger.clearAttempt(request.app, request.requestId));
    // An MP attempt that failed before its note (its files, its budget) is counted now; one released untried is not.
    if (began && attempts === 0 && !kf)
      attempts = await deps.ledger.countAttempt(request.app, request.requestId);
    if (deps.lastDelivery || attempts >= deps.config.outboundMaxAttempts) {
      const gaveUp = deps.lastDelivery
        ? 'gave up after the last retry'
        : `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
      const reason = `${gaveUp}: ${(error as Error).message}`;
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
