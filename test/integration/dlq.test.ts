import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import { adminDeps } from '../../lib/admin/wiring';
import { parseConfig } from '../../lib/config/config';
import { DeadLetters } from '../../lib/dlq/deadLetters';
import { dlqPairs } from '../../lib/dlq/queues';
import { RedriveRecords } from '../../lib/dlq/redriveRecords';
import type { Log } from '../../lib/logger';
import { NO_METRICS } from '../../lib/metrics';
import { SendLedger } from '../../lib/outbound/sendLedger';
import { runCliOn, startAdminApi } from '../support/adminApi';
import { drain, itemStores, localS3Objects, purge, sqsClient } from '../support/aws';
import { createQueuePairs } from '../support/deadLetterQueues';
import { recordingLog } from '../support/recording';
import { testEnv } from '../support/wechat';

const KEY = 'admin-test-key-0123456789';
const sqs = sqsClient();
/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
const ledger = new SendLedger(items, testEnv.STATE_TABLE);
const queues: Record<string, string> = {};
const LOGICAL_IDS = {
  SyncJobs: 'SyncJobsQueue',
  SyncJobsDlq: 'SyncJobsDlq',
  Inbound: 'InboundQueue',
  InboundDlq: 'InboundDlq',
  Outbound: 'OutboundQueue',
  OutboundDlq: 'OutboundDlq',
};
let api: { url: string; stop(): Promise<void> };
let config: ReturnType<typeof parseConfig>;

beforeAll(async () => {
  const created = await createQueuePairs(sqs);
  for (const [queue, id] of Object.entries(LOGICAL_IDS)) queues[queue] = created.urls[id] ?? '';
  config = parseConfig({ ...testEnv, ...created.env, ADMIN_API_KEY: KEY });
  api = await startAdminApi(adminDeps(config, items, localS3Objects(), sqs, recordingLog().log, NO_METRICS));
});
afterAll(() => api.stop());
beforeEach(() => purge(sqs, ...Object.values(queues)));

let sequence = 0;
/** Puts a message in a dead-letter queue as SQS would have moved it there; answers its message id. */
async function deadLetter(queue: 'SyncJobs' | 'Inbound' | 'Outbound', groupId: string, body: object) {
  const { MessageId } = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues[`${queue}Dlq`],
      MessageBody: JSON.stringify(body),
      MessageGroupId: groupId,
      MessageDeduplicationId: `dead-${Date.now()}-${sequence++}`,
    }),
  );
  return MessageId ?? '';
}

const unique = (name: string) => `${name}-${Date.now().toString(36)}-${sequence++}`;
const reply = (requestId: string, customer = 'wmCustomer') => ({
  schema: 'kf-bridge.outbound/v1',
  app: 'default',
  channel: 'kf',
  requestId,
  openKfId: 'wkAccount',
  externalUserId: customer,
  message: { type: 'text', content: `reply ${requestId}` },
});
const group = (customer = 'wmCustomer') => `default#wkAccount#${customer}`;

async function failed(requestId: string, errcode: number, reason: string) {
  await ledger.queue('default', requestId, Date.now());
  await ledger.record('default', requestId, { status: 'failed', errcode, reason, at: Date.now() });
}

const cli = (...args: string[]) => runCliOn(api.url, KEY, args);

const bodies = (messages: { Body?: string }[]) => messages.map((m) => JSON.parse(m.Body ?? '{}').requestId);

describe('dlq list and show', () => {
  it("lists each message with why it failed: the send ledger's outcome for a reply, and reads without consuming", async () => {
    const failedId = unique('failed');
    const queuedId = unique('queued');
    const sentId = unique('sent');
    await failed(failedId, 95018, 'the session is over 48 h');
    await ledger.queue('default', queuedId, Date.now());
    await ledger.queue('default', sentId, Date.now());
    await ledger.record('default', sentId, { status: 'sent', msgid: 'm-sent', at: Date.now() });
    const ids = [
      await deadLetter('Outbound', group('a'), reply(failedId, 'a')),
      await deadLetter('Outbound', group('b'), reply(queuedId, 'b')),
      await deadLetter('Outbound', group('c'), reply(sentId, 'c')),
    ];

    const listed = await cli('dlq', 'list', 'outbound', '--json');
    expect(listed.code).toBe(EXIT.done);
    expect(listed.json.total).toBe(3);
    expect(listed.json.unlisted).toBe(0);
    const byRequest = Object.fromEntries(
      (listed.json.messages as Record<string, unknown>[]).map((m) => [m.requestId, m]),
    );
    expect(byRequest[failedId]).toMatchObject({
      messageId: ids[0],
      groupId: group('a'),
      app: 'default',
      ledger: 'failed',
      reason: 'failed (errcode 95018): the session is over 48 h',
      redrivable: true,
    });
    expect(byRequest[queuedId]).toMatchObject({
      ledger: 'queued',
      reason: 'not sent; the send ledger still says queued',
      redrivable: true,
    });
    expect(byRequest[sentId]).toMatchObject({
      ledger: 'sent',
      reason: 'already sent as msgid m-sent; redriving would send it twice',
      redrivable: false,
    });

    // Put back where they were: listed again, each read once more.
    const table = await cli('dlq', 'list', 'outbound');
    expect(table.stdout).toMatch(
      /message id\s+group id\s+receives\s+first received at\s+app\s+request id\s+ledger\s+reason/,
    );
    const again = await cli('dlq', 'list', 'outbound', '--json');
    const receives = (again.json.messages as { messageId: string; receives: number }[]).map((m) => [
      m.messageId,
      m.receives,
    ]);
    expect(receives.sort()).toEqual(ids.map((id) => [id, 3]).sort());
  });

  it('names the kf account of a sync job and the id of an inbound message; show gives body and attributes, without the Token', async () => {
    const job = {
      schema: 'kf-bridge.sync-job/v1',
      app: 'default',
      openKfId: 'wkStuck',
      token: 'callback-token-value',
      receivedAt: new Date().toISOString(),
    };
    const jobId = await deadLetter('SyncJobs', 'default#wkStuck', job);
    const jobs = await cli('dlq', 'list', 'sync-jobs', '--json');
    expect(jobs.json.messages).toEqual([
      expect.objectContaining({
        messageId: jobId,
        openKfId: 'wkStuck',
        reason: "pulling kf account wkStuck failed on every receive; the sync puller's logs say why",
      }),
    ]);
    const shown = await cli('dlq', 'show', 'sync-jobs', jobId, '--json');
    expect(shown.code).toBe(EXIT.done);
    expect(shown.json.body).toEqual({ ...job, token: '(hidden)' });
    expect(shown.json.attributes).toMatchObject({ MessageGroupId: 'default#wkStuck' });
    expect(shown.stdout).not.toContain('callback-token-value');

    const inboundId = await deadLetter('Inbound', 'default#wkA#wmB', { app: 'default', id: 'msg-1' });
    expect((await cli('dlq', 'list', 'inbound', '--json')).json.messages).toEqual([
      expect.objectContaining({ messageId: inboundId, inboundId: 'msg-1', redrivable: true }),
    ]);
    const missing = await cli('dlq', 'show', 'inbound', 'no-such-message');
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain(
      'no message no-such-message can be read in the inbound dead-letter queue now',
    );
  });
  it("shows a reply WeCom took and then reported undelivered as not redrivable: a new send is the caller's decision", async () => {
    const requestId = unique('undelivered');
    await ledger.queue('default', requestId, Date.now());
    await ledger.indexMsgid('default', 'm-undelivered', requestId, Date.now());
    await ledger.record('default', requestId, { status: 'sent', msgid: 'm-undelivered', at: Date.now() });
    await ledger.markUndelivered('default', 'm-undelivered', 4, Date.now());
    const messageId = await deadLetter('Outbound', group('u'), reply(requestId, 'u'));
    const reason =
      "sent as msgid m-undelivered, then WeCom could not deliver it: the session expired (over 48 h); sending it again would be a new reply: the caller's to decide, through the messages API";

    const listed = await cli('dlq', 'list', 'outbound', '--json');
    expect(listed.json.messages).toEqual([
      expect.objectContaining({ messageId, ledger: 'failed', reason, redrivable: false }),
    ]);
    const redrive = await cli('dlq', 'redrive', 'outbound', '--json');
    expect(redrive.json.refusals).toEqual([expect.objectContaining({ messageId, reason })]);
    expect(await drain(sqs, queues.Outbound ?? '')).toEqual([]);
  });
});

describe('dlq redrive', () => {
  it('sends a group back in its order, queues its replies again, and refuses a sent one, holding its group behind it', async () => {
    const [a1, a2, a3, b1, b2] = ['a1', 'a2', 'a3', 'b1', 'b2'].map(unique) as string[];
    await failed(a1 as string, 95018, 'the session is over 48 h');
    await ledger.queue('default', a2 as string, Date.now());
    // a3: never noted in the ledger (an event reply the puller queued).
    await ledger.queue('default', b1 as string, Date.now());
    await ledger.record('default', b1 as string, { status: 'sent', msgid: 'm-b1', at: Date.now() });
    await failed(b2 as string, 95018, 'the session is over 48 h');
    for (const id of [a1, a2, a3]) await deadLetter('Outbound', group('a'), reply(id as string, 'a'));
    for (const id of [b1, b2]) await deadLetter('Outbound', group('b'), reply(id as string, 'b'));

    // Read first: reading puts every message back where it was.
    expect((await cli('dlq', 'list', 'outbound', '--json')).json.messages).toHaveLength(5);
    const redrive = await cli('dlq', 'redrive', 'outbound', '--json');
    expect(redrive.code).toBe(EXIT.refused);
    expect(redrive.json).toMatchObject({ redriven: 3, refused: 1, more: false });
    expect(redrive.json.refusals).toEqual([
      expect.objectContaining({
        groupId: group('b'),
        reason: 'already sent as msgid m-b1; redriving would send it twice',
      }),
    ]);

    const source = await drain(sqs, queues.Outbound ?? '');
    expect(bodies(source)).toEqual([a1, a2, a3]);
    expect(source.map((m) => m.Attributes?.MessageGroupId)).toEqual([group('a'), group('a'), group('a')]);
    for (const id of [a1, a2, a3])
      expect((await ledger.read('default', id as string))?.status).toBe('queued');
    expect((await ledger.read('default', a1 as string))?.reason).toBe(
      'sent back from the dead-letter queue; it was: failed (errcode 95018): the session is over 48 h',
    );
    expect((await ledger.read('default', b1 as string))?.status).toBe('sent');
    expect((await ledger.read('default', b2 as string))?.status).toBe('failed');
    const left = await cli('dlq', 'list', 'outbound', '--json');
    expect(left.json.total).toBe(2);
    expect((left.json.messages as { requestId: string }[]).map((m) => m.requestId)).toEqual([b1, b2]);
  });

  it('redrives one message only when it is the first of its group, and refuses an uncertain reply', async () => {
    const [first, second, unsure] = ['first', 'second', 'unsure'].map(unique) as string[];
    const firstId = await deadLetter('Outbound', group('a'), reply(first as string, 'a'));
    const secondId = await deadLetter('Outbound', group('a'), reply(second as string, 'a'));
    await ledger.queue('default', unsure as string, Date.now());
    await ledger.record('default', unsure as string, {
      status: 'uncertain',
      reason: 'no answer from MP',
      at: Date.now(),
    });
    const unsureId = await deadLetter('Outbound', group('c'), reply(unsure as string, 'c'));

    const behind = await cli('dlq', 'redrive', 'outbound', '--message-id', secondId, '--json');
    expect(behind.code).toBe(EXIT.refused);
    expect(behind.json.refusals).toEqual([
      {
        messageId: secondId,
        groupId: group('a'),
        reason: 'earlier messages of its group are in the dead-letter queue: redrive them first, or all',
      },
    ]);
    expect((await cli('dlq', 'redrive', 'outbound', '--message-id', firstId, '--json')).json).toMatchObject({
      redriven: 1,
      refused: 0,
    });
    const uncertain = await cli('dlq', 'redrive', 'outbound', '--message-id', unsureId, '--json');
    expect(uncertain.json.refusals).toEqual([
      expect.objectContaining({
        reason: 'uncertain: no answer from MP; not redriven, as it may have reached the customer',
      }),
    ]);
    expect((await ledger.read('default', unsure as string))?.status).toBe('uncertain');
    expect(bodies(await drain(sqs, queues.Outbound ?? ''))).toEqual([first]);
  });
});

describe('dlq discard', () => {
  it('deletes the message and marks a reply still queued failed with the reason; a settled outcome stays', async () => {
    const [queued, sent] = ['queued', 'sent'].map(unique) as string[];
    await ledger.queue('default', queued as string, Date.now());
    await ledger.queue('default', sent as string, Date.now());
    await ledger.record('default', sent as string, { status: 'sent', msgid: 'm-s', at: Date.now() });
    const queuedId = await deadLetter('Outbound', group('a'), reply(queued as string, 'a'));
    const sentId = await deadLetter('Outbound', group('b'), reply(sent as string, 'b'));

    const noReason = await cli('dlq', 'discard', 'outbound', queuedId);
    expect(noReason.code).toBe(EXIT.usage);
    expect(noReason.stderr).toContain('--reason');

    const gaveUp = await cli(
      'dlq',
      'discard',
      'outbound',
      queuedId,
      '--reason',
      'the customer left',
      '--json',
    );
    expect(gaveUp.json).toEqual({
      queue: 'outbound',
      messageId: queuedId,
      outcome: 'discarded',
      ledger: 'failed',
    });
    expect(await ledger.read('default', queued as string)).toMatchObject({
      status: 'failed',
      reason: 'given up in the dead-letter queue: the customer left',
    });
    const settled = await cli('dlq', 'discard', 'outbound', sentId, '--reason', 'done', '--json');
    expect(settled.json).toMatchObject({ outcome: 'discarded', ledger: 'sent' });
    expect((await cli('dlq', 'list', 'outbound', '--json')).json.total).toBe(0);
  });
});

/** The dead-letter queues with their own clients, so a test can make one call fail. */
function deadLetters(
  options: { sqs?: SQSClient; records?: RedriveRecords; now?: () => number; log?: Log } = {},
) {
  return new DeadLetters({
    sqs: options.sqs ?? sqs,
    pairOf: dlqPairs(options.sqs ?? sqs, config),
    ledger,
    records: options.records ?? new RedriveRecords(items, testEnv.STATE_TABLE),
    now: options.now ?? Date.now,
    log: options.log ?? recordingLog().log,
  });
}

describe('messages out of sight', () => {
  /** What another read leaves (a trace, or a list whose call timed out): messages out of sight for a while. */
  const holdElsewhere = (queueUrl: string) =>
    sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
    );

  it('held by another read, redrive and list say so and when to retry, rather than answering empty', async () => {
    await deadLetter('Inbound', 'default#wkA#wmHeld', { app: 'default', id: unique('held') });
    await holdElsewhere(queues.InboundDlq ?? '');
    const retry =
      '1 message is out of sight: another read of the dead-letter queue holds it for up to 30 s; run it again in 30 seconds';

    const redrive = await cli('dlq', 'redrive', 'inbound', '--json');
    expect(redrive.json).toMatchObject({ redriven: 0, refused: 0, unseen: 1, more: true, note: retry });
    const listed = await cli('dlq', 'list', 'inbound', '--json');
    expect(listed.json).toMatchObject({ total: 1, unseen: 1, messages: [], note: retry });
  });

  it('not put back after reading: retried once, and what is still held is counted and logged', async () => {
    for (const id of ['h1', 'h2']) await deadLetter('Outbound', group(id), reply(unique(id), id));
    /** A client whose visibility changes fail for one message, `times` times. */
    const failingRelease = (times: number) => {
      const client = sqsClient();
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { Entries?: { Id?: string; ReceiptHandle?: string }[] };
          const [first, ...rest] = input.Entries ?? [];
          if (context.commandName === 'ChangeMessageVisibilityBatchCommand' && times-- > 0 && first)
            input.Entries = [{ ...first, ReceiptHandle: 'not-a-receipt-handle' }, ...rest];
          return next(args);
        },
        { step: 'initialize', name: 'failingRelease' },
      );
      return client;
    };

    const once = await deadLetters({ sqs: failingRelease(1) }).list('outbound', 10);
    expect(once.messages).toHaveLength(2);
    expect(once).not.toHaveProperty('unreleased');
    expect((await deadLetters().list('outbound', 10)).messages).toHaveLength(2);

    const recorded = recordingLog();
    const stuck = await deadLetters({ sqs: failingRelease(2), log: recorded.log }).list('outbound', 10);
    expect(stuck).toMatchObject({ unreleased: 1 });
    expect(recorded.lines).toContainEqual({
      level: 'warn',
      args: [
        'dead-letter messages not put back in sight; they come back when their hold ends',
        { queue: 'outbound', unreleased: 1, holdSeconds: 30 },
      ],
    });
    expect((await deadLetters().list('outbound', 10)).unseen).toBe(1);
  });
});

describe('a redrive cut short', () => {
  const inbound = (id: string) => ({ app: 'default', id });
  const fiveMinutesOn = () => Date.now() + 5 * 60_000;
  /** Records that die between sending a message back and recording it. */
  function forgetful() {
    const records = new RedriveRecords(items, testEnv.STATE_TABLE);
    return Object.assign(Object.create(records), {
      markSent: async () => {
        throw new Error('the function timed out');
      },
    }) as RedriveRecords;
  }

  it('between sending back and deleting from the dead-letter queue: the rerun delivers each message once, in order', async () => {
    const ids = ['m1', 'm2', 'm3'].map(unique);
    for (const id of ids) await deadLetter('Inbound', 'default#wkA#wmC', inbound(id));
    const failing = sqsClient();
    let deletes = 0;
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteMessageCommand' && deletes++ === 1)
          throw new Error('the function timed out');
        return next(args);
      },
      { step: 'initialize', name: 'cutShort' },
    );
    await expect(deadLetters({ sqs: failing }).redrive('inbound', {})).rejects.toThrow(
      'could not delete from the inbound dead-letter queue',
    );
    expect(await deadLetters().redrive('inbound', {})).toMatchObject({ redriven: 2, refused: 0 });
    const delivered = (await drain(sqs, queues.Inbound ?? '')).map((m) => JSON.parse(m.Body ?? '{}').id);
    expect(delivered).toEqual(ids);
  });

  it('between sending back and recording it: a rerun within SQS deduplication sends again, absorbed; later an inbound message waits for --resend', async () => {
    const [early, late] = ['early', 'late'].map(unique) as string[];
    await deadLetter('Inbound', 'default#wkA#wmEarly', inbound(early as string));
    await expect(deadLetters({ records: forgetful() }).redrive('inbound', {})).rejects.toThrow('timed out');
    expect(await deadLetters().redrive('inbound', {})).toMatchObject({ redriven: 1 });
    expect((await drain(sqs, queues.Inbound ?? '')).map((m) => JSON.parse(m.Body ?? '{}').id)).toEqual([
      early,
    ]);

    const lateId = await deadLetter('Inbound', 'default#wkA#wmLate', inbound(late as string));
    await expect(deadLetters({ records: forgetful() }).redrive('inbound', {})).rejects.toThrow('timed out');
    await drain(sqs, queues.Inbound ?? '');
    const refused = await deadLetters({ now: fiveMinutesOn }).redrive('inbound', {});
    expect(refused.redriven).toBe(0);
    expect(refused.refusals).toEqual([
      expect.objectContaining({
        messageId: lateId,
        reason: expect.stringContaining(
          'was cut short and may have sent it back already; SQS absorbs a repeat only when a redrive is rerun within 4 minutes, or --resend',
        ),
      }),
    ]);
    expect(await drain(sqs, queues.Inbound ?? '')).toEqual([]);

    // Sent again (SQS still absorbs the copy here: only the test's clock is 5 minutes on) and gone from the DLQ.
    const resent = await deadLetters({ now: fiveMinutesOn }).redrive('inbound', { resend: true });
    expect(resent).toMatchObject({ redriven: 1, refused: 0 });
    expect((await deadLetters().list('inbound', 10)).total).toBe(0);
  });

  it('a sync job cut short is sent again however late: pulling again is harmless', async () => {
    await deadLetter('SyncJobs', 'default#wkLate', { app: 'default', openKfId: 'wkLate' });
    await expect(deadLetters({ records: forgetful() }).redrive('sync-jobs', {})).rejects.toThrow('timed out');
    expect(await drain(sqs, queues.SyncJobs ?? '')).toHaveLength(1);
    const rerun = await deadLetters({ now: fiveMinutesOn }).redrive('sync-jobs', {});
    expect(rerun).toMatchObject({ redriven: 1, refused: 0 });
    expect((await deadLetters().list('sync-jobs', 10)).total).toBe(0);
  });

  it('a send SQS refused outright gives the claim back: a rerun however late sends the group in order', async () => {
    const ids = ['r1', 'r2'].map(unique);
    for (const id of ids) await deadLetter('Inbound', 'default#wkA#wmRefused', inbound(id));
    const refusing = sqsClient();
    refusing.middlewareStack.add(
      (next, context) => async (args) => {
        // A queue that does not exist: SQS answers with an error, and takes nothing.
        if (context.commandName === 'SendMessageCommand')
          Object.assign(args.input as object, { QueueUrl: `${queues.Inbound}-missing` });
        return next(args);
      },
      { step: 'initialize', name: 'refused' },
    );
    await expect(deadLetters({ sqs: refusing }).redrive('inbound', {})).rejects.toThrow(
      'could not send back to the inbound queue',
    );
    expect(await drain(sqs, queues.Inbound ?? '')).toEqual([]);
    expect(await deadLetters({ now: fiveMinutesOn }).redrive('inbound', {})).toMatchObject({
      redriven: 2,
      refused: 0,
    });
    expect((await drain(sqs, queues.Inbound ?? '')).map((m) => JSON.parse(m.Body ?? '{}').id)).toEqual(ids);
  });

  it('a rerun after the sender settled the copy sent back leaves its outcome: the reply is requeued once', async () => {
    const requestId = unique('settled');
    await failed(requestId, 95018, 'the session is over 48 h');
    await deadLetter('Outbound', group('s'), reply(requestId, 's'));
    await expect(deadLetters({ records: forgetful() }).redrive('outbound', {})).rejects.toThrow('timed out');
    expect(await drain(sqs, queues.Outbound ?? '')).toHaveLength(1);
    await ledger.record('default', requestId, {
      status: 'failed',
      errcode: 95018,
      reason: 'the session is still over 48 h',
      at: Date.now(),
    });

    expect(await deadLetters().redrive('outbound', {})).toMatchObject({ redriven: 1, refused: 0 });
    expect(await drain(sqs, queues.Outbound ?? '')).toEqual([]);
    expect(await ledger.read('default', requestId)).toMatchObject({
      status: 'failed',
      reason: 'the session is still over 48 h',
    });
    expect((await cli('dlq', 'list', 'outbound', '--json')).json.total).toBe(0);
  });
});
