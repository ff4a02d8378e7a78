import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../local/serviceDefinition';
import type { LocalSystem } from '../../local/system';
import { startTestSystem } from '../support/localSystem';
import { packageProd } from '../support/serverlessPackage';
import { wecomVerify } from '../support/wechat';

let system: LocalSystem;
const lines: string[] = [];

beforeAll(async () => {
  system = await startTestSystem({ log: (line) => lines.push(line) });
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

/** The local addresses listening on a port, from the kernel's socket tables (hex, as /proc shows them). */
async function listeningAddresses(port: number): Promise<string[]> {
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const rows = (await readFile(table, 'utf8')).trim().split('\n').slice(1);
    for (const row of rows) {
      const [, local, , state] = row.trim().split(/\s+/);
      const [address, hexPort] = (local ?? '').split(':');
      // 0A: LISTEN
      if (state === '0A' && Number.parseInt(hexPort ?? '', 16) === port) addresses.push(address ?? '');
    }
  }
  return addresses;
}
const IPV4_LOOPBACK = '0100007F';
const IPV6_LOOPBACK = '00000000000000000000000001000000';
// ::ffff:127.0.0.1, how Java shows 127.0.0.1 bound on a dual-stack socket (DynamoDB Local).
const IPV4_MAPPED_LOOPBACK = '0000000000000000FFFF00000100007F';
const LOOPBACK = [IPV4_LOOPBACK, IPV6_LOOPBACK, IPV4_MAPPED_LOOPBACK];

const verify = () => {
  const request = wecomVerify('5127364819203746152');
  return fetch(
    `${system.httpUrl}/callback/default?${new URLSearchParams(request.query as Record<string, string>)}`,
  );
};

describe('the local system beside other builds', () => {
  it('keeps answering while serverless package runs in the same clone', async () => {
    await packageProd();
    const response = await verify();
    expect(await response.text()).toBe('5127364819203746152');
    expect(response.status).toBe(200);
  }, 180_000);

  it('runs each schedule once: serverless offline schedules nothing of its own', () => {
    expect(system.schedules.map((schedule) => schedule.functionName).sort()).toEqual([
      'syncPuller',
      'tokenRefresh',
    ]);
    expect(lines.filter((line) => /Scheduling \[\w+\] cron: \[/.test(line))).toEqual([]);
  });

  it('listens on 127.0.0.1 only: the HTTP API, the simulator, fauxqs and DynamoDB Local', async () => {
    const { sqs, dynamodb } = system.stack.endpoints;
    for (const url of [system.httpUrl, system.simulator.url, sqs, dynamodb]) {
      const addresses = await listeningAddresses(Number(new URL(url).port));
      expect(addresses.length, url).toBeGreaterThan(0);
      for (const address of addresses) expect(LOOPBACK, url).toContain(address);
    }
  });

  // Last: it breaks this system's build on purpose.
  it('answers a function that cannot be loaded with 500, and the CLI exits non-zero on it', async () => {
    await rm(system.buildFolder, { recursive: true, force: true });
    const response = await fetch(`${system.httpUrl}/v1/openapi.json`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    const cli = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'bin/kf-bridge.js'), 'kf-accounts', 'list', '--local'],
      { cwd: ROOT, env: { PATH: process.env.PATH, HTTP_PORT: new URL(system.httpUrl).port } },
    ).catch((error) => error);
    expect(cli).toMatchObject({
      code: 1,
      stderr: 'kf-bridge: the API failed (HTTP 500): Internal Server Error\n',
    });
  }, 60_000);
});
