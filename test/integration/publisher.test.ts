import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { DependencyError } from '../../lib/errors';
import {
  type FifoMessage,
  PartlyPublishedError,
  type Quarantine,
  sqsBatchPublisher,
  sqsPublisher,
} from '../../lib/queue/publisher';
import { SQS_MAX_MESSAGE_BYTES, sqsBody } from '../../lib/queue/sqsBody';
import { refuseBatchEntries, SQS_REFUSALS } from '../../local/sqsBatchRefusals';
import { drain, queueClient, sqsClient } from '../support/aws';
import { recordingLog } from '../support/recording';

const consumer = sqsClient();
let queueUrl: string;
let run = 0;

beforeEach(async () => {
  // A queue of its own per test: nothing another test file publishes can land in it.
  const { QueueUrl } = await consumer.send(
    new CreateQueueCommand({
      QueueName: `publisher-${++run}-${Date.now().toString(36)}.fifo`,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
    }),
  );
  queueUrl = QueueUrl ?? '';
});

/** Message `n` of customer `group`, its body JSON like every body kf-bridge publishes. */
const message = (group: string, n: number, extra: Record<string, unknown> = {}): FifoMessage => ({
  body: JSON.stringify({ group, n, ...extra }),
  groupId: group,
  deduplicationId: `${group}-${n}`,
});

const received = async () =>
  (await drain(consumer, queueUrl)).map((m) => ({
    group: m.Attributes?.MessageGroupId,
    deduplicationId: m.Attributes?.MessageDeduplicationId,
    body: m.Body ?? '',
    value: JSON.parse(m.Body ?? '') as Record<string, unknown>,
  }));

const inGroup = (messages: Awaited<ReturnType<typeof received>>, group: string) =>
  messages.filter((m) => m.group === group).map((m) => m.value.n);

describe('the single publisher', () => {
  it("refuses a message over SQS's limit as sent as bad input, before SQS sees it", async () => {
    // 50 000 CJK characters: 150 KB of UTF-8, 300 KB escaped.
    const large = message('wmLarge', 1, { text: '字'.repeat(50_000) });
    await expect(sqsPublisher(queueClient())(queueUrl, large)).rejects.toMatchObject({
      status: 400,
      retryable: false,
      message: `message is ${sqsBody(large.body).length} bytes as sent, over SQS's 262144`,
    });
    expect(await received()).toEqual([]);
  });
});

describe('the batch publisher', () => {
  it("keeps each customer's order when SQS refuses one entry of a batch and takes those after it", async () => {
    const sqs = queueClient();
    let refusals = 1;
    const aws = refuseBatchEntries(sqs, {
      rules: [
        (entry) =>
          entry.MessageDeduplicationId === 'wmA-3' && refusals-- > 0 ? SQS_REFUSALS.internalError : undefined,
      ],
    });
    const publish = sqsBatchPublisher(sqs);
    const page = [
      ...[1, 2, 3, 4, 5].map((n) => message('wmA', n)),
      ...[1, 2, 3].map((n) => message('wmB', n)),
      ...[1, 2].map((n) => message('wmC', n)),
    ];

    const failure = await publish(queueUrl, page).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PartlyPublishedError);
    expect(failure).toMatchObject({ retryable: true });
    // What went through is named, so the caller can record it before the retry.
    expect([...(failure as PartlyPublishedError).published].sort()).toEqual([
      'wmA-1',
      'wmA-2',
      'wmB-1',
      'wmB-2',
      'wmB-3',
      'wmC-1',
      'wmC-2',
    ]);
    // The refused customer stops at the refused message; the others went through in full.
    const first = await received();
    expect(inGroup(first, 'wmA')).toEqual([1, 2]);
    expect(inGroup(first, 'wmB')).toEqual([1, 2, 3]);
    expect(inGroup(first, 'wmC')).toEqual([1, 2]);

    await publish(queueUrl, page);
    expect(inGroup(await received(), 'wmA')).toEqual([3, 4, 5]);
    // SQS takes each entry on its own: two messages of one customer never share a call.
    for (const call of aws.calls) expect(new Set(call.groupIds).size).toBe(call.groupIds.length);
  });

  it('publishes content SQS refuses (U+FFFF, lone surrogates) and emoji as JSON that reads back the same', async () => {
    const sqs = queueClient();
    refuseBatchEntries(sqs);
    const texts = ['好的👍', 'before \uffff after', 'lone \ud800 surrogate', 'tab\tand\nnewline', 'plain'];
    const page = texts.map((text, n) => message('wmEmoji', n, { text }));
    await sqsBatchPublisher(sqs)(queueUrl, page);
    await sqsPublisher(sqs)(queueUrl, message('wmSingle', 0, { text: '单条 \uffff 😀' }));
    const got = await received();
    expect(got.filter((m) => m.group === 'wmEmoji').map((m) => m.value.text)).toEqual(
      texts.map((text) => JSON.parse(JSON.stringify(text))),
    );
    expect(got.find((m) => m.group === 'wmSingle')?.value.text).toBe('单条 \uffff 😀');
    for (const { body } of got) expect(body).toMatch(/^[\x20-\x7e]*$/);
  });

  it("keeps each call within SQS's byte limit, measured on the body as sent", async () => {
    const sqs = queueClient();
    const aws = refuseBatchEntries(sqs);
    // Ten customers at 40 000 CJK characters each: 120 KB of UTF-8, 240 KB escaped, 2.4 MB together.
    const page = Array.from({ length: 10 }, (_, i) => message(`wmBig${i}`, 1, { text: '字'.repeat(40_000) }));
    await sqsBatchPublisher(sqs)(queueUrl, page);
    const got = await received();
    expect(got.map((m) => m.group).sort()).toEqual(page.map((m) => m.groupId).sort());
    expect(aws.refused).toEqual([]);
    expect(got.every((m) => m.body.length <= SQS_MAX_MESSAGE_BYTES)).toBe(true);
  });

  it('quarantines a message SQS will never take, in its place in the group, and logs it without its content', async () => {
    const sqs = queueClient();
    const aws = refuseBatchEntries(sqs, {
      rules: [
        (entry) => (entry.MessageBody?.includes('refuse me') ? SQS_REFUSALS.invalidContents : undefined),
      ],
    });
    const kept: { deduplicationId: string; reason: string; code?: string; body: string }[] = [];
    const quarantine: Quarantine = async (original, refusal) => {
      kept.push({ deduplicationId: original.deduplicationId, ...refusal, body: original.body });
      return { ...original, body: JSON.stringify({ standInFor: JSON.parse(original.body).n }) };
    };
    const { log, lines, textAboveDebug } = recordingLog();
    const publish = sqsBatchPublisher(sqs, { byQueueUrl: { [queueUrl]: quarantine }, log });
    const tooLarge = message('wmQ', 2, { text: 'x'.repeat(SQS_MAX_MESSAGE_BYTES) });
    await publish(queueUrl, [
      message('wmQ', 1),
      tooLarge,
      message('wmQ', 3, { text: 'refuse me' }),
      message('wmQ', 4),
      message('wmOther', 1),
    ]);

    const got = await received();
    expect(got.filter((m) => m.group === 'wmQ').map((m) => m.value)).toEqual([
      { group: 'wmQ', n: 1 },
      { standInFor: 2 },
      { standInFor: 3 },
      { group: 'wmQ', n: 4 },
    ]);
    // The stand-in keeps the original's deduplication id: a repeat of the page is still absorbed.
    expect(got.filter((m) => m.value.standInFor).map((m) => m.deduplicationId)).toEqual(['wmQ-2', 'wmQ-3']);
    expect(kept).toEqual([
      { deduplicationId: 'wmQ-2', reason: 'too_large', bytes: tooLarge.body.length, body: tooLarge.body },
      {
        deduplicationId: 'wmQ-3',
        reason: 'refused',
        code: 'InvalidMessageContents',
        bytes: expect.any(Number),
        body: message('wmQ', 3, { text: 'refuse me' }).body,
      },
    ]);
    // The one over the limit never reached SQS; the refused one did, once.
    expect(aws.refused.map((r) => r.deduplicationId)).toEqual(['wmQ-3']);
    expect(
      lines.filter((line) => line.args[0] === 'message quarantined').map((line) => line.args[1]),
    ).toEqual([
      expect.objectContaining({ group: 'wmQ', deduplicationId: 'wmQ-2', reason: 'too_large' }),
      expect.objectContaining({ group: 'wmQ', deduplicationId: 'wmQ-3', reason: 'refused' }),
    ]);
    expect(textAboveDebug()).not.toContain('refuse me');
  });

  it('without a quarantine for the queue, stops the group at a message SQS will never take and fails retryably', async () => {
    const sqs = queueClient();
    refuseBatchEntries(sqs);
    const publish = sqsBatchPublisher(sqs);
    const failure = await publish(queueUrl, [
      message('wmNoQ', 1),
      message('wmNoQ', 2, { text: 'x'.repeat(SQS_MAX_MESSAGE_BYTES) }),
      message('wmNoQ', 3),
    ]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencyError);
    expect(inGroup(await received(), 'wmNoQ')).toEqual([1]);
  });

  it('retries a refusal that is not of the message itself, never quarantining it', async () => {
    const sqs = queueClient();
    const kept: string[] = [];
    const quarantine: Quarantine = async (original) => {
      kept.push(original.deduplicationId);
      return original;
    };
    refuseBatchEntries(sqs, {
      rules: [
        (entry) =>
          entry.MessageBody?.includes('"n":2')
            ? { Code: 'UnsupportedOperation', SenderFault: true, Message: 'not now' }
            : undefined,
      ],
    });
    const publish = sqsBatchPublisher(sqs, {
      byQueueUrl: { [queueUrl]: quarantine },
      log: recordingLog().log,
    });
    const failure = await publish(queueUrl, [
      message('wmKms', 1),
      message('wmKms', 2),
      message('wmKms', 3),
    ]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PartlyPublishedError);
    expect(kept).toEqual([]);
    expect(inGroup(await received(), 'wmKms')).toEqual([1]);
  });
});
