import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallbackRequest, CallbackResponse } from '../lib/callback/handleCallback';
import { KfBridgeError } from '../lib/errors';

/**
 * The callback function's wiring behind plain HTTP on a free 127.0.0.1 port, for the simulator to push to (the e2e
 * and the bench): the app is "default", and an error is answered with its status as the function would.
 */
export async function serveCallback(
  handle: (request: CallbackRequest) => Promise<CallbackResponse>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    try {
      const answer = await handle({
        method: request.method ?? 'POST',
        app: 'default',
        query: Object.fromEntries(url.searchParams),
        body: Buffer.concat(chunks).toString(),
      });
      response.writeHead(answer.status).end(answer.body);
    } catch (error) {
      response.writeHead(error instanceof KfBridgeError ? error.status : 500).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
