import { createHash } from 'node:crypto';
import { type BudgetStore, budgetChanges } from '../budgets';
import {
  type AppConfig,
  type Config,
  type MpAppConfig,
  settingName,
  type WecomAppConfig,
} from '../config/config';
import { inboundFifoMessage } from '../contracts/inbound';
import { parseSyncJob, syncJobGroupId } from '../contracts/syncJob';
import { assertSignature, type CallbackCipher, decrypt, signature } from '../crypto/wxBizMsgCrypt';
import {
  BadRequestError,
  KfBridgeError,
  MethodNotAllowedError,
  NotFoundError,
  UnauthorizedError,
} from '../errors';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import type { Publish } from '../queue/publisher';
import type { Platform } from '../tokens/platformToken';
import { parseWechatXml, requiredText, textOf, type XmlElement } from '../xml';
import { normaliseMpMessage } from './mpMessage';
import type { Push, ReplayGuard } from './replayGuard';

export interface CallbackRequest {
  readonly method: string;
  readonly app: string;
  /** URL-decoded query parameters. */
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** Aborts outbound calls when the Lambda is about to time out. */
  readonly signal?: AbortSignal;
}

export interface CallbackResponse {
  readonly status: number;
  readonly body: string;
}

export interface CallbackDeps {
  readonly config: Config;
  readonly publish: Publish;
  /** MP messages arrive only here, so this is where a follower's reply budget learns of them. */
  readonly budgets: Pick<BudgetStore, 'apply'>;
  /**
   * MP pushes seen across every container: a replayed timestamp, nonce and signature never does work twice. A
   * plaintext push's signature does not cover its body, and an MP push is the message itself, not a pull.
   */
  readonly replays: ReplayGuard;
  readonly now: () => Date;
  readonly log: Log;
  /** Counts refused pushes: MP drops a message after 3 refused tries, and has no pull to recover it. */
  readonly meter: Meter;
}

/**
 * Why a push for a known app was refused: a wrong token (signature), a clock or a stale push (timestamp), a
 * signature used with another body (replay), a wrong AES key or app id (decrypt), a body the app's MP message
 * mode does not take (mode), or anything else unreadable (malformed).
 */
export type CallbackRejection = 'signature' | 'timestamp' | 'replay' | 'decrypt' | 'mode' | 'malformed';

const rejections = new WeakMap<object, CallbackRejection>();

/** The error, named as a refusal for `reason`; refusals not named are `malformed`. */
function rejected(reason: CallbackRejection, error: unknown): unknown {
  if (error instanceof Error && !rejections.has(error)) rejections.set(error, reason);
  return error;
}

/** Runs a check, naming the refusal it throws. */
function because<T>(reason: CallbackRejection, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw rejected(reason, error);
  }
}

/** Handles a push, counting it if refused: one line, and only then, so a push taken costs no metric. */
async function counted(
  platform: Platform,
  deps: CallbackDeps,
  handle: () => Promise<CallbackResponse>,
): Promise<CallbackResponse> {
  try {
    return await handle();
  } catch (error) {
    // A 5xx is a failure of ours the platform retries; a 4xx refuses the push for good.
    if (error instanceof KfBridgeError && error.status < 500)
      deps.meter.record('CallbackRejections', 1, { platform, reason: rejections.get(error) ?? 'malformed' });
    throw error;
  }
}

/** WeCom and MP treat any 200 as received; `success` is the answer both document for "no passive reply". */
const ACCEPTED: CallbackResponse = { status: 200, body: 'success' };

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

function param(request: CallbackRequest, name: string): string {
  const value = request.query[name];
  if (value === undefined || value === '') throw new UnauthorizedError(`missing query parameter ${name}`);
  return value;
}

/** How far a timestamp may be behind our clock (`past`) and ahead of it (`ahead`), in seconds. */
interface TimestampWindow {
  readonly past: number;
  readonly ahead: number;
}

/**
 * Nothing records a WeCom push: a replay of one is dropped by SQS FIFO's deduplication of its sync job, which
 * lasts 5 minutes from the first send. A push is taken only while that holds: at most 240 s old and 60 s ahead
 * of our clock (within CALLBACK_MAX_CLOCK_SKEW_SECONDS), so accepting it ends before its job's deduplication
 * does, whichever clock is ahead. WeCom pushes within seconds; one refused is pulled with the next.
 */
const WECOM_PUSH_WINDOW: TimestampWindow = { past: 240, ahead: 60 };

function checkTimestamp(timestamp: string, deps: CallbackDeps, cap?: TimestampWindow): void {
  if (!/^\d{1,12}$/.test(timestamp)) throw new UnauthorizedError('timestamp is not a number of seconds');
  const skew = deps.config.callbackMaxClockSkewSeconds;
  if (skew === 0) return;
  const behind = deps.now().getTime() / 1000 - Number(timestamp);
  if (behind > Math.min(skew, cap?.past ?? skew) || -behind > Math.min(skew, cap?.ahead ?? skew))
    throw new UnauthorizedError('timestamp is outside the allowed clock skew');
}

/** The last second the timestamp check accepts a push's timestamp, after which its record may go. */
function replayWindowEnd(timestamp: string, deps: CallbackDeps): number {
  const skew = deps.config.callbackMaxClockSkewSeconds;
  // The check is off only on the local stage: a day is long enough for anything run there.
  if (skew === 0) return Math.floor(deps.now().getTime() / 1000) + 86_400;
  return Number(timestamp) + skew + 1;
}

/**
 * Does a verified push's work once. The push is claimed first, so another body on its timestamp, nonce and
 * signature is refused (401) before any work, and recorded done only after the work, so a push that failed
 * (503) is done again when the platform retries it. A crash between the work and the record makes the retry
 * do it again: the message goes out with the same deduplication id, which SQS FIFO drops for 5 minutes (MP
 * re-sends a push it has no answer to within 5 s; WeCom does not publish its interval), and its budget change
 * counts a message id once.
 */
async function once(push: Push, deps: CallbackDeps, work: () => Promise<void>): Promise<CallbackResponse> {
  const claim = await deps.replays
    .claim(push, replayWindowEnd(push.timestamp, deps))
    .catch((error: unknown) => {
      throw rejected('replay', error);
    });
  if (claim === 'processed') {
    deps.log.info('callback repeated: already done', { app: push.app });
    return ACCEPTED;
  }
  if (claim === 'unfinished')
    deps.log.info('callback repeated before it was done: doing it again', { app: push.app });
  await work();
  await deps.replays.processed(push);
  return ACCEPTED;
}

/** Entry point for `/callback/{app}`: routes to WeCom or MP by the signature parameters WeChat sends. */
export async function handleCallback(
  request: CallbackRequest,
  deps: CallbackDeps,
): Promise<CallbackResponse> {
  if (request.method !== 'GET' && request.method !== 'POST')
    throw new MethodNotAllowedError('use GET or POST');
  const app = deps.config.apps.get(request.app);
  if (!app) throw new NotFoundError(`unknown app '${request.app}'`);
  // MP always signs with `signature`; WeCom only ever sends `msg_signature`.
  if (request.query.signature !== undefined) {
    const mp = mpOf(app);
    return counted('mp', deps, () => handleMp(request, mp, deps));
  }
  const wecom = wecomOf(app);
  return counted('wecom', deps, () => handleWecom(request, wecom, deps));
}

function wecomOf(app: AppConfig): WecomAppConfig {
  if (!app.wecom) throw new NotFoundError(`app '${app.name}' has no WeCom settings`);
  return app.wecom;
}

function mpOf(app: AppConfig): MpAppConfig {
  if (!app.mp) throw new NotFoundError(`app '${app.name}' has no Official Account settings`);
  return app.mp;
}

async function handleWecom(
  request: CallbackRequest,
  wecom: WecomAppConfig,
  deps: CallbackDeps,
): Promise<CallbackResponse> {
  const cipher: CallbackCipher = {
    token: wecom.callbackToken,
    receiveId: wecom.corpId,
    aesKey: wecom.aesKey,
  };
  const msgSignature = param(request, 'msg_signature');
  const timestamp = param(request, 'timestamp');
  const nonce = param(request, 'nonce');
  // Verifying the URL changes nothing, so only a push is held to the narrower window.
  because('timestamp', () =>
    checkTimestamp(timestamp, deps, request.method === 'POST' ? WECOM_PUSH_WINDOW : undefined),
  );

  if (request.method === 'GET') {
    const echostr = request.query.echostr;
    if (!echostr) throw new BadRequestError('missing query parameter echostr');
    because('signature', () =>
      assertSignature(signature(cipher.token, timestamp, nonce, echostr), msgSignature, 'msg_signature'),
    );
    // WeCom accepts only the bare plaintext: no quotes, no BOM, no newline.
    return { status: 200, body: because('decrypt', () => decrypt(cipher, echostr)) };
  }

  const envelope = parseWechatXml(request.body, 'callback body');
  const encrypted = requiredText(envelope, 'Encrypt', 'callback body');
  because('signature', () =>
    assertSignature(signature(cipher.token, timestamp, nonce, encrypted), msgSignature, 'msg_signature'),
  );
  const event = parseWechatXml(
    because('decrypt', () => decrypt(cipher, encrypted)),
    'decrypted message',
  );
  deps.log.debug('wecom callback decrypted', { app: request.app, event });

  const msgType = textOf(event, 'MsgType');
  const eventName = textOf(event, 'Event');
  if (msgType !== 'event' || eventName !== 'kf_msg_or_event') {
    deps.log.info('wecom callback ignored: not a kf message notice', {
      app: request.app,
      msgType,
      event: eventName,
    });
    return ACCEPTED;
  }

  const job = parseSyncJob({
    schema: 'kf-bridge.sync-job/v1',
    app: request.app,
    openKfId: requiredText(event, 'OpenKfId', 'kf_msg_or_event'),
    token: requiredText(event, 'Token', 'kf_msg_or_event'),
    // The Token lives 10 minutes from when WeCom pushed it, which a late push's signed timestamp tells.
    receivedAt: new Date(Math.min(deps.now().getTime(), Number(timestamp) * 1000)).toISOString(),
  });
  // No replay record: msg_signature covers the ciphertext, so another body on a used triple already failed the
  // signature check above, and the same body again (WeCom's retry, or a replay inside WECOM_PUSH_WINDOW) is the
  // same job, which SQS FIFO drops; and were one to get through, it is a pull from the stored cursor, which
  // brings nothing twice.
  // WeCom retries a callback it thinks failed with the same Token; one Token is one job.
  await deps.publish(
    deps.config.queues.syncJobsUrl,
    {
      body: JSON.stringify(job),
      groupId: syncJobGroupId(job),
      deduplicationId: sha256(`${job.app}#${job.openKfId}#${job.token}`),
    },
    request.signal,
  );
  deps.log.info('sync job enqueued', { app: job.app, openKfId: job.openKfId });
  return ACCEPTED;
}

async function handleMp(
  request: CallbackRequest,
  mp: MpAppConfig,
  deps: CallbackDeps,
): Promise<CallbackResponse> {
  const timestamp = param(request, 'timestamp');
  const nonce = param(request, 'nonce');
  const mpSignature = param(request, 'signature');
  because('signature', () =>
    assertSignature(signature(mp.token, timestamp, nonce), mpSignature, 'signature'),
  );
  because('timestamp', () => checkTimestamp(timestamp, deps));

  if (request.method === 'GET') {
    const echostr = request.query.echostr;
    if (!echostr) throw new BadRequestError('missing query parameter echostr');
    return { status: 200, body: echostr };
  }

  const { message, signedBy, signed } = mpMessage(request, mp, timestamp, nonce);
  deps.log.debug('mp callback received', { app: request.app, message });
  const inbound = normaliseMpMessage(message, request.app, deps.now());
  // An encrypted push is its ciphertext, which msg_signature covers: a retry MP encrypts afresh is a push of its
  // own (the queue's deduplication on MsgId absorbs it). A plaintext push is the body on a signature that does
  // not cover it: another body on that signature is refused.
  const push = {
    app: request.app,
    timestamp,
    nonce,
    signature: signedBy.toLowerCase(),
    body: signed,
    ...(request.signal && { signal: request.signal }),
  };
  return once(push, deps, async () => {
    // Before publishing, so a consumer answering the message finds the budget already open.
    for (const change of budgetChanges([inbound])) await deps.budgets.apply(change);
    // The id keys on MsgId, CreateTime and sender: MP's retries of a push collapse, followers' equal MsgIds do not.
    await deps.publish(deps.config.queues.inboundUrl, inboundFifoMessage(inbound), request.signal);
    deps.log.info('inbound message enqueued', {
      app: inbound.app,
      channel: 'mp',
      type: inbound.message.type,
    });
  });
}

/** What a safe-mode body holds: the account's original id and the ciphertext. */
const SAFE_MODE_ENVELOPE = new Set(['ToUserName', 'Encrypt']);

/**
 * The message an MP push carries, as the app's mode allows. MP's `signature` covers only token, timestamp and
 * nonce, so a plaintext body is taken only in plaintext mode; safe and compatible mode take the ciphertext,
 * which `msg_signature` covers (compatible mode's plaintext copy is ignored).
 */
function mpMessage(
  request: CallbackRequest,
  mp: MpAppConfig,
  timestamp: string,
  nonce: string,
): { message: XmlElement; signedBy: string; signed: string } {
  const mode = settingName(request.app, 'MP_MESSAGE_MODE');
  const encrypted = request.query.encrypt_type === 'aes';
  if (!encrypted && mp.messageMode !== 'plaintext')
    throw rejected(
      'mode',
      new UnauthorizedError(
        `plaintext push refused: the app takes ${mp.messageMode}-mode pushes only (${mode})`,
      ),
    );
  const body = parseWechatXml(request.body, 'callback body');
  if (!encrypted) return { message: body, signedBy: param(request, 'signature'), signed: request.body };
  if (!mp.aesKey)
    throw rejected(
      'mode',
      new BadRequestError(`safe-mode push but ${settingName(request.app, 'MP_ENCODING_AES_KEY')} is not set`),
    );
  const ciphertext = requiredText(body, 'Encrypt', 'callback body');
  const msgSignature = param(request, 'msg_signature');
  because('signature', () =>
    assertSignature(signature(mp.token, timestamp, nonce, ciphertext), msgSignature, 'msg_signature'),
  );
  if (mp.messageMode === 'safe' && Object.keys(body).some((name) => !SAFE_MODE_ENVELOPE.has(name)))
    throw rejected(
      'mode',
      new BadRequestError(
        `compatible-mode push refused: the body carries plaintext beside <Encrypt> (${mode} is safe)`,
      ),
    );
  const cipher: CallbackCipher = { token: mp.token, receiveId: mp.appId, aesKey: mp.aesKey };
  const message = parseWechatXml(
    because('decrypt', () => decrypt(cipher, ciphertext)),
    'decrypted message',
  );
  return { message, signedBy: msgSignature, signed: ciphertext };
}
