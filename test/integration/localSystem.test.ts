import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../local/serviceDefinition';

import type { LocalSystem } from '../../local/system';
import { drain } from '../support/aws';
import { startTestSystem } from '../support/localSystem';
import { kfEventXml, testEnv, wecomPost, wecomVerify } from '../support/wechat';

let system: LocalSystem;

beforeAll(async () => {
  // What `npm start` runs, on free ports, with the test app's settings overriding the demo app.
  system = await startTestSystem();
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

function url(request: ReturnType<typeof wecomPost>) {
  const query = new URLSearchParams(request.query as Record<string, string>);
  return `${system.httpUrl}/callback/${request.app}?${query}`;
}

describe('the local system (npm start)', () => {
  it('serves WeCom URL verification over HTTP', async () => {
    const response = await fetch(url(wecomVerify('1288432023552776189')));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('1288432023552776189');
  });

  it('takes a kf callback over HTTP and puts the sync job on the local queue', async () => {
    const request = wecomPost(kfEventXml('wkLocalSystem', 'ENClocal'));
    const response = await fetch(url(request), { method: 'POST', body: request.body });
    expect(await response.text()).toBe('success');
    const messages = await drain(system.stack.clients.sqs, system.stack.queues.SyncJobsQueue ?? '');
    expect(messages.map((message) => message.Attributes?.MessageGroupId)).toEqual(['default#wkLocalSystem']);
  });

  it('answers a forged callback with 401 over HTTP', async () => {
    const request = wecomPost(kfEventXml('wkLocalSystem', 'ENCforged'));
    const forged = { ...request, query: { ...request.query, msg_signature: 'f'.repeat(40) } };
    const response = await fetch(url(forged), { method: 'POST', body: request.body });
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('msg_signature does not match');
  });

  it('runs tokenRefresh with serverless invoke local against the local stack', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...testEnv,
      DYNAMODB_PORT: system.stack.env.DYNAMODB_PORT,
      FAUXQS_PORT: system.stack.env.FAUXQS_PORT,
      WECOM_API_BASE: system.simulator.url,
      MP_API_BASE: system.simulator.url,
    };
    const invoke = async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        // Without --data, osls reads the event from stdin when it is not a terminal.
        [
          join(ROOT, 'node_modules/serverless/bin/serverless.js'),
          'invoke',
          'local',
          '-f',
          'tokenRefresh',
          '--data',
          '{}',
        ],
        { cwd: ROOT, env },
      );
      return JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1));
    };
    expect(await invoke()).toMatchObject({ refreshed: ['default/wecom', 'default/mp'], failed: [] });
    expect(await invoke()).toMatchObject({ fresh: ['default/wecom', 'default/mp'], refreshed: [] });
    expect(system.simulator.sim.calls.get('gettoken')).toBe(1);
  }, 60_000);
});
