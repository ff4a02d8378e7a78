import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEncodingAesKey, encrypt, signature } from '../lib/crypto/wxBizMsgCrypt';
import { callbackHttpEvent } from '../local/callbackEvent';
import { ROOT, readServiceDefinition } from '../local/serviceDefinition';

/**
 * Writes events/*.json: API Gateway (HTTP API, payload 2.0) events signed and encrypted with the local demo
 * app's settings from serverless.yml, for `serverless invoke local`. Run `npm run events` after changing them.
 */
const { localParams: p } = await readServiceDefinition();
const setting = (name: string) => {
  const value = p[name];
  if (!value) throw new Error(`serverless.yml params.local.${name} is not set`);
  return value;
};
const wecom = {
  token: setting('WECOM_CALLBACK_TOKEN'),
  receiveId: setting('WECOM_CORP_ID'),
  aesKey: decodeEncodingAesKey(setting('WECOM_ENCODING_AES_KEY')),
};
const mp = {
  token: setting('MP_TOKEN'),
  receiveId: setting('MP_APP_ID'),
  aesKey: decodeEncodingAesKey(setting('MP_ENCODING_AES_KEY')),
};
const timestamp = '1763683200';
const nonce = '1597212914';
// Two pushes never share a timestamp and nonce: the callback refuses a second body on one (a replay).
const plaintextNonce = '1597212915';
const random = Buffer.from('kfbridgeexample0');

const httpApiEvent = (method: 'GET' | 'POST', query: Record<string, string>, body = '') =>
  callbackHttpEvent({ method, app: 'default', query, body }, { timeEpoch: Number(timestamp) * 1000 });

const echostr = encrypt(wecom, '4751219183615370571', random);
const kfEvent = encrypt(
  wecom,
  `<xml><ToUserName><![CDATA[${wecom.receiveId}]]></ToUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR]]></Token><OpenKfId><![CDATA[wkDemoAccount01]]></OpenKfId></xml>`,
  random,
);
const mpText = `<xml><ToUserName><![CDATA[gh_kfbridgedemo]]></ToUserName><FromUserName><![CDATA[oDemoCustomer0001]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好，我想咨询一下订单]]></Content><MsgId>24000000000000001</MsgId></xml>`;
const mpEncrypted = encrypt(mp, mpText, random);

export const events: Record<string, unknown> = {
  'token-refresh-schedule.json': {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date(Number(timestamp) * 1000).toISOString(),
    region: 'ap-southeast-1',
    resources: ['arn:aws:events:ap-southeast-1:123456789012:rule/kf-bridge-prod-tokenRefresh'],
    detail: {},
  },
  'callback-wecom-verify.json': httpApiEvent('GET', {
    msg_signature: signature(wecom.token, timestamp, nonce, echostr),
    timestamp,
    nonce,
    echostr,
  }),
  'callback-wecom-kf-event.json': httpApiEvent(
    'POST',
    { msg_signature: signature(wecom.token, timestamp, nonce, kfEvent), timestamp, nonce },
    `<xml><ToUserName><![CDATA[${wecom.receiveId}]]></ToUserName><Encrypt><![CDATA[${kfEvent}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>`,
  ),
  'callback-mp-verify.json': httpApiEvent('GET', {
    signature: signature(mp.token, timestamp, nonce),
    timestamp,
    nonce,
    echostr: '7311486929380215537',
  }),
  'callback-mp-text.json': httpApiEvent(
    'POST',
    {
      signature: signature(mp.token, timestamp, plaintextNonce),
      timestamp,
      nonce: plaintextNonce,
      openid: 'oDemoCustomer0001',
    },
    mpText,
  ),
  'callback-mp-text-safe-mode.json': httpApiEvent(
    'POST',
    {
      signature: signature(mp.token, timestamp, nonce),
      timestamp,
      nonce,
      openid: 'oDemoCustomer0001',
      encrypt_type: 'aes',
      msg_signature: signature(mp.token, timestamp, nonce, mpEncrypted),
    },
    `<xml><ToUserName><![CDATA[gh_kfbridgedemo]]></ToUserName><Encrypt><![CDATA[${mpEncrypted}]]></Encrypt></xml>`,
  ),
};

export const eventFileText = (event: unknown) => `${JSON.stringify(event, null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, event] of Object.entries(events)) {
    await writeFile(join(ROOT, 'events', file), eventFileText(event));
    console.log(`events/${file}`);
  }
}
