import * as v from 'valibot';
import { text } from '../contracts/fields';
import { operation } from './operation';

/** Where one message is: an inbound msgid, a reply's request id, or the msgid a kf reply was sent with. */

const step = v.strictObject({
  at: v.optional(v.pipe(v.string(), v.description('when, as ISO 8601'))),
  step: v.string(),
  outcome: v.pipe(
    v.picklist(['ok', 'refused', 'waiting', 'unknown']),
    v.description('waiting: has not happened (yet); unknown: happened, its outcome is not known'),
  ),
  detail: v.string(),
});

export const TRACE_OPERATIONS = [
  operation({
    group: 'trace',
    summary:
      "The life of one message from kf-bridge's ledgers, budgets and dead-letter queues: an inbound msgid (pulled, published, the customer's reply window), a reply's request id or kf msgid (queued, attempts, outcome and reason)",
    method: 'GET',
    path: '/v1/admin/trace/{id}',
    positional: ['id'],
    input: v.strictObject({
      id: v.pipe(
        text(128),
        v.description('an inbound msgid, a request id, or the msgid a kf reply was sent with'),
      ),
    }),
    output: v.strictObject({
      id: v.string(),
      app: v.string(),
      matches: v.array(
        v.strictObject({
          kind: v.picklist(['inbound message', 'reply']),
          requestId: v.optional(v.string()),
          msgid: v.optional(v.string()),
          openKfId: v.optional(v.string()),
          customer: v.optional(v.string()),
        }),
      ),
      steps: v.array(step),
    }),
    run: (input, context) => context.tracer.trace(context.app, input.id),
  }),
];
