import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../../lib/config/config';
import { DependencyError, PlatformError, UncertainOutcomeError } from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';
import { createMetrics, METRICS_NAMESPACE, meterOf, NO_METRICS } from '../../../lib/metrics';
import {
  createPlatformClient,
  createPlatformMultipart,
  createPlatformUpload,
} from '../../../lib/platform/client';
import type { TokenProvider } from '../../../lib/tokens/provider';
import { captureOutput } from '../../support/metrics';
import { recordingLog } from '../../support/recording';
import { testConfig } from '../../support/wechat';

/** A gateway in front of the platform: each path answers as the test needs. */
const answers: Record<string, (respond: (status: number, type: string, body: string) => void) => void> = {
  '/cgi-bin/message/custom/send': (respond) => respond(502, 'text/html', '<html>502 Bad Gateway</html>'),
  '/cgi-bin/garbled': (respond) => respond(200, 'text/html', '<html>maintenance</html>'),
  '/cgi-bin/busy': (respond) => respond(200, 'application/json', '{"errcode":45033,"errmsg":"busy"}'),
  '/cgi-bin/kf/send_msg': (respond) =>
    respond(200, 'application/json', '{"errcode":95001,"errmsg":"send msg count limit"}'),
  '/cgi-bin/unknown': (respond) => respond(404, 'text/plain', 'not found'),
  '/cgi-bin/ok': (respond) => respond(200, 'text/plain', '{"errcode":0,"errmsg":"ok","kf_list":[]}'),
  '/cgi-bin/empty': (respond) => respond(200, 'application/json', '{}'),
  // WeChat answers some uploads' JSON as text/plain (reported for media/uploadimg and others).
  '/customservice/kfaccount/uploadheadimg': (respond) =>
    respond(200, 'text/plain', '{"errcode":40005,"errmsg":"invalid file type"}'),
  '/cgi-bin/media/upload': (respond) =>
    respond(200, 'text/plain', '{"type":"thumb","thumb_media_id":"THUMB","created_at":1486032778}'),
};
let server: Server;
let app: AppConfig;

beforeAll(async () => {
  server = createServer((request, response) => {
    const answer = answers[new URL(request.url ?? '/', 'http://x').pathname];
    answer?.((status, type, body) => response.writeHead(status, { 'content-type': type }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app = testConfig({ MP_API_BASE: base }).apps.get('default') as AppConfig;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A port nothing listens on: a connection to it is refused before any request is sent. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const tokens = { getToken: async () => 'token', invalidate: async () => {} } as unknown as TokenProvider;
const call = createPlatformClient({ tokens, log: recordingLog().log, meter: NO_METRICS });
const post = (path: string) => call(app, 'mp', { path, body: { touser: 'o1' } });

describe('the platform client', () => {
  it('reads a 5xx as an outcome it cannot know: the platform may have carried the call out', async () => {
    const failure = await post('/cgi-bin/message/custom/send').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UncertainOutcomeError);
    expect(failure).toMatchObject({ message: expect.stringContaining('HTTP 502'), retryable: true });
  });

  it('reads an answer without an errcode it can parse the same way', async () => {
    const failure = await post('/cgi-bin/garbled').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UncertainOutcomeError);
  });

  it('retries only what surely was not carried out: an errcode saying so, a 4xx, a connection never made', async () => {
    const busy = await post('/cgi-bin/busy').catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(PlatformError);
    expect(busy).toMatchObject({ errcode: 45033, retryable: true });
    const unknown = await post('/cgi-bin/unknown').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(DependencyError);
    expect(unknown).not.toBeInstanceOf(UncertainOutcomeError);
    const closed = testConfig({ MP_API_BASE: `http://127.0.0.1:${await closedPort()}` }).apps.get(
      'default',
    ) as AppConfig;
    const refused = await call(closed, 'mp', { path: '/cgi-bin/ok', body: {} }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DependencyError);
    expect(refused).not.toBeInstanceOf(UncertainOutcomeError);
    expect(await post('/cgi-bin/ok')).toEqual({ errcode: 0, errmsg: 'ok', kf_list: [] });
  });
});

describe('a call that delivers a message to a customer', () => {
  const deliver = (path: string) => call(app, 'mp', { path, body: { touser: 'o1' }, delivers: true });

  it('reads any HTTP error status as an unknown outcome: a gateway may refuse after the platform acted', async () => {
    const failure = await deliver('/cgi-bin/unknown').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UncertainOutcomeError);
    expect(failure).toMatchObject({ message: expect.stringContaining('HTTP 404') });
  });

  it('reads a deadline that passed before the request left as not sent, never as an unknown outcome', async () => {
    const error = await call(app, 'mp', {
      path: '/cgi-bin/message/custom/send',
      body: { touser: 'o1' },
      delivers: true,
      signal: AbortSignal.abort(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).not.toBeInstanceOf(UncertainOutcomeError);
    expect(error).toMatchObject({ message: expect.stringContaining('not sent'), retryable: true });
  });

  it('reads an answer without an errcode as an unknown outcome, where a read takes it as success', async () => {
    expect(await deliver('/cgi-bin/empty').catch((error: unknown) => error)).toBeInstanceOf(
      UncertainOutcomeError,
    );
    expect(await post('/cgi-bin/empty')).toEqual({});
  });
});

describe("the caller's log", () => {
  it("takes a call's lines where the call says, and to the client's log otherwise", async () => {
    const clientLog = recordingLog();
    const callerLog = recordingLog();
    const logged = createPlatformClient({ tokens, log: clientLog.log, meter: NO_METRICS });
    const refusal = (path: string) => ['platform refused', expect.objectContaining({ path })];
    await logged(app, 'mp', { path: '/cgi-bin/kf/send_msg', body: {}, log: callerLog.log }).catch(() => {});
    await logged(app, 'mp', { path: '/cgi-bin/busy', body: {} }).catch(() => {});

    expect(callerLog.lines).toEqual([{ level: 'warn', args: refusal('/cgi-bin/kf/send_msg') }]);
    expect(clientLog.lines).toEqual([{ level: 'warn', args: refusal('/cgi-bin/busy') }]);
  });

  it("hands the caller's log and deadline to the token provider", async () => {
    const callerLog = recordingLog();
    const asked: unknown[] = [];
    const watched = {
      getToken: async (...args: unknown[]) => {
        asked.push(args[2]);
        return 'token';
      },
      invalidate: async () => {},
    } as unknown as TokenProvider;
    const signal = new AbortController().signal;
    const logged = createPlatformClient({ tokens: watched, log: recordingLog().log, meter: NO_METRICS });
    await logged(app, 'mp', { path: '/cgi-bin/ok', log: callerLog.log, signal });
    expect(asked).toEqual([{ log: callerLog.log, signal }]);
  });
});

describe('multipart uploads', () => {
  const file = { data: Buffer.from([0xff, 0xd8, 0xff]), filename: 'a.jpg', contentType: 'image/jpeg' };

  it('reads a JSON answer sent as text/plain, so a refusal is not taken for success', async () => {
    const multipart = createPlatformMultipart({ tokens, log: recordingLog().log, meter: NO_METRICS });
    const refused = await multipart(app, 'mp', {
      path: '/customservice/kfaccount/uploadheadimg',
      query: { kf_account: 'a@b' },
      file,
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PlatformError);
    expect(refused).toMatchObject({ errcode: 40005 });
    const upload = createPlatformUpload({ tokens, log: recordingLog().log, meter: NO_METRICS });
    expect(await upload(app, 'mp', { type: 'thumb', file })).toEqual({
      mediaId: 'THUMB',
      createdAt: 1486032778_000,
    });
  });
});

describe('refusal metrics', () => {
  it('counts each refusal by errcode range for the alarms, and by platform, operation and errcode', async () => {
    const output = captureOutput();
    try {
      const metrics = createMetrics('sender', createLogger('sender'), 'test');
      const counting = createPlatformClient({ tokens, log: recordingLog().log, meter: meterOf(metrics) });
      for (const path of ['/cgi-bin/kf/send_msg', '/cgi-bin/busy'])
        await expect(counting(app, 'mp', { path, body: {} })).rejects.toBeInstanceOf(PlatformError);
      // An answer that is no refusal counts nothing.
      await counting(app, 'mp', { path: '/cgi-bin/ok' });
      metrics.publishStoredMetrics();

      const counted = { namespace: METRICS_NAMESPACE, unit: 'Count', value: 1 };
      const byFunction = { service: 'sender', stage: 'test' };
      expect(output.metric('PlatformRefusals')).toEqual([
        {
          ...counted,
          dimensions: [['service', 'stage', 'errcodeRange']],
          values: { ...byFunction, errcodeRange: '95xxx' },
        },
        {
          ...counted,
          dimensions: [['service', 'stage', 'platform', 'operation', 'errcode']],
          values: { ...byFunction, platform: 'mp', operation: '/cgi-bin/kf/send_msg', errcode: '95001' },
        },
        {
          ...counted,
          dimensions: [['service', 'stage', 'errcodeRange']],
          values: { ...byFunction, errcodeRange: '45xxx' },
        },
        {
          ...counted,
          dimensions: [['service', 'stage', 'platform', 'operation', 'errcode']],
          values: { ...byFunction, platform: 'mp', operation: '/cgi-bin/busy', errcode: '45033' },
        },
      ]);
      // Every invocation flushes; one with nothing counted says so at debug level only.
      expect(output.logs().filter((line) => line.level === 'WARN')).toEqual([]);
    } finally {
      output.restore();
    }
  });
});
