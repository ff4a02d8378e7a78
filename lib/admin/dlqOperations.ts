import * as v from 'valibot';
import { text } from '../contracts/fields';
import { SEND_STATUSES } from '../contracts/outbound';
import { DLQ_QUEUES } from '../dlq/queues';
import { operation } from './operation';

/** The dead-letter queues of sync-jobs, inbound and outbound: look, send back, give up. */

const queue = v.pipe(
  v.picklist(DLQ_QUEUES),
  v.description('the queue whose dead-letter queue to work: sync-jobs, inbound or outbound'),
);
const messageId = v.pipe(text(128), v.description("the dead-letter message's id, as list shows it"));

const unreleased = v.optional(
  v.pipe(
    v.number(),
    v.description(
      'messages read that could not be put back in sight: they come back when their 30 s hold ends',
    ),
  ),
);
const outOfSight = {
  unseen: v.optional(
    v.pipe(
      v.number(),
      v.description('messages out of sight: another read of the dead-letter queue holds them for up to 30 s'),
    ),
  ),
  note: v.optional(v.pipe(v.string(), v.description('when to run it again, if messages were out of sight'))),
};

const deadLetter = {
  messageId: v.string(),
  groupId: v.string(),
  receives: v.pipe(v.number(), v.description('ApproximateReceiveCount; each list or show adds one')),
  firstReceivedAt: v.optional(v.string()),
  app: v.optional(v.string()),
  requestId: v.optional(v.string()),
  inboundId: v.optional(v.string()),
  openKfId: v.optional(v.string()),
  ledger: v.optional(v.picklist([...SEND_STATUSES, 'none'])),
  reason: v.string(),
  redrivable: v.boolean(),
};

export const DLQ_OPERATIONS = [
  operation({
    group: 'dlq',
    command: 'list',
    summary:
      "List a dead-letter queue's messages with the reason each failed (each group's first ones; reading adds one to their receive count)",
    method: 'GET',
    path: '/v1/admin/dlq/{queue}/messages',
    positional: ['queue'],
    input: v.strictObject({
      queue,
      limit: v.optional(
        v.pipe(
          v.number(),
          v.integer(),
          v.minValue(1),
          v.maxValue(1000),
          v.description('at most this many (default 100)'),
        ),
      ),
    }),
    output: v.strictObject({
      queue: v.picklist(DLQ_QUEUES),
      deadLetterQueue: v.string(),
      total: v.pipe(
        v.number(),
        v.description("SQS's approximate count of messages in the dead-letter queue"),
      ),
      unlisted: v.pipe(
        v.number(),
        v.description(
          'messages not listed: behind the listed ones of their group, past the limit, or unseen',
        ),
      ),
      ...outOfSight,
      messages: v.array(v.strictObject(deadLetter)),
      unreleased,
    }),
    run: (input, context) => context.deadLetters.list(input.queue, input.limit ?? 100),
  }),
  operation({
    group: 'dlq',
    command: 'show',
    summary: 'Show one dead-letter message: its body, attributes and the reason it failed',
    method: 'GET',
    path: '/v1/admin/dlq/{queue}/messages/{messageId}',
    positional: ['queue', 'messageId'],
    input: v.strictObject({ queue, messageId }),
    output: v.strictObject({
      ...deadLetter,
      attributes: v.record(v.string(), v.string()),
      messageAttributes: v.optional(v.record(v.string(), v.unknown())),
      body: v.unknown(),
      unreleased,
    }),
    run: (input, context) => context.deadLetters.show(input.queue, input.messageId),
  }),
  operation({
    group: 'dlq',
    command: 'redrive',
    summary:
      'Send dead-letter messages back to their queue in order, each once: one (the first of its group) or all; a reply sent, uncertain or rejected is refused',
    method: 'POST',
    path: '/v1/admin/dlq/{queue}/redrive',
    positional: ['queue'],
    input: v.strictObject({
      queue,
      messageId: v.optional(v.pipe(text(128), v.description('only this message (default: all)'))),
      resend: v.optional(
        v.pipe(
          v.boolean(),
          v.description(
            'inbound: send again a message a redrive cut short more than 4 minutes ago may have sent (the consumer may get it twice, with the same id)',
          ),
        ),
      ),
    }),
    output: v.strictObject({
      queue: v.picklist(DLQ_QUEUES),
      redriven: v.number(),
      refused: v.pipe(v.number(), v.description('how many messages may not go back; refusals say why')),
      refusals: v.array(v.strictObject({ messageId: v.string(), groupId: v.string(), reason: v.string() })),
      more: v.pipe(
        v.boolean(),
        v.description('the call stopped for time, or messages were out of sight: run it again for the rest'),
      ),
      ...outOfSight,
      unreleased,
    }),
    run: (input, context) =>
      context.deadLetters.redrive(input.queue, {
        ...(input.messageId !== undefined && { messageId: input.messageId }),
        ...(input.resend !== undefined && { resend: input.resend }),
        ...(context.signal && { signal: context.signal }),
      }),
  }),
  operation({
    group: 'dlq',
    command: 'discard',
    summary:
      'Give one dead-letter message up: delete it, and mark a reply still queued failed with the reason',
    method: 'DELETE',
    path: '/v1/admin/dlq/{queue}/messages/{messageId}',
    positional: ['queue', 'messageId'],
    input: v.strictObject({
      queue,
      messageId,
      reason: v.pipe(text(256), v.description('why it is given up; recorded in the send ledger for a reply')),
    }),
    output: v.strictObject({
      queue: v.picklist(DLQ_QUEUES),
      messageId: v.string(),
      outcome: v.picklist(['discarded', 'already redriven']),
      ledger: v.optional(v.picklist([...SEND_STATUSES, 'none'])),
      unreleased,
    }),
    run: (input, context) => context.deadLetters.discard(input.queue, input.messageId, input.reason),
  }),
];
