import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpFront } from '../../local/httpFront';
import { freePort } from '../../local/stack';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A stand-in for serverless offline that answers every request with this status, headers and body. */
async function offlineAnswering(status: number, headers: Record<string, string>, body: string) {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(status, headers);
      response.end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  stops.push(() => new Promise((resolve) => server.close(() => resolve())));
  return port;
}

async function front(offlinePort: number, lines: string[] = []) {
  const port = await freePort();
  const running = await startHttpFront({ port, offlinePort, log: (line) => lines.push(line) });
  stops.unshift(running.stop);
  return `http://127.0.0.1:${port}`;
}

describe('the local HTTP front of serverless offline', () => {
  it('answers a function that failed as API Gateway does (500), not as the 200 serverless offline gives', async () => {
    const lambdaError = JSON.stringify({
      errorMessage: "Cannot find module '/srv/.esbuild/.build/functions/api.js'",
      errorType: 'Error',
      stackTrace: ['Error: Cannot find module', '    at importModule'],
    });
    const lines: string[] = [];
    const url = await front(
      await offlineAnswering(200, { 'content-type': 'application/json' }, lambdaError),
      lines,
    );
    const response = await fetch(`${url}/v1/admin/kf/accounts?app=default`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(lines).toEqual([
      "[http] GET /v1/admin/kf/accounts failed: Cannot find module '/srv/.esbuild/.build/functions/api.js'",
    ]);
  });

  it("passes the function's own answers through: status, headers and body", async () => {
    const url = await front(
      await offlineAnswering(
        401,
        { 'content-type': 'text/plain', 'x-kf': '1' },
        'msg_signature does not match',
      ),
    );
    const response = await fetch(`${url}/callback/default`, { method: 'POST', body: '<xml/>' });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-kf')).toBe('1');
    expect(await response.text()).toBe('msg_signature does not match');
  });

  it('answers 502 and says so when serverless offline fails part-way through its answer', async () => {
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"status":');
      setImmediate(() => response.socket?.destroy());
    });
    const offlinePort = await freePort();
    await new Promise<void>((resolve) => server.listen(offlinePort, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    const lines: string[] = [];
    const url = await front(offlinePort, lines);
    const response = await fetch(`${url}/v1/messages/abc`);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Bad Gateway' });
    expect(lines).toEqual(['[http] GET /v1/messages/abc: serverless offline broke off its answer: aborted']);
  });

  it("passes a HEAD answer's content-length through, as there is no body to count", async () => {
    const url = await front(await offlineAnswering(200, { 'content-length': '1234' }, ''));
    const response = await fetch(`${url}/v1/openapi.json`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('1234');
  });
});
