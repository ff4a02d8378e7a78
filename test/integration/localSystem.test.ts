import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../lib/aws/clientConfig';
import { parseInboundMessage } from '../../lib/contracts/inbound';
import { addDays, dayOf } from '../../lib/reports/days';
import { privateBuildFolder } from '../../local/buildFolder';
import { ROOT } from '../../local/serviceDefinition';
import type { LocalSystem } from '../../local/system';
import { drain } from '../support/aws';
import { startTestSystem } from '../support/localSystem';
import { REPORT_DAY_FILES } from '../support/reports';
import { waitFor } from '../support/wait';
import { kfEventXml, testEnv, wecomPost, wecomVerify } from '../support/wechat';

let system: LocalSystem;
let s3: S3Client;

beforeAll(async () => {
  // What `npm start` runs, on free ports, with the test app's settings overriding the demo app.
  system = await startTestSystem();
  s3 = new S3Client({ region: system.stack.region, ...awsClientConfig('s3', system.stack.env) });
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

function url(request: ReturnType<typeof wecomPost>) {
  const query = new URLSearchParams(request.query as Record<string, string>);
  return `${system.httpUrl}/callback/${request.app}?${query}`;
}

/** Consumes inbound.fifo until a message from this customer arrives (others are dropped, as tests go). */
async function inboundFrom(customer: string) {
  return waitFor(async () =>
    (await drain(system.stack.clients.sqs, system.stack.queues.InboundQueue ?? '')).filter(
      (m) => JSON.parse(m.Body ?? '{}').customer === customer,
    ),
  );
}

/**
 * `serverless invoke local` against this stack and simulator, found by their port variables alone (as a user
 * sets them); osls reads stdin without --data, so it is always given.
 */
async function invokeLocal(functionName: string, data: object) {
  const build = await privateBuildFolder('invoke');
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...testEnv,
    ...build.env,
    DYNAMODB_PORT: system.stack.env.DYNAMODB_PORT,
    FAUXQS_PORT: system.stack.env.FAUXQS_PORT,
    SIM_PORT: new URL(system.simulator.url).port,
  };
  return promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/serverless/bin/serverless.js'),
      'invoke',
      'local',
      '-f',
      functionName,
      '--data',
      JSON.stringify(data),
    ],
    { cwd: ROOT, env },
  ).finally(() => build.remove());
}

/** The function's result: the last JSON object invoke local prints. */
const resultOf = ({ stdout }: { stdout: string }) => JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1));

/** `npx kf-bridge … --local --json`, as a user runs it beside `npm start`. */
const kfBridge = (...args: string[]) =>
  promisify(execFile)(process.execPath, [join(ROOT, 'bin/kf-bridge.js'), ...args, '--local', '--json'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HTTP_PORT: new URL(system.httpUrl).port },
  });

describe('the local system (npm start)', () => {
  it('serves WeCom URL verification over HTTP', async () => {
    const response = await fetch(url(wecomVerify('1288432023552776189')));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('1288432023552776189');
  });

  it('carries a customer message from the simulator through callback, sync job and puller to inbound.fifo', async () => {
    const msgid = system.simulator.sim.customerSays(system.demo.openKfId, 'wmLocalSystem', '你好，npm start');
    const delivered = await waitFor(() =>
      drain(system.stack.clients.sqs, system.stack.queues.InboundQueue ?? ''),
    );
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.Attributes?.MessageGroupId).toBe(`default#${system.demo.openKfId}#wmLocalSystem`);
    expect(parseInboundMessage(JSON.parse(delivered[0]?.Body ?? ''))).toMatchObject({
      id: msgid,
      message: { type: 'text', content: '你好，npm start' },
    });
  });

  it("sends the configured welcome message through the outbound path within the code's 20 s", async () => {
    // The simulator refuses a welcome code older than 20 s: a recorded send went out in time.
    system.simulator.sim.enterSession(system.demo.openKfId, 'wmWelcomeLocal');
    const sent = await waitFor(async () =>
      system.simulator.sim.wecom.sent.filter((s) => s.touser === 'wmWelcomeLocal'),
    );
    expect(sent).toMatchObject([
      { via: 'send_msg_on_event', msgtype: 'text', body: { content: '您好，欢迎咨询 kf-bridge 演示客服！' } },
    ]);
  });

  it('takes a reply on the HTTP API and sends it through outbound.fifo and the sender', async () => {
    const customer = 'wmApiLocal';
    system.simulator.sim.customerSays(system.demo.openKfId, customer, '在吗？');
    // Reply to the customer's own message, as a consumer would: only then is its reply budget open.
    await inboundFrom(customer);
    const headers = { 'x-api-key': 'local-demo-api-key-0123456789', 'content-type': 'application/json' };
    const requestId = `api-${Date.now()}`;
    const posted = await fetch(`${system.httpUrl}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        requestId,
        app: 'default',
        channel: 'kf',
        openKfId: system.demo.openKfId,
        externalUserId: customer,
        message: { type: 'text', content: '在的，请讲' },
      }),
    });
    expect(posted.status).toBe(202);
    const status = async () =>
      (await fetch(`${system.httpUrl}/v1/messages/${requestId}`, { headers }).then((r) => r.json())) as {
        status: string;
      };
    expect(await waitFor(async () => ((await status()).status === 'sent' ? ['sent'] : []))).toEqual(['sent']);
    expect(system.simulator.sim.wecom.sent.filter((s) => s.touser === customer)).toMatchObject([
      { body: { content: '在的，请讲' } },
    ]);
    expect((await fetch(`${system.httpUrl}/v1/messages`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('answers an Official Account follower: push to the callback function, budget, HTTP API, sender', async () => {
    const openid = `oLocal${Date.now()}`;
    system.simulator.sim.mpUserWrites(testEnv.MP_APP_ID, openid, { MsgType: 'text', Content: '公众号你好' });
    await inboundFrom(openid);
    const headers = { 'x-api-key': 'local-demo-api-key-0123456789', 'content-type': 'application/json' };
    const post = (requestId: string, message: Record<string, unknown>) =>
      fetch(`${system.httpUrl}/v1/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ requestId, app: 'default', channel: 'mp', openid, message }),
      });
    expect((await post(`${openid}-typing`, { type: 'typing' })).status).toBe(202);
    expect((await post(`${openid}-reply`, { type: 'text', content: '您好，这里是客服' })).status).toBe(202);
    const sent = await waitFor(async () => system.simulator.sim.mp.sent.filter((s) => s.touser === openid));
    expect(sent).toMatchObject([{ msgtype: 'text', body: { content: '您好，这里是客服' } }]);
    expect(system.simulator.sim.mp.typings.filter((t) => t.touser === openid)).toHaveLength(1);
    const invalid = await post(`${openid}-bad`, { type: 'news', articles: [] });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('message.articles');
  });

  it('settles a send WeCom accepted but could not deliver (msg_send_fail) as failed, with the reason', async () => {
    const customer = 'wmUndelivered';
    system.simulator.sim.customerSays(system.demo.openKfId, customer, 'hi');
    // Reply to the customer's own message, as a consumer would: only then is its reply budget open.
    await inboundFrom(customer);
    system.simulator.sim.setFaults([{ endpoint: 'kf/send_msg', kind: 'send_fail', failType: 10, count: 1 }]);
    const headers = { 'x-api-key': 'local-demo-api-key-0123456789' };
    const requestId = `undelivered-${Date.now()}`;
    const message = {
      requestId,
      app: 'default',
      channel: 'kf',
      openKfId: system.demo.openKfId,
      externalUserId: customer,
      message: { type: 'text', content: 'x' },
    };
    expect(
      (
        await fetch(`${system.httpUrl}/v1/messages`, {
          method: 'POST',
          headers,
          body: JSON.stringify(message),
        })
      ).status,
    ).toBe(202);
    const status = async () =>
      (await fetch(`${system.httpUrl}/v1/messages/${requestId}`, { headers }).then((r) =>
        r.json(),
      )) as Record<string, unknown>;
    // The report comes back through callback, sync job and puller: on a loaded machine that can take a while.
    const [settled] = await waitFor(async () => {
      const current = await status();
      return current.status === 'failed' ? [current] : [];
    }, 60_000);
    expect(settled).toMatchObject({
      status: 'failed',
      failType: 10,
      reason: 'WeCom could not deliver it: the customer refuses messages',
    });
  });

  it('runs admin commands with `npx kf-bridge … --local` through the admin function, and serves OpenAPI', async () => {
    const accounts = JSON.parse((await kfBridge('kf-accounts', 'list')).stdout) as { accounts: object[] };
    expect(accounts.accounts).toContainEqual(expect.objectContaining({ openKfId: system.demo.openKfId }));
    const link = JSON.parse(
      (await kfBridge('kf-accounts', 'link', '--open-kf-id', system.demo.openKfId, '--scene', 's1')).stdout,
    ) as { url: string };
    expect(link.url).toMatch(/enc_scene=/);
    const refused = await kfBridge('mp-sessions', 'list', '--kf-account', 'nobody@demo').catch(
      (error) => error,
    );
    expect(refused).toMatchObject({ code: 3 });
    expect(JSON.parse(refused.stderr)).toMatchObject({ errcode: 65401 });

    const openApi = await fetch(`${system.httpUrl}/v1/openapi.json`);
    expect(openApi.status).toBe(200);
    expect(((await openApi.json()) as { paths: object }).paths).toHaveProperty(['/v1/admin/kf/accounts']);
  });

  it('traces a customer message and its reply with `npx kf-bridge trace … --local`', async () => {
    const customer = 'wmTraceLocal';
    const msgid = system.simulator.sim.customerSays(system.demo.openKfId, customer, '查一下');
    await inboundFrom(customer);
    const headers = { 'x-api-key': 'local-demo-api-key-0123456789', 'content-type': 'application/json' };
    const requestId = `trace-${Date.now()}`;
    const reply = {
      requestId,
      app: 'default',
      channel: 'kf',
      openKfId: system.demo.openKfId,
      externalUserId: customer,
      message: { type: 'text', content: '查到了' },
    };
    expect(
      (await fetch(`${system.httpUrl}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(reply) }))
        .status,
    ).toBe(202);
    const outcome = async () => {
      const { steps } = JSON.parse((await kfBridge('trace', requestId)).stdout) as {
        steps: { step: string }[];
      };
      return steps.some((step) => step.step === 'outcome' && JSON.stringify(step).includes(': sent'))
        ? steps
        : [];
    };
    expect((await waitFor(outcome)).map((step) => step.step)).toEqual(['queued', 'attempts', 'outcome']);
    const inbound = JSON.parse((await kfBridge('trace', msgid)).stdout) as Record<string, unknown>;
    expect(inbound.matches).toEqual([
      { kind: 'inbound message', msgid, openKfId: system.demo.openKfId, customer },
    ]);
    expect(inbound.steps).toMatchObject([
      { step: 'received', outcome: 'ok' },
      { step: 'pulled', outcome: 'ok' },
      { step: 'inbound.fifo', outcome: 'ok' },
      { step: 'reply window', outcome: 'ok', detail: expect.stringContaining('4 of 5 replies left') },
    ]);
    const missing = await kfBridge('trace', 'no-such-id').catch((error) => error);
    expect(missing).toMatchObject({ code: 2 });
  });

  it('answers a forged callback with 401 over HTTP', async () => {
    const request = wecomPost(kfEventXml('wkLocalSystem', 'ENCforged'));
    const forged = { ...request, query: { ...request.query, msg_signature: 'f'.repeat(40) } };
    const response = await fetch(url(forged), { method: 'POST', body: request.body });
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('msg_signature does not match');
  });

  it('runs tokenRefresh with serverless invoke local against the local stack', async () => {
    const invoke = async () => resultOf(await invokeLocal('tokenRefresh', {}));
    // The puller may have fetched the WeCom token already; either way nothing fails and a second run finds all fresh.
    const first = await invoke();
    expect(first.failed).toEqual([]);
    expect([...first.refreshed, ...first.fresh].sort()).toEqual(['default/mp', 'default/wecom']);
    expect(await invoke()).toMatchObject({
      fresh: ['default/wecom', 'default/mp'],
      refreshed: [],
      failed: [],
    });
    expect(system.simulator.sim.calls.get('gettoken')).toBe(1);
  }, 60_000);

  it('exports a day of reports with serverless invoke local, and refuses a range that is not over yet', async () => {
    const invoke = (data: object) => invokeLocal('statsExport', data);
    const yesterday = addDays(dayOf(Date.now()), -1);
    const { stdout } = await invoke({ from: yesterday, to: yesterday });
    expect(JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1))).toMatchObject({
      complete: true,
      days: 1,
    });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: 'reportsbucket', Prefix: `reports/default/${yesterday}/` }),
    );
    expect(listed.Contents?.map((o) => o.Key?.split('/').pop()).sort()).toEqual(REPORT_DAY_FILES);
    const today = dayOf(Date.now());
    await expect(invoke({ from: today, to: today })).rejects.toMatchObject({
      stdout: expect.stringContaining(`to ${today} is not over yet`),
    });
  }, 90_000);
});
