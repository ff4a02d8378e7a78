import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallAnswer } from './callLog';
import { ControlError, control } from './control';
import { errmsgWithHint, WxError } from './core';
import type { FaultKind } from './faults';
import { PAGE } from './page';
import { type BinaryAnswer, MP, type PlatformRequest, TOKENS, WECOM } from './platformRoutes';
import type { Simulator } from './simulator';

const MAX_BODY = 30 * 1024 * 1024;

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new WxError(40006, 'invalid file size');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Media downloads: binary with Content-disposition, honouring a single `Range: bytes=a-b`. */
function sendBinary(request: IncomingMessage, response: ServerResponse, { binary }: BinaryAnswer): void {
  const headers = {
    'content-type': binary.contentType,
    'content-disposition': `attachment; filename="${binary.filename}"`,
    'accept-ranges': 'bytes',
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? '');
  const size = binary.data.length;
  if (range && (range[1] || range[2])) {
    const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size || start > end) {
      response.writeHead(416, { 'content-range': `bytes */${size}` });
      response.end();
      return;
    }
    response.writeHead(206, {
      ...headers,
      'content-range': `bytes ${start}-${end}/${size}`,
      'content-length': end - start + 1,
    });
    response.end(binary.data.subarray(start, end + 1));
    return;
  }
  response.writeHead(200, { ...headers, 'content-length': size });
  response.end(binary.data);
}

function platformRequest(request: IncomingMessage, url: URL, raw: Buffer): PlatformRequest {
  return {
    method: request.method ?? 'GET',
    query: url.searchParams,
    raw,
    ...(request.headers['content-type'] && { contentType: request.headers['content-type'] }),
    json: () => {
      try {
        return JSON.parse(raw.toString('utf8') || '{}');
      } catch {
        throw new WxError(47001, 'data format error, Warning: wrong json format.');
      }
    },
  };
}

/** Which platform and owner an API call belongs to, from its path and access_token. */
function resolve(sim: Simulator, path: string, accessToken: string | null) {
  const wecomPath = path.startsWith('/cgi-bin/') ? path.slice('/cgi-bin/'.length) : undefined;
  const wecom = wecomPath !== undefined ? WECOM[wecomPath] : undefined;
  const mp = MP[path];
  if (wecom && (!mp || (accessToken && sim.wecom.tokens.has(accessToken)))) {
    return {
      platform: 'wecom' as const,
      endpoint: wecomPath ?? '',
      run: (request: PlatformRequest, faults: FaultKind[]) => {
        const corpId = sim.wecom.authenticate(accessToken);
        return { owner: corpId, answer: () => wecom(sim, corpId, request, faults) };
      },
    };
  }
  if (mp) {
    return {
      platform: 'mp' as const,
      endpoint: path.replace(/^\/(cgi-bin\/)?/, ''),
      run: (request: PlatformRequest) => {
        const app = sim.mp.authenticate(accessToken);
        return { owner: app.appId, answer: () => mp(sim, app, request) };
      },
    };
  }
  const token = TOKENS[path];
  if (token)
    return {
      platform: path === '/cgi-bin/gettoken' ? ('wecom' as const) : ('mp' as const),
      endpoint: path.replace('/cgi-bin/', ''),
      run: (request: PlatformRequest) => ({ owner: '-', answer: () => token(sim, request), free: true }),
    };
  return undefined;
}

async function handlePlatform(
  sim: Simulator,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const route = resolve(sim, url.pathname, url.searchParams.get('access_token'));
  if (!route) {
    sendJson(response, 404, { errcode: 404, errmsg: 'unknown api' });
    return;
  }
  const isWecom = route.platform === 'wecom';
  let raw: Buffer = Buffer.alloc(0);
  let owner: string | undefined;
  // A fault can answer before the call is run: its owner is then read from its access_token alone.
  const ownerOf = () => {
    try {
      const call = route.run(platformRequest(request, url, raw), []);
      return call.owner === '-' ? undefined : call.owner;
    } catch {
      return undefined;
    }
  };
  const log = (answer: CallAnswer, answered?: unknown) =>
    sim.callLog.record(
      { at: sim.clock.now(), endpoint: route.endpoint, owner: owner ?? ownerOf(), raw },
      answer,
      answered,
    );
  const fail = (error: WxError) => {
    log({ errcode: error.errcode, errmsg: error.errmsg });
    sendJson(response, 200, {
      errcode: error.errcode,
      errmsg: isWecom ? errmsgWithHint(error.errcode, error.errmsg) : error.errmsg,
    });
  };
  let release: (() => void) | undefined;
  let loseAnswer = false;
  sim.calls.set(route.endpoint, (sim.calls.get(route.endpoint) ?? 0) + 1);
  try {
    raw = await readBody(request);
    const faults = sim.faults.fire(route.endpoint, sim.clock.now());
    loseAnswer = faults.some((fault) => fault.kind === 'lost_answer');
    const answerInstead = faults.find(
      (fault) => (fault.kind === 'http' || fault.kind === 'errcode') && fault.after,
    );
    for (const fault of faults) {
      if (fault === answerInstead) continue;
      if (fault.kind === 'drop') {
        log({ lost: 'connection dropped' });
        request.socket.destroy();
        return;
      }
      if (fault.kind === 'http') {
        log({ httpStatus: fault.status });
        response.writeHead(fault.status, { 'content-type': 'text/plain' });
        response.end('simulated server error');
        return;
      }
      if (fault.kind === 'errcode') throw new WxError(fault.errcode, fault.errmsg ?? 'system busy');
    }
    const call = route.run(platformRequest(request, url, raw), faults);
    if (call.owner !== '-') owner = call.owner;
    release = call.owner === '-' ? undefined : sim.limits.enter(call.owner, route.endpoint, sim.clock.now());
    // Latency is slow processing: it holds the call's concurrency slot.
    for (const fault of faults)
      if (fault.kind === 'latency') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const answer = call.answer();
    sim.changed();
    if (loseAnswer) {
      log({ lost: 'answer lost' }, answer);
      request.socket.destroy();
      return;
    }
    if (answerInstead?.kind === 'http') {
      log({ httpStatus: answerInstead.status }, answer);
      response.writeHead(answerInstead.status, { 'content-type': 'text/plain' });
      response.end('simulated gateway error');
      return;
    }
    if (answerInstead?.kind === 'errcode')
      throw new WxError(answerInstead.errcode, answerInstead.errmsg ?? 'system busy');
    log({ errcode: 0, errmsg: 'ok' }, answer);
    if ('binary' in answer) sendBinary(request, response, answer as BinaryAnswer);
    // WeCom puts errcode 0 in every answer; MP only in answers without data (MP_OK), as each platform documents.
    else
      sendJson(
        response,
        200,
        isWecom && !('errcode' in answer) ? { errcode: 0, errmsg: 'ok', ...answer } : answer,
      );
  } catch (error) {
    if (loseAnswer) {
      log({ lost: 'answer lost' });
      request.socket.destroy();
    } else if (error instanceof WxError) fail(error);
    else {
      log({ httpStatus: 500 });
      sendJson(response, 500, { errcode: -1, errmsg: 'system error' });
    }
  } finally {
    release?.();
  }
}

function handleStream(sim: Simulator, request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  response.write('retry: 1000\n\n');
  let scheduled = false;
  const onChange = () => {
    if (scheduled) return;
    scheduled = true;
    // Coalesce bursts: one refresh per 100 ms is plenty for a page.
    setTimeout(() => {
      scheduled = false;
      response.write('data: change\n\n');
    }, 100);
  };
  sim.on('change', onChange);
  request.on('close', () => sim.off('change', onChange));
}

export function createSimulatorServer(sim: Simulator): Server {
  return createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://simulator');
    if (url.pathname === '/' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(PAGE);
      return;
    }
    if (url.pathname === '/_sim/stream') return handleStream(sim, request, response);
    if (url.pathname.startsWith('/_sim/')) {
      try {
        const raw = await readBody(request);
        const body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
        sendJson(
          response,
          200,
          await control(sim, request.method ?? 'GET', url.pathname, url.searchParams, body),
        );
      } catch (error) {
        const known =
          error instanceof ControlError || error instanceof WxError || error instanceof SyntaxError;
        sendJson(response, known ? 400 : 500, { error: (error as Error).message });
      }
      return;
    }
    await handlePlatform(sim, request, response, url);
  });
}

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
