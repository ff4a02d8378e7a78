import type { SQSClient } from '@aws-sdk/client-sqs';
import { BudgetStore, budgetRefusal, REPLIES_PER_MESSAGE, REPLY_WINDOW_MS } from '../budgets';
import type { AppConfig } from '../config/config';
import type { DlqPair, DlqQueue } from '../dlq/queues';
import { NotFoundError } from '../errors';
import { CursorStore } from '../inbound/cursors';
import { LEDGER_TTL_SECONDS, MessageLedger, type PublishedMessage } from '../inbound/ledger';
import type { ItemStore } from '../items/itemStore';
import { SEND_LEDGER_TTL_SECONDS, SendLedger } from '../outbound/sendLedger';
import { type DeadLetter, type DeadLetterQueue, peekDeadLetters } from './deadLetters';
import { findRequest, type TraceDeps, type TraceStep, traceSubject } from './trace';

export interface TracerDeps {
  /** The state table's item calls. */
  readonly items: ItemStore;
  readonly table: string;
  readonly sqs: SQSClient;
  readonly pairOf: (queue: DlqQueue) => Promise<DlqPair>;
  readonly now: () => number;
}

/** What an id named: a customer's message pulled from a kf account, or a reply (by request id or kf msgid). */
export interface TraceMatch {
  readonly kind: 'inbound message' | 'reply';
  readonly requestId?: string;
  readonly msgid?: string;
  readonly openKfId?: string;
  readonly customer?: string;
}

export interface TraceAnswer {
  readonly id: string;
  readonly app: string;
  readonly matches: TraceMatch[];
  readonly steps: (Omit<TraceStep, 'at'> & { at?: string })[];
}

const iso = (at: number) => new Date(at).toISOString();

/**
 * `trace <id>`: the life of one message from the state kf-bridge keeps, for one app. The id may be an inbound
 * msgid, a request id or the msgid a kf reply was sent with; whatever it names is traced, each in turn.
 */
export class Tracer {
  constructor(private readonly deps: TracerDeps) {}

  async trace(app: AppConfig, id: string): Promise<TraceAnswer> {
    const sendLedger = new SendLedger(this.deps.items, this.deps.table);
    const outbound = await this.peek({ outbound: 'outbound' });
    const traceDeps = this.traceDeps(app);
    const matches: TraceMatch[] = [];
    const steps: TraceStep[] = [];

    const asRequest = await findRequest(traceDeps, app.name, id, outbound);
    if (asRequest) {
      matches.push({ kind: 'reply', requestId: id });
      steps.push(...asRequest);
    }
    const index = await sendLedger.msgidIndex(app.name, id);
    if (index && index.requestId !== id) {
      matches.push({ kind: 'reply', requestId: index.requestId, msgid: id });
      steps.push(...((await findRequest(traceDeps, app.name, index.requestId, outbound)) ?? []));
    }
    for (const message of await this.published(app, id)) {
      matches.push({
        kind: 'inbound message',
        msgid: id,
        openKfId: message.openKfId,
        ...(message.customer && { customer: message.customer }),
      });
      steps.push(...(await this.inboundSteps(app, message)));
    }
    if (matches.length === 0)
      throw new NotFoundError(
        `nothing of app '${app.name}' has the id ${id}: no kf customer message pulled in the last ${LEDGER_TTL_SECONDS / 3600} h, no reply request or kf reply msgid of the last ${SEND_LEDGER_TTL_SECONDS / 86_400} days, no outbound dead letter (Official Account messages are not kept by id)`,
      );
    return {
      id,
      app: app.name,
      matches,
      steps: steps.map(({ at, ...step }) => ({ ...(at !== undefined && { at: iso(at) }), ...step })),
    };
  }

  /** The message under this msgid in each kf account the app ever pulled. */
  private async published(app: AppConfig, msgid: string): Promise<PublishedMessage[]> {
    if (!app.wecom) return [];
    const ledger = new MessageLedger(this.deps.items, this.deps.table);
    const found: PublishedMessage[] = [];
    for (const openKfId of await new CursorStore(this.deps.items, this.deps.table).everPulled(app.name)) {
      const message = await ledger.find(app.name, openKfId, msgid);
      if (message) found.push(message);
    }
    return found;
  }

  private async inboundSteps(app: AppConfig, message: PublishedMessage): Promise<TraceStep[]> {
    const who = message.customer ? `customer ${message.customer}` : 'an event';
    const steps: TraceStep[] = [];
    if (message.sentAt !== undefined)
      steps.push({
        step: 'received',
        outcome: 'ok',
        detail: `${who} in kf account ${message.openKfId} (send_time)`,
        at: message.sentAt,
      });
    if (message.pulledAt !== undefined)
      steps.push({
        step: 'pulled',
        outcome: 'ok',
        detail: message.cursor
          ? `by kf/sync_msg, on the page after cursor ${message.cursor}`
          : "by kf/sync_msg, on the account's first page",
        at: message.pulledAt,
      });
    const letters = await this.peek({ inbound: 'inbound', syncJobs: 'sync-jobs' });
    steps.push(
      ...(await traceSubject(
        this.traceDeps(app),
        {
          kind: 'customer',
          platform: 'wecom',
          owner: app.wecom?.corpId ?? '',
          account: message.openKfId,
          customer: message.customer ?? '',
          msgid: message.msgid,
        },
        letters,
      )),
    );
    if (message.customer) steps.push(await this.replyWindow(app, message.openKfId, message.customer));
    return steps;
  }

  /** Whether the customer may be replied to now, as the sender would judge it. */
  private async replyWindow(app: AppConfig, openKfId: string, customer: string): Promise<TraceStep> {
    const budget = await new BudgetStore(this.deps.items, this.deps.table).read({
      app: app.name,
      scope: openKfId,
      customer,
    });
    const refusal = budgetRefusal(budget, this.deps.now());
    const last = budget.lastCustomerMessageAt;
    const at = last === undefined ? {} : { at: last };
    if (refusal)
      return {
        step: 'reply window',
        outcome: 'refused',
        detail: `a reply now would be rejected: ${refusal}`,
        ...at,
      };
    const until = last === undefined ? '' : ` until ${iso(last + REPLY_WINDOW_MS)}`;
    return {
      step: 'reply window',
      outcome: 'ok',
      detail: `open${until}: ${budget.repliesLeft ?? 0} of ${REPLIES_PER_MESSAGE} replies left since the customer last wrote`,
      ...at,
    };
  }

  /** The page's trace functions for this app alone; the dead letters are handed to them, read once. */
  private traceDeps(app: AppConfig): TraceDeps {
    return {
      items: this.deps.items,
      table: this.deps.table,
      sqs: this.deps.sqs,
      deadLetterQueues: {},
      apps: new Map([[app.name, { ...(app.wecom && { wecom: { corpId: app.wecom.corpId } }) }]]),
    };
  }

  /** Reads the named dead-letter queues without consuming them. */
  private async peek(queues: Partial<Record<DeadLetterQueue, DlqQueue>>): Promise<DeadLetter[]> {
    const urls: Partial<Record<DeadLetterQueue, string>> = {};
    for (const [name, queue] of Object.entries(queues) as [DeadLetterQueue, DlqQueue][])
      urls[name] = (await this.deps.pairOf(queue)).dlqUrl;
    return peekDeadLetters(this.deps.sqs, urls);
  }
}
