import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BudgetChange } from '../../../lib/budgets';
import { type CallbackRequest, handleCallback } from '../../../lib/callback/handleCallback';
import type { Claim, Push } from '../../../lib/callback/replayGuard';
import { parseInboundMessage } from '../../../lib/contracts/inbound';
import { parseSyncJob } from '../../../lib/contracts/syncJob';
import { encrypt, signature } from '../../../lib/crypto/wxBizMsgCrypt';
import { DependencyError, UnauthorizedError } from '../../../lib/errors';
import { recordingMeter } from '../../support/metrics';
import { recordingLog, recordingPublisher } from '../../support/recording';
import {
  kfEventXml,
  mpCipher,
  mpPost,
  mpTextXml,
  mpVerify,
  testConfig,
  testEnv,
  wecomCipher,
  wecomPost,
  wecomVerify,
} from '../../support/wechat';

/** The replay guard's contract, in memory; the DynamoDB guard is held to it in test/integration/callback.test.ts. */
function memoryReplays() {
  const seen = new Map<string, { body: string; processed: boolean; expiresAt: number }>();
  const key = (push: Push) => [push.app, push.timestamp, push.nonce, push.signature].join('\n');
  return {
    seen,
    claim: async (push: Push, expiresAt: number): Promise<Claim> => {
      const known = seen.get(key(push));
      if (known && known.body !== push.body)
        throw new UnauthorizedError('timestamp, nonce and signature were already used with another body');
      seen.set(key(push), { body: push.body, processed: known?.processed ?? false, expiresAt });
      if (!known) return 'new';
      return known.processed ? 'processed' : 'unfinished';
    },
    processed: async (push: Push) => {
      const known = seen.get(key(push));
      if (known) known.processed = true;
    },
  };
}

function setup(overrides: Record<string, string> = {}) {
  const { publish, published } = recordingPublisher();
  const { log, lines, textAboveDebug } = recordingLog();
  // What the callback tells the reply budgets, in the order it does so relative to publishing.
  const events: string[] = [];
  const budgets = {
    apply: async (change: BudgetChange) => {
      events.push(`budget ${change.customer} ${change.lastCustomerMessageAt ?? change.lastEventAt}`);
    },
  };
  const recorded = async (...args: Parameters<typeof publish>) => {
    events.push('publish');
    return publish(...args);
  };
  const replays = memoryReplays();
  const { meter, records } = recordingMeter();
  const deps = {
    config: testConfig(overrides),
    publish: recorded,
    budgets,
    replays,
    now: () => new Date(),
    log,
    meter,
  };
  return {
    deps,
    records,
    events,
    replays,
    published,
    lines,
    textAboveDebug,
    call: (request: CallbackRequest) => handleCallback(request, deps),
  };
}

/** Re-signs a request whose payload was tampered with, so the fault under test is reached past the signature. */
function signedWith(request: CallbackRequest, encrypted: string): CallbackRequest {
  const { timestamp = '', nonce = '' } = request.query;
  return {
    ...request,
    query: { ...request.query, msg_signature: signature(wecomCipher.token, timestamp, nonce, encrypted) },
    body: `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
  };
}

describe('WeCom URL verification (GET)', () => {
  it('answers the bare decrypted echostr', async () => {
    const { call } = setup();
    await expect(call(wecomVerify('1288432023552776189'))).resolves.toEqual({
      status: 200,
      body: '1288432023552776189',
    });
  });

  it('answers 401 to a wrong signature', async () => {
    const { call } = setup();
    const request = wecomVerify('123');
    await expect(
      call({ ...request, query: { ...request.query, msg_signature: '0'.repeat(40) } }),
    ).rejects.toMatchObject({
      status: 401,
      message: 'msg_signature does not match',
    });
  });

  it('answers 400 without echostr, and to an echostr encrypted for another corp', async () => {
    const { call } = setup();
    const request = wecomVerify('123');
    await expect(call({ ...request, query: { ...request.query, echostr: undefined } })).rejects.toMatchObject(
      { status: 400 },
    );
    await expect(call(wecomVerify('123', { ...wecomCipher, receiveId: 'wwother' }))).rejects.toMatchObject({
      status: 400,
      message: 'receive id does not match this app',
    });
  });
});

describe('WeCom event (POST)', () => {
  it('enqueues one sync job for kf_msg_or_event, grouped by kf account', async () => {
    const { call, published } = setup();
    const response = await call(wecomPost(kfEventXml('wkAAA', 'ENCtoken1')));
    expect(response).toEqual({ status: 200, body: 'success' });
    expect(published).toHaveLength(1);
    const [{ queueUrl, message }] = published as [(typeof published)[0]];
    expect(queueUrl).toBe(testEnv.SYNC_JOBS_QUEUE_URL);
    expect(message.groupId).toBe('default#wkAAA');
    expect(message.deduplicationId).toBe(
      createHash('sha256').update('default#wkAAA#ENCtoken1').digest('hex'),
    );
    expect(parseSyncJob(JSON.parse(message.body))).toMatchObject({
      app: 'default',
      openKfId: 'wkAAA',
      token: 'ENCtoken1',
    });
  });

  it("gives WeCom's retries of one callback the same deduplication id", async () => {
    const { call, published } = setup();
    await call(wecomPost(kfEventXml('wkAAA', 'ENCtoken1')));
    await call(wecomPost(kfEventXml('wkAAA', 'ENCtoken1')));
    await call(wecomPost(kfEventXml('wkAAA', 'ENCtoken2')));
    const ids = published.map(({ message }) => message.deduplicationId);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it("answers WeCom's retry of a push success with the same job, keeping no record; another body on its triple 401", async () => {
    const { call, published, replays } = setup();
    const push = wecomPost(kfEventXml('wkAAA', 'ENCtoken1'));
    await expect(call(push)).resolves.toEqual({ status: 200, body: 'success' });
    await expect(call(push)).resolves.toEqual({ status: 200, body: 'success' });
    const other = signedWith(push, encrypt(wecomCipher, kfEventXml('wkAAA', 'ENCtoken1')));
    await expect(call({ ...other, query: push.query })).rejects.toMatchObject({ status: 401 });
    // msg_signature covers the ciphertext, so the signature check refuses another body; the same one is the
    // same job, which SQS FIFO drops: one SendMessage per push is the callback's whole cost.
    expect(published.map(({ message }) => message.deduplicationId)).toEqual([
      published[0]?.message.deduplicationId,
      published[0]?.message.deduplicationId,
    ]);
    expect(replays.seen.size).toBe(0);
  });

  it('answers success to any other message or event, logs it at info and enqueues nothing', async () => {
    const { call, published, lines } = setup();
    const plain = `<xml><ToUserName><![CDATA[${testEnv.WECOM_CORP_ID}]]></ToUserName><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_account_auth_change]]></Event></xml>`;
    await expect(call(wecomPost(plain))).resolves.toEqual({ status: 200, body: 'success' });
    expect(published).toEqual([]);
    expect(lines.find((line) => line.level === 'info')?.args[1]).toMatchObject({
      event: 'kf_account_auth_change',
    });
  });

  it('answers 400 to a kf_msg_or_event without OpenKfId', async () => {
    const { call, published } = setup();
    const plain = kfEventXml('wkAAA', 'ENCtoken1').replace(/<OpenKfId>.*<\/OpenKfId>/, '');
    await expect(call(wecomPost(plain))).rejects.toMatchObject({
      status: 400,
      message: 'kf_msg_or_event has no <OpenKfId>',
    });
    expect(published).toEqual([]);
  });

  it.each([
    [
      'a wrong signature',
      (r: CallbackRequest) => ({ ...r, query: { ...r.query, msg_signature: 'f'.repeat(40) } }),
      401,
    ],
    [
      'no signature',
      (r: CallbackRequest) => ({ ...r, query: { ...r.query, msg_signature: undefined } }),
      401,
    ],
    [
      'a non-numeric timestamp',
      (r: CallbackRequest) => ({ ...r, query: { ...r.query, timestamp: 'now' } }),
      401,
    ],
    ['malformed XML', (r: CallbackRequest) => ({ ...r, body: '<xml><Encrypt>' }), 400],
    [
      'no Encrypt element',
      (r: CallbackRequest) => ({ ...r, body: '<xml><ToUserName>x</ToUserName></xml>' }),
      400,
    ],
    [
      'an XXE body',
      (r: CallbackRequest) => ({
        ...r,
        body: '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
      }),
      400,
    ],
    ['bad base64', (r: CallbackRequest) => signedWith(r, 'not*base64'), 400],
    ['a partial AES block', (r: CallbackRequest) => signedWith(r, Buffer.alloc(40).toString('base64')), 400],
    ['bad padding', (r: CallbackRequest) => signedWith(r, Buffer.alloc(64).toString('base64')), 400],
    [
      'another corp as receive id',
      (r: CallbackRequest) => signedWith(r, encrypt({ ...wecomCipher, receiveId: 'wwother' }, '<xml/>')),
      400,
    ],
    ['an unknown app', (r: CallbackRequest) => ({ ...r, app: 'nope' }), 404],
    ['another method', (r: CallbackRequest) => ({ ...r, method: 'PUT' }), 405],
  ])('refuses %s and enqueues nothing', async (_, tamper, status) => {
    const { call, published } = setup();
    await expect(call(tamper(wecomPost(kfEventXml('wkAAA', 'ENCtoken1'))))).rejects.toMatchObject({ status });
    expect(published).toEqual([]);
  });

  it('answers 401 to a timestamp outside the clock skew, unless the check is off', async () => {
    const stale = String(Math.floor(Date.now() / 1000) - 301);
    await expect(
      setup().call(wecomPost(kfEventXml('wkAAA', 't'), { timestamp: stale })),
    ).rejects.toMatchObject({
      status: 401,
      message: 'timestamp is outside the allowed clock skew',
    });
    const relaxed = setup({ CALLBACK_MAX_CLOCK_SKEW_SECONDS: '0', KF_BRIDGE_STAGE: 'local' });
    await expect(
      relaxed.call(wecomPost(kfEventXml('wkAAA', 't'), { timestamp: '1348831860' })),
    ).resolves.toMatchObject({
      status: 200,
    });
  });

  it('keeps tokens, secrets and decrypted bodies out of logs above debug', async () => {
    const { call, textAboveDebug } = setup();
    await call(wecomPost(kfEventXml('wkAAA', 'ENCsecretCallbackToken')));
    await call(wecomPost('<xml><MsgType>text</MsgType><Content>private words</Content></xml>'));
    await call(mpPost(mpTextXml('oCustomer', 'private mp words', '1001'), { safe: true }));
    const logged = textAboveDebug();
    for (const secret of [
      'ENCsecretCallbackToken',
      'private words',
      'private mp words',
      testEnv.WECOM_KF_SECRET,
      testEnv.WECOM_CALLBACK_TOKEN,
      testEnv.MP_APP_SECRET,
    ]) {
      expect(logged).not.toContain(secret);
    }
  });
});

describe('Official Account', () => {
  it('answers the echostr to a correctly signed GET, 401 otherwise', async () => {
    const { call } = setup();
    await expect(call(mpVerify('echo-123'))).resolves.toEqual({ status: 200, body: 'echo-123' });
    await expect(call(mpVerify('echo-123', { ...mpCipher, token: 'other' }))).rejects.toMatchObject({
      status: 401,
    });
  });

  it.each([
    ['plaintext', false],
    ['safe', true],
  ])('normalises a %s-mode text into inbound.fifo, opening the reply budget first', async (_, safe) => {
    const { call, published, events } = setup(safe ? {} : { MP_ENCODING_AES_KEY: '' });
    await expect(
      call(mpPost(mpTextXml('oCustomer1', '你好, "world"', '23000001'), { safe })),
    ).resolves.toEqual({
      status: 200,
      body: 'success',
    });
    const [{ queueUrl, message }] = published as [(typeof published)[0]];
    expect(queueUrl).toBe(testEnv.INBOUND_QUEUE_URL);
    expect(message.groupId).toBe('default#oCustomer1');
    const inbound = parseInboundMessage(JSON.parse(message.body));
    expect(message.deduplicationId).toBe(
      createHash('sha256').update(`default#mp#${inbound.id}`).digest('hex'),
    );
    expect(inbound).toMatchObject({
      channel: 'mp',
      mpMsgId: '23000001',
      account: 'gh_0123456789ab',
      customer: 'oCustomer1',
      origin: 'customer',
      message: { type: 'text', content: '你好, "world"' },
    });
    expect(events).toEqual([expect.stringMatching(/^budget oCustomer1 \d+000$/), 'publish']);
  });

  it("gives two followers' messages with the same MsgId different deduplication ids, a repeated push the same", async () => {
    const { call, published } = setup();
    const push = mpTextXml('oFollowerA', 'a', '23000002');
    await call(mpPost(push, { safe: true }));
    await call(mpPost(push, { safe: true }));
    await call(mpPost(mpTextXml('oFollowerB', 'b', '23000002'), { safe: true }));
    const [first, repeated, other] = published.map(({ message }) => message.deduplicationId);
    expect(repeated).toBe(first);
    expect(other).not.toBe(first);
  });

  it('refuses a safe-mode push with a wrong msg_signature, or for an app without an AES key', async () => {
    const request = mpPost(mpTextXml('o1', 'x', '1'), { safe: true });
    await expect(
      setup().call({ ...request, query: { ...request.query, msg_signature: 'a'.repeat(40) } }),
    ).rejects.toMatchObject({
      status: 401,
    });
    await expect(setup({ MP_ENCODING_AES_KEY: '' }).call(request)).rejects.toMatchObject({ status: 400 });
  });

  it('refuses an MP push whose encrypted receive id is another app', async () => {
    const request = mpPost(mpTextXml('o1', 'x', '1'), {
      safe: true,
      cipher: { ...mpCipher, receiveId: 'wxother' },
    });
    await expect(setup().call(request)).rejects.toMatchObject({
      status: 400,
      message: 'receive id does not match this app',
    });
  });

  /** A plaintext push forged on the query of a real one: MP's `signature` covers only token, timestamp and nonce. */
  const forged = (captured: CallbackRequest, openid: string): CallbackRequest => {
    const { encrypt_type: _, msg_signature: __, ...query } = captured.query;
    return { ...captured, query, body: mpTextXml(openid, 'forged', '66600001') };
  };

  it('refuses plaintext bodies on a captured safe-mode query (an app with an AES key) with 401, enqueuing nothing', async () => {
    const { call, published } = setup();
    const captured = mpPost(mpTextXml('oReal', 'real', '23000003'), { safe: true });
    await expect(call(captured)).resolves.toEqual({ status: 200, body: 'success' });
    for (const openid of ['oForged1', 'oForged2', 'oForged3'])
      await expect(call(forged(captured, openid))).rejects.toMatchObject({
        status: 401,
        message: 'plaintext push refused: the app takes safe-mode pushes only (MP_MESSAGE_MODE)',
      });
    expect(published.map(({ message }) => parseInboundMessage(JSON.parse(message.body)).customer)).toEqual([
      'oReal',
    ]);
  });

  it('refuses other bodies on a used plaintext-mode triple with 401, enqueuing nothing', async () => {
    const { call, published, events } = setup({ MP_ENCODING_AES_KEY: '' });
    const captured = mpPost(mpTextXml('oReal', 'real', '23000004'));
    await expect(call(captured)).resolves.toEqual({ status: 200, body: 'success' });
    for (const openid of ['oForged1', 'oForged2', 'oForged3'])
      await expect(call(forged(captured, openid))).rejects.toMatchObject({
        status: 401,
        message: 'timestamp, nonce and signature were already used with another body',
      });
    expect(published).toHaveLength(1);
    expect(events).toHaveLength(2);
  });

  it('refuses other bodies on a used plaintext-mode triple however the signature is spelled', async () => {
    const { call, published } = setup({ MP_ENCODING_AES_KEY: '' });
    const captured = mpPost(mpTextXml('oReal', 'real', '23000014'));
    await call(captured);
    const recased = forged(
      {
        ...captured,
        query: { ...captured.query, signature: (captured.query.signature ?? '').toUpperCase() },
      },
      'oForged',
    );
    await expect(call(recased)).rejects.toMatchObject({ status: 401 });
    expect(published).toHaveLength(1);
  });

  it('takes a retry MP encrypted afresh after a failure (its own push), and one whose envelope was respelled as the same', async () => {
    const { call, deps, published } = setup();
    const plain = mpTextXml('oUnlucky', 'hello', '23000015');
    const first = mpPost(plain, { safe: true });
    const publish = deps.publish;
    deps.publish = async () => {
      throw new DependencyError('could not enqueue to inbound.fifo');
    };
    await expect(call(first)).rejects.toMatchObject({ status: 503 });
    deps.publish = publish;
    // MP does not say a retry is the same bytes: the same timestamp and nonce, a new ciphertext.
    const { timestamp = '', nonce = '' } = first.query;
    const encrypted = encrypt(mpCipher, plain);
    const reencrypted = {
      ...first,
      query: { ...first.query, msg_signature: signature(mpCipher.token, timestamp, nonce, encrypted) },
      body: `<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
    };
    await expect(call(reencrypted)).resolves.toEqual({ status: 200, body: 'success' });
    // The same ciphertext in a respelled envelope is the same push, done once.
    const respelled = { ...reencrypted, body: reencrypted.body.replace('<Encrypt>', '\n<Encrypt>') };
    await expect(call(respelled)).resolves.toEqual({ status: 200, body: 'success' });
    expect(published).toHaveLength(1);
  });

  it("answers MP's retry of a push success without enqueuing it or opening its budget again", async () => {
    const { call, published, events } = setup();
    const push = mpPost(mpTextXml('oRetried', 'once', '23000005'), { safe: true });
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(call(push)).resolves.toEqual({ status: 200, body: 'success' });
    expect(published).toHaveLength(1);
    expect(events).toEqual([expect.stringMatching(/^budget oRetried /), 'publish']);
  });

  it('does the work of a push that failed (503) again when MP retries it, and records it done only then', async () => {
    const { call, deps, published, replays } = setup();
    const push = mpPost(mpTextXml('oUnlucky', 'again', '23000006'), { safe: true });
    const publish = deps.publish;
    deps.publish = async () => {
      throw new DependencyError('could not enqueue to inbound.fifo');
    };
    await expect(call(push)).rejects.toMatchObject({ status: 503 });
    expect([...replays.seen.values()]).toEqual([expect.objectContaining({ processed: false })]);
    deps.publish = publish;
    await expect(call(push)).resolves.toEqual({ status: 200, body: 'success' });
    expect(published).toHaveLength(1);
    expect([...replays.seen.values()]).toEqual([expect.objectContaining({ processed: true })]);
  });

  it('takes the encrypted part of a compatible-mode push, only when the app is set to compatible mode', async () => {
    const safe = mpPost(mpTextXml('oCompat', 'encrypted words', '23000007'), { safe: true });
    const plaintext = mpTextXml('oCompat', 'plaintext words', '23000007').replace(/^<xml>|<\/xml>$/g, '');
    const compatible = { ...safe, body: safe.body.replace('<Encrypt>', `${plaintext}<Encrypt>`) };
    await expect(setup().call(compatible)).rejects.toMatchObject({
      status: 400,
      message:
        'compatible-mode push refused: the body carries plaintext beside <Encrypt> (MP_MESSAGE_MODE is safe)',
    });
    const { call, published } = setup({ MP_MESSAGE_MODE: 'compatible' });
    await expect(call(compatible)).resolves.toEqual({ status: 200, body: 'success' });
    expect(parseInboundMessage(JSON.parse(published[0]?.message.body ?? '{}')).message).toEqual({
      type: 'text',
      content: 'encrypted words',
    });
    await expect(call(forged(compatible, 'oForged'))).rejects.toMatchObject({ status: 401 });
    expect(published).toHaveLength(1);
  });

  it('takes plaintext pushes from an app with an AES key only when it is set to plaintext mode', async () => {
    const { call, published } = setup({ MP_MESSAGE_MODE: 'plaintext' });
    await expect(call(mpPost(mpTextXml('oPlain', 'hi', '23000008')))).resolves.toEqual({
      status: 200,
      body: 'success',
    });
    await expect(call(mpPost(mpTextXml('oSafe', 'hi', '23000009'), { safe: true }))).resolves.toEqual({
      status: 200,
      body: 'success',
    });
    expect(published).toHaveLength(2);
  });
});

describe('rejections are counted by platform and reason', () => {
  const otherCipher = { ...mpCipher, aesKey: Buffer.alloc(32, 7) };
  const stale = String(Math.floor(Date.now() / 1000) - 3600);
  const mpText = () => mpTextXml('oCustomer', '你好', String(Date.now()));
  it.each([
    ['mp', 'signature', () => mpPost(mpText(), { cipher: { ...mpCipher, token: 'rotated' } }), {}],
    ['mp', 'decrypt', () => mpPost(mpText(), { safe: true, cipher: otherCipher }), {}],
    ['mp', 'mode', () => mpPost(mpText()), {}],
    ['mp', 'malformed', () => ({ ...mpPost(mpText()), body: '<xml><a>' }), { MP_MESSAGE_MODE: 'plaintext' }],
    [
      'wecom',
      'signature',
      () => wecomPost(kfEventXml('wkA', 'T'), { cipher: { ...wecomCipher, token: 'x' } }),
      {},
    ],
    ['wecom', 'timestamp', () => wecomPost(kfEventXml('wkA', 'T'), { timestamp: stale }), {}],
    [
      'wecom',
      'decrypt',
      () => wecomPost(kfEventXml('wkA', 'T'), { cipher: { ...wecomCipher, aesKey: Buffer.alloc(32, 7) } }),
      {},
    ],
  ] as const)('%s %s', async (platform, reason, request, overrides) => {
    const { call, records } = setup(overrides);
    await expect(call(request())).rejects.toBeDefined();
    expect(records).toEqual([{ metric: 'CallbackRejections', value: 1, dimensions: { platform, reason } }]);
  });

  it('mp replay: another plaintext body on a used timestamp, nonce and signature', async () => {
    const { call, records } = setup({ MP_MESSAGE_MODE: 'plaintext' });
    const first = mpPost(mpTextXml('oCustomer', '你好', '1'));
    await call(first);
    await expect(call({ ...first, body: mpTextXml('oCustomer', '再见', '2') })).rejects.toBeDefined();
    expect(records.map((record) => record.dimensions)).toEqual([{ platform: 'mp', reason: 'replay' }]);
  });

  it('counts nothing for a push it takes', async () => {
    const { call, records } = setup();
    await call(wecomPost(kfEventXml('wkA', 'T1')));
    await call(mpPost(mpTextXml('oCustomer', '你好', '1'), { safe: true }));
    expect(records).toEqual([]);
  });
});
