import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AdminDeps, handleAdminApi } from '../../lib/admin/adminApi';
import { errorResponse } from '../../lib/http/httpApi';

/**
 * The admin API on a free port, as the admin function serves it (same handler, same error answers), so CLI tests
 * run against the simulator without serverless-offline; the local-system test covers the deployed wiring.
 */
export async function startAdminApi(deps: AdminDeps): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
    let answer: { statusCode?: number; body?: string };
    try {
      const response = await handleAdminApi(
        {
          method: incoming.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: incoming.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString('utf8'),
        },
        deps,
      );
      answer = { statusCode: response.status, body: JSON.stringify(response.body) };
    } catch (error) {
      answer = errorResponse(error, deps.log, 'json');
    }
    outgoing.writeHead(answer.statusCode ?? 500, { 'content-type': 'application/json' });
    outgoing.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
