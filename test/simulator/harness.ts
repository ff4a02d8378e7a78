import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CallbackCipher,
  decodeEncodingAesKey,
  decrypt,
  signature,
} from '../../lib/crypto/wxBizMsgCrypt';
import { parseWechatXml, textOf } from '../../lib/xml';
import { type RunningSimulator, startSimulator } from '../../simulator';

// The reference's derived kf-event vector credentials (§4.1), so pushes interoperate with published crypto.
export const CORP = {
  corpId: 'wx5823bf96d3bd56c7',
  secret: 'kf-app-secret',
  token: 'QDG6eK',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
};
export const cipher: CallbackCipher = {
  token: CORP.token,
  receiveId: CORP.corpId,
  aesKey: decodeEncodingAesKey(CORP.encodingAesKey),
};

export interface ReceivedCallback {
  readonly query: URLSearchParams;
  readonly body: string;
}

/** An app's callback endpoint: records every push and answers with the status the test sets. */
export async function startReceiver() {
  const received: ReceivedCallback[] = [];
  const behaviour = { status: 200, delayMs: 0 };
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push({
      query: new URL(request.url ?? '/', 'http://x').searchParams,
      body: Buffer.concat(chunks).toString(),
    });
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    response.writeHead(behaviour.status).end('success');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback/default`;
  return {
    url,
    received,
    behaviour,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Verifies a WeCom push as kf-bridge would and returns its Token and OpenKfId. */
export function openKfCallback(callback: ReceivedCallback) {
  const encrypted = textOf(parseWechatXml(callback.body), 'Encrypt') ?? '';
  const expected = signature(
    CORP.token,
    callback.query.get('timestamp') ?? '',
    callback.query.get('nonce') ?? '',
    encrypted,
  );
  if (expected !== callback.query.get('msg_signature'))
    throw new Error('bad msg_signature on a simulator callback');
  const event = parseWechatXml(decrypt(cipher, encrypted));
  return { token: textOf(event, 'Token') ?? '', openKfId: textOf(event, 'OpenKfId') ?? '', event };
}

/** A platform answer: tests read whatever fields the API under test returns. */
// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field with expect().
export type WxAnswer = Record<string, any>;
export const json = (response: Response) => response.json() as Promise<WxAnswer>;

export type Api = (
  path: string,
  body?: unknown,
  options?: { method?: string; token?: string | null; query?: Record<string, string> },
) => Promise<WxAnswer>;

export async function setup(
  options: { callbacks?: { timeoutMs?: number; retryDelayMs?: number }; statisticsHistoryDays?: number } = {},
) {
  const running: RunningSimulator = await startSimulator({
    ...options,
    callbacks: { retryDelayMs: 20, ...options.callbacks },
  });
  const receiver = await startReceiver();
  const { sim } = running;
  sim.createCorp({
    corpId: CORP.corpId,
    secrets: [CORP.secret],
    callback: { url: receiver.url, token: CORP.token, encodingAesKey: CORP.encodingAesKey },
    users: ['alice', 'bob'],
    departments: [1],
  });
  const tokenOf = async () =>
    (
      await fetch(`${running.url}/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.secret}`).then(
        json,
      )
    ).access_token as string;
  let accessToken = await tokenOf();
  const api: Api = async (path, body, opts = {}) => {
    const token = opts.token === undefined ? accessToken : opts.token;
    const query = new URLSearchParams({ ...(token !== null && { access_token: token }), ...opts.query });
    const method = opts.method ?? (body === undefined ? 'GET' : 'POST');
    const response = await fetch(`${running.url}${path}?${query}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return json(response);
  };
  return {
    ...running,
    receiver,
    api,
    refreshToken: async () => {
      accessToken = await tokenOf();
      return accessToken;
    },
    close: async () => {
      await sim.callbacks.idle();
      await receiver.stop();
      await running.stop();
    },
  };
}
