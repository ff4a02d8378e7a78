import { createHash } from 'node:crypto';
import { type BudgetStore, budgetChanges } from '../budgets';
import type { AppConfig, Config, MpAppConfig, WecomAppConfig } from '../config/config';
import { inboundFifoMessage } from '../contracts/inbound';
import { parseSyncJob, syncJobGroupId } from '../contracts/syncJob';
import { assertSignature, type CallbackCipher, decrypt, signature } from '../crypto/wxBizMsgCrypt';
import { BadRequestError, MethodNotAllowedError, NotFoundError, UnauthorizedError } from '../errors';
import type { Log } from '../logger';
import type { Publish } from '../queue/publisher';
import { parseWechatXml, requiredText, textOf } from '../xml';
import { normaliseMpMessage } from './mpMessage';

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
  readonly now: () => Date;
  readonly log: Log;
}

/** WeCom and MP treat any 200 as received; `success` is the answer both document for "no passive reply". */
const ACCEPTED: CallbackResponse = { status: 200, body: 'success' };

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

function param(request: CallbackRequest, name: string): string {
  const value = request.query[name];
  if (value === undefined || value === '') throw new UnauthorizedError(`missing query parameter ${name}`);
  return value;
}

function checkTimestamp(timestamp: string, deps: CallbackDeps): void {
  if (!/^\d{1,12}$/.test(timestamp)) throw new UnauthorizedError('timestamp is not a number of seconds');
  const skew = deps.config.callbackMaxClockSkewSeconds;
  if (skew > 0 && Math.abs(deps.now().getTime() / 1000 - Number(timestamp)) > skew) {
    throw new UnauthorizedError('timestamp is outside the allowed clock skew');
  }
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
  return request.query.signature !== undefined
    ? handleMp(request, mpOf(app), deps)
    : handleWecom(request, wecomOf(app), deps);
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
  checkTimestamp(timestamp, deps);

  if (request.method === 'GET') {
    const echostr = request.query.echostr;
    if (!echostr) throw new BadRequestError('missing query parameter echostr');
    assertSignature(signature(cipher.token, timestamp, nonce, echostr), msgSignature, 'msg_signature');
    // WeCom accepts only the bare plaintext: no quotes, no BOM, no newline.
    return { status: 200, body: decrypt(cipher, echostr) };
  }

  const envelope = parseWechatXml(request.body, 'callback body');
  const encrypted = requiredText(envelope, 'Encrypt', 'callback body');
  assertSignature(signature(cipher.token, timestamp, nonce, encrypted), msgSignature, 'msg_signature');
  const event = parseWechatXml(decrypt(cipher, encrypted), 'decrypted message');
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
    receivedAt: deps.now().toISOString(),
  });
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
  assertSignature(signature(mp.token, timestamp, nonce), param(request, 'signature'), 'signature');
  checkTimestamp(timestamp, deps);

  if (request.method === 'GET') {
    const echostr = request.query.echostr;
    if (!echostr) throw new BadRequestError('missing query parameter echostr');
    return { status: 200, body: echostr };
  }

  let message = parseWechatXml(request.body, 'callback body');
  if (request.query.encrypt_type === 'aes') {
    if (!mp.aesKey)
      throw new BadRequestError('safe mode push but MP_ENCODING_AES_KEY is not set for this app');
    const cipher: CallbackCipher = { token: mp.token, receiveId: mp.appId, aesKey: mp.aesKey };
    const encrypted = requiredText(message, 'Encrypt', 'callback body');
    assertSignature(
      signature(mp.token, timestamp, nonce, encrypted),
      param(request, 'msg_signature'),
      'msg_signature',
    );
    message = parseWechatXml(decrypt(cipher, encrypted), 'decrypted message');
  }
  deps.log.debug('mp callback received', { app: request.app, message });

  const inbound = normaliseMpMessage(message, request.app, deps.now());
  // Before publishing, so a consumer answering the message finds the budget already open.
  for (const change of budgetChanges([inbound])) await deps.budgets.apply(change);
  // The id keys on MsgId, CreateTime and sender: MP's retries of a push collapse, followers' equal MsgIds do not.
  await deps.publish(deps.config.queues.inboundUrl, inboundFifoMessage(inbound), request.signal);
  deps.log.info('inbound message enqueued', { app: inbound.app, channel: 'mp', type: inbound.message.type });
  return ACCEPTED;
}
