import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import { ADMIN_OPERATIONS, operationName } from '../../lib/admin/catalogue';
import type { AdminContext } from '../../lib/admin/operation';
import type { Budget, BudgetStore } from '../../lib/budgets';
import type { AppConfig } from '../../lib/config/config';
import { NO_METRICS } from '../../lib/metrics';
import type { SenderDeps } from '../../lib/outbound/sender';
import type { SendLedger } from '../../lib/outbound/sendLedger';
import type { PlatformAnswer, PlatformCall, PlatformRequest } from '../../lib/platform/client';
import type { TokenProvider } from '../../lib/tokens/provider';
import { recordingLog } from '../support/recording';
import { testConfig } from '../support/wechat';

export const config = testConfig();
export const app = config.apps.get('default') as AppConfig;

/** A platform that answers each path with a corpus answer and keeps every request it was sent. */
export function corpusPlatform(answers: Record<string, PlatformAnswer> = {}) {
  const requests: PlatformRequest[] = [];
  const call: PlatformCall = async (_app, _platform, request) => {
    requests.push(request);
    const answer = answers[request.path];
    if (!answer) throw new Error(`no corpus answer for ${request.path}`);
    return answer;
  };
  return { call, requests };
}

/** A dependency the contract at hand must not touch. */
export const unused = async (): Promise<never> => {
  throw new Error('not part of this contract');
};

/**
 * Runs the admin operation `group command` with the input a user would give, against `call`; `overrides` stand in
 * for the rest of the context an operation needs (a multipart upload, another app).
 */
export async function runOperation(
  name: string,
  input: unknown,
  call: PlatformCall,
  overrides: Partial<AdminContext> = {},
) {
  const operation = ADMIN_OPERATIONS.find((op) => operationName(op) === name);
  if (!operation) throw new Error(`no admin operation ${name}`);
  const context: AdminContext = {
    app,
    call,
    multipart: unused,
    upload: unused,
    resolveMedia: unused,
    fetchFile: unused,
    budgets: { apply: async () => {} },
    deadLetters: { list: unused, show: unused, redrive: unused, discard: unused },
    tracer: { trace: unused },
    now: Date.now,
    ...overrides,
  };
  return operation.run(v.parse(operation.input, input), context);
}

/** Sender dependencies in which every reply is allowed and nothing was sent before: only the request matters. */
export function senderDeps(call: PlatformCall): SenderDeps {
  const now = Date.now();
  // The customer wrote 10 s ago: inside every window, MP typing's 30 s included.
  const open: Budget = { lastCustomerMessageAt: now - 10_000, repliesLeft: 5 };
  const budgets = { read: async () => open, spend: async () => {}, apply: async () => {} };
  const ledger = {
    state: async () => ({}),
    record: async () => true,
    indexMsgid: async () => ({ unknown: false, presented: false, attempts: 1 }),
    noteAttempt: async () => ({ earlier: false, attempts: 1 }),
  };
  return {
    config,
    call,
    ledger: ledger as unknown as SendLedger,
    budgets: budgets as unknown as BudgetStore,
    now: () => now,
    log: recordingLog().log,
    meter: NO_METRICS,
  };
}

export interface ServedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: string;
}

/**
 * A local HTTP server standing in for the platform: answers each path with a corpus payload, so the product's
 * real HTTP client reads a real answer. `contentType` defaults to JSON.
 */
export async function corpusServer(answers: Record<string, { body: string; contentType?: string }>) {
  const requests: ServedRequest[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://corpus');
    requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body: Buffer.concat(chunks).toString(),
    });
    const answer = answers[url.pathname];
    if (!answer) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': answer.contentType ?? 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    requests,
    /** The default app, with both platforms' API at this server. */
    app: testConfig({ WECOM_API_BASE: base, MP_API_BASE: base }).apps.get('default') as AppConfig,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The platform client's dependencies with a fixed access token. */
export const clientDeps = {
  meter: NO_METRICS,
  tokens: { getToken: async () => 'ACCESS_TOKEN', invalidate: async () => {} } as unknown as TokenProvider,
  log: recordingLog().log,
};
