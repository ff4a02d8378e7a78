import { randomBytes } from 'node:crypto';
import type { CallbackRequest } from '../../lib/callback/handleCallback';
import { parseConfig } from '../../lib/config/config';
import {
  type CallbackCipher,
  decodeEncodingAesKey,
  encrypt,
  signature,
} from '../../lib/crypto/wxBizMsgCrypt';

/** Test settings: the WeCom app uses the reference's derived kf vector credentials. */
export const testEnv = {
  SYNC_JOBS_QUEUE_URL: 'http://127.0.0.1:1/000000000000/sync-jobs.fifo',
  INBOUND_QUEUE_URL: 'http://127.0.0.1:1/000000000000/inbound.fifo',
  OUTBOUND_QUEUE_URL: 'http://127.0.0.1:1/000000000000/outbound.fifo',
  STATE_TABLE: 'kf-bridge-local-state',
  WECOM_CORP_ID: 'wx5823bf96d3bd56c7',
  WECOM_KF_SECRET: 'kf-secret-never-logged',
  WECOM_CALLBACK_TOKEN: 'QDG6eK',
  WECOM_ENCODING_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  MP_APP_ID: 'wxb11529c136998cb6',
  MP_APP_SECRET: 'mp-secret-never-logged',
  MP_TOKEN: 'pamtest',
  MP_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};

export const testConfig = (overrides: Record<string, string> = {}) =>
  parseConfig({ ...testEnv, ...overrides });

export const wecomCipher: CallbackCipher = {
  token: testEnv.WECOM_CALLBACK_TOKEN,
  receiveId: testEnv.WECOM_CORP_ID,
  aesKey: decodeEncodingAesKey(testEnv.WECOM_ENCODING_AES_KEY),
};

export const mpCipher: CallbackCipher = {
  token: testEnv.MP_TOKEN,
  receiveId: testEnv.MP_APP_ID,
  aesKey: decodeEncodingAesKey(testEnv.MP_ENCODING_AES_KEY),
};

const nowSeconds = () => String(Math.floor(Date.now() / 1000));
const nonce = () => String(randomBytes(4).readUInt32BE());

export function kfEventXml(openKfId: string, token: string, corpId = testEnv.WECOM_CORP_ID): string {
  return `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><CreateTime>${nowSeconds()}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[${token}]]></Token><OpenKfId><![CDATA[${openKfId}]]></OpenKfId></xml>`;
}

/** A WeCom POST exactly as WeCom sends it: encrypted, signed, wrapped in the envelope XML. */
export function wecomPost(
  plain: string,
  options: { app?: string; timestamp?: string; cipher?: CallbackCipher } = {},
): CallbackRequest {
  const cipher = options.cipher ?? wecomCipher;
  const timestamp = options.timestamp ?? nowSeconds();
  const n = nonce();
  const encrypted = encrypt(cipher, plain);
  return {
    method: 'POST',
    app: options.app ?? 'default',
    query: { msg_signature: signature(cipher.token, timestamp, n, encrypted), timestamp, nonce: n },
    body: `<xml><ToUserName><![CDATA[${cipher.receiveId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>`,
  };
}

export function wecomVerify(echo: string, cipher = wecomCipher): CallbackRequest {
  const timestamp = nowSeconds();
  const n = nonce();
  const echostr = encrypt(cipher, echo);
  return {
    method: 'GET',
    app: 'default',
    query: { msg_signature: signature(cipher.token, timestamp, n, echostr), timestamp, nonce: n, echostr },
    body: '',
  };
}

export function mpTextXml(openid: string, content: string, msgId: string): string {
  return `<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName><CreateTime>${nowSeconds()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId></xml>`;
}

/** An MP push in plaintext mode, or in safe mode when `safe` is set. */
export function mpPost(
  plain: string,
  options: { safe?: boolean; cipher?: CallbackCipher } = {},
): CallbackRequest {
  const cipher = options.cipher ?? mpCipher;
  const timestamp = nowSeconds();
  const n = nonce();
  const query: Record<string, string> = {
    signature: signature(cipher.token, timestamp, n),
    timestamp,
    nonce: n,
  };
  if (!options.safe) return { method: 'POST', app: 'default', query, body: plain };
  const encrypted = encrypt(cipher, plain);
  return {
    method: 'POST',
    app: 'default',
    query: { ...query, encrypt_type: 'aes', msg_signature: signature(cipher.token, timestamp, n, encrypted) },
    body: `<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
  };
}

export function mpVerify(echostr: string, cipher = mpCipher): CallbackRequest {
  const timestamp = nowSeconds();
  const n = nonce();
  return {
    method: 'GET',
    app: 'default',
    query: { signature: signature(cipher.token, timestamp, n), timestamp, nonce: n, echostr },
    body: '',
  };
}
