import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { OUTBOUND_SCHEMA } from '../../lib/contracts/outbound';
import { MessageLedger } from '../../lib/inbound/ledger';
import { msgidFor } from '../../lib/outbound/sender';
import { SendLedger } from '../../lib/outbound/sendLedger';
import { peekDeadLetters } from '../../lib/trace/deadLetters';
import { type TraceDeps, traceRequest, traceSubject, unsentReplies } from '../../lib/trace/trace';
import { itemStores, localStack, sqsClient } from '../support/aws';
import { testEnv } from '../support/wechat';

const stack = localStack();
/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
const sqs = sqsClient();
const outboundDlq = stack.queues.OutboundDlq ?? '';
const CORP = 'wwTraceCorp';
const MP_APP = 'wxTraceMp';

/** Recent times: DynamoDB Local deletes items whose TTL (days after these) has passed, as DynamoDB does. */
const T0 = Date.now() - 60_000;

/** Each test its own app, so tests sharing the table and the dead-letter queue never see each other's items. */
function depsFor(app: string): TraceDeps {
  return {
    items,
    table: testEnv.STATE_TABLE,
    sqs,
    deadLetterQueues: {
      syncJobs: stack.queues.SyncJobsDlq ?? '',
      inbound: stack.queues.InboundDlq ?? '',
      outbound: outboundDlq,
    },
    apps: new Map([[app, { wecom: { corpId: `${CORP}-${app}` }, mp: { appId: `${MP_APP}-${app}` } }]]),
  };
}
const newApp = () => `t${randomUUID().slice(0, 8)}`;

async function deadLetter(body: Record<string, unknown>): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: outboundDlq,
      MessageBody: JSON.stringify(body),
      MessageGroupId: randomUUID(),
      MessageDeduplicationId: randomUUID(),
    }),
  );
}

describe('lib/trace: where a message is, from the ledgers and dead-letter queues', () => {
  it('finds a kf customer message published to inbound.fifo, and says when one is not', async () => {
    const app = newApp();
    await new MessageLedger(items, testEnv.STATE_TABLE).record(
      app,
      'wkTrace',
      [
        {
          msgid: 'msgPublished',
          customer: 'wmTrace',
          sentAt: T0 - 10_000,
          pulledAt: T0 - 1_000,
        },
      ],
      T0,
    );
    const subject = {
      kind: 'customer' as const,
      platform: 'wecom' as const,
      owner: `${CORP}-${app}`,
      account: 'wkTrace',
      customer: 'wmTrace',
    };

    await expect(traceSubject(depsFor(app), { ...subject, msgid: 'msgPublished' })).resolves.toEqual([
      { step: 'inbound.fifo', outcome: 'ok', detail: 'published to inbound.fifo', at: T0 },
    ]);
    await expect(traceSubject(depsFor(app), { ...subject, msgid: 'msgNotYet' })).resolves.toEqual([
      { step: 'inbound.fifo', outcome: 'waiting', detail: 'not published to inbound.fifo (yet)' },
    ]);
  });

  it('follows a kf reply from the msgid WeCom saw to its request and its recorded refusal', async () => {
    const app = newApp();
    const ledger = new SendLedger(items, testEnv.STATE_TABLE);
    const msgid = msgidFor({ app, requestId: 'reply-1' });
    await ledger.indexMsgid(app, msgid, 'reply-1', T0);
    await ledger.record(app, 'reply-1', {
      status: 'failed',
      msgid,
      errcode: 95018,
      reason: 'the session does not allow sending',
      at: T0 + 1_000,
    });

    await expect(
      traceSubject(depsFor(app), {
        kind: 'reply',
        platform: 'wecom',
        owner: `${CORP}-${app}`,
        account: 'wkTrace',
        customer: 'wmTrace',
        msgid,
      }),
    ).resolves.toEqual([
      { step: 'attempts', outcome: 'ok', detail: '1 attempt by the sender' },
      {
        step: 'outcome',
        outcome: 'refused',
        detail: 'request reply-1: failed: the session does not allow sending (errcode 95018)',
        at: T0 + 1_000,
      },
    ]);
  });

  it("lists a dead-lettered reply with the contract's reason and its recipient, and a rejected one, without consuming the dead letter", async () => {
    const app = newApp();
    const tooLong = '长'.repeat(1000);
    await deadLetter({
      schema: OUTBOUND_SCHEMA,
      requestId: 'bot-long',
      app,
      channel: 'kf',
      openKfId: 'wkTrace',
      externalUserId: 'wmLong',
      message: { type: 'text', content: tooLong },
    });
    await new SendLedger(items, testEnv.STATE_TABLE).record(app, 'reply-late', {
      status: 'rejected',
      reason: 'the 48 h window is over',
      at: T0 + 2_000,
    });

    const listed = async () =>
      (await unsentReplies(depsFor(app))).filter(
        (reply) => reply.customer === 'wmLong' || reply.title === 'request reply-late',
      );
    const replies = await listed();
    expect(replies).toEqual([
      {
        platform: 'wecom',
        account: 'wkTrace',
        customer: 'wmLong',
        msgid: msgidFor({ app, requestId: 'bot-long' }),
        title: `${'长'.repeat(60)}… (1000 characters)`,
        steps: [
          {
            step: 'dead letter',
            outcome: 'refused',
            detail:
              'in the outbound dead-letter queue: outbound request: message.content is longer than 2048 bytes',
            at: expect.any(Number),
          },
        ],
      },
      {
        platform: 'mp',
        title: 'request reply-late',
        steps: [
          {
            step: 'outcome',
            outcome: 'refused',
            detail: 'request reply-late: rejected: the 48 h window is over',
            at: T0 + 2_000,
          },
        ],
      },
    ]);
    // Peeking put the dead letter back at once.
    await expect(listed()).resolves.toEqual(replies);
    const requestSteps = await traceRequest(depsFor(app), app, 'bot-long');
    expect(requestSteps.map((step) => step.step)).toEqual(['outcome', 'dead letter']);
    const again = await peekDeadLetters(sqs, { outbound: outboundDlq });
    expect(again.filter((letter) => (letter.body as { app?: string }).app === app)).toHaveLength(1);
  });
});
