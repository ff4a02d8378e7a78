import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RetryPolicy, signedRequests, xmlErrorCodeOf } from '../../../lib/aws/signedRequest';

/**
 * Lambda freezes a container between invocations; the connections it kept alive may be dead when it thaws (the
 * service or a NAT gateway closed them meanwhile, and says so only when the next request comes on them). A
 * container that made calls at once has several such connections pooled: a try that found one dead must not
 * leave the next tries to find the others.
 */

let server: Server;
let endpoint: URL;
/** Connections that are dead: a request on one is answered by a reset. */
const dead = new Set<Socket>();
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (dead.has(request.socket)) return void request.socket.destroy();
      // Slow enough that calls made at once each take a connection of their own.
      setTimeout(() => response.end('{}'), 30);
    });
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const requests = signedRequests({
  service: 'example',
  name: 'Example',
  target: () => ({
    endpoint,
    region: 'eu-west-1',
    credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
  }),
  errorOf: xmlErrorCodeOf,
});
/** The callback's: 3 tries within 2 s. */
const policy: RetryPolicy = { attempts: 3, baseDelayMs: 5, attemptTimeoutMs: 1_000, callTimeoutMs: 2_000 };
const call = () =>
  requests.send({ operation: 'PutThing', method: 'POST', url: new URL('/', endpoint), body: '{}' }, policy);

it('a call after a thaw finds the pooled connections dead and still gets through on a new one', async () => {
  await Promise.all([call(), call(), call(), call()]);
  expect(sockets.size).toBe(4);
  for (const socket of sockets) dead.add(socket);
  const answered = await call();
  expect(answered.status).toBe(200);
});
