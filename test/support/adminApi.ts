import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import { expect } from 'vitest';
import { EXIT, runCli } from '../../cli/main';
import { type AdminDeps, handleAdminApi } from '../../lib/admin/adminApi';
import { ADMIN_OPERATIONS } from '../../lib/admin/catalogue';
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

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** What a --json run printed (the answer, or the error), parsed. */
  readonly json: Record<string, unknown>;
}

/** Runs the CLI against an admin API; every JSON answer is checked against the operation's published output schema. */
export async function runCliOn(apiUrl: string, key: string, args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--url', apiUrl, '--api-key', key], {
    env: {},
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    fetch,
    readFile: (path) => readFile(path),
    localAdminKey: async () => key,
    localApiUrl: async () => apiUrl,
  });
  const asJson = args.includes('--json');
  const json = asJson && (stdout || stderr) ? JSON.parse(stdout || stderr) : {};
  if (asJson && stdout && code <= EXIT.refused) {
    const operation = ADMIN_OPERATIONS.find(
      (o) => o.group === args[0] && (o.command === undefined || o.command === args[1]),
    );
    const checked = v.safeParse(operation?.output ?? v.never(), json);
    expect(checked.issues, `${args.slice(0, 2).join(' ')} output`).toBeUndefined();
  }
  return { code, stdout, stderr, json };
}
