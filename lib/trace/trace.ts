import type { SQSClient } from '@aws-sdk/client-sqs';
import { parseOutboundRequest } from '../contracts/outbound';
import { MessageLedger } from '../inbound/ledger';
import type { ItemStore } from '../items/itemStore';
import { msgidFor } from '../outbound/sender';
import { SendLedger, type SendOutcome } from '../outbound/sendLedger';
import { type DeadLetter, type DeadLetterQueue, peekDeadLetters } from './deadLetters';

/**
 * Where a message is, from kf-bridge's own state: the inbound msgid ledger, the send ledger and the dead-letter
 * queues. The simulator's page asks it about the messages it shows (the shapes below match the simulator's
 * trace source, which keeps no product import); `npx kf-bridge trace` is meant to ask it too.
 */

/** One step of a message's path. `waiting`: not happened (yet); `unknown`: happened, outcome not known. */
export interface TraceStep {
  readonly step: string;
  readonly outcome: 'ok' | 'refused' | 'waiting' | 'unknown';
  readonly detail: string;
  readonly at?: number;
}

/** A customer's message, or a reply the platform received, as the platform names it. */
export interface TraceSubject {
  readonly kind: 'customer' | 'reply';
  readonly platform: 'wecom' | 'mp';
  /** The corp id, or the Official Account's appId. */
  readonly owner: string;
  /** The open_kfid, or the Official Account's appId. */
  readonly account: string;
  readonly customer: string;
  /** The customer message's msgid (MP: MsgId), or the msgid a kf reply was sent with. */
  readonly msgid?: string;
}

/** A reply the platform never received: refused before sending, or dead-lettered. */
export interface UnsentReply {
  readonly platform: 'wecom' | 'mp';
  readonly account?: string;
  readonly customer?: string;
  /** The kf msgid it was or would have been sent with. */
  readonly msgid?: string;
  readonly title: string;
  readonly steps: readonly TraceStep[];
}

export interface TracedApp {
  readonly wecom?: { readonly corpId: string };
  readonly mp?: { readonly appId: string };
}

export interface TraceDeps {
  /** The state table's item calls. */
  readonly items: ItemStore;
  readonly table: string;
  readonly sqs: SQSClient;
  readonly deadLetterQueues: Partial<Record<DeadLetterQueue, string>>;
  /** The configured apps (Config's `apps` will do): which platform accounts each one serves. */
  readonly apps: ReadonlyMap<string, TracedApp>;
}

/** Replies listed as not sent, newest first. */
const UNSENT_SHOWN = 50;
const PREVIEW_CHARS = 60;

const DEAD_LETTERED: Record<DeadLetterQueue, string> = {
  syncJobs: 'a pull for this account is in the sync-jobs dead-letter queue',
  inbound: 'in the inbound dead-letter queue: the consumer did not finish it within 5 receives',
  outbound: 'in the outbound dead-letter queue',
};

/** The apps a platform account belongs to: one corp or Official Account may serve several. */
function appsOf(deps: TraceDeps, platform: 'wecom' | 'mp', owner: string): string[] {
  return [...deps.apps]
    .filter(([, app]) => (platform === 'wecom' ? app.wecom?.corpId : app.mp?.appId) === owner)
    .map(([name]) => name);
}

const field = (body: unknown, name: string) =>
  body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;

function outcomeStep(requestId: string, outcome: SendOutcome): TraceStep {
  const errcode = outcome.errcode === undefined ? '' : ` (errcode ${outcome.errcode})`;
  const detail = `request ${requestId}: ${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ''}${errcode}`;
  const kind: Record<SendOutcome['status'], TraceStep['outcome']> = {
    queued: 'waiting',
    sent: 'ok',
    rejected: 'refused',
    failed: 'refused',
    uncertain: 'unknown',
  };
  return { step: 'outcome', outcome: kind[outcome.status], detail, at: outcome.at };
}

const noOutcome = (requestId: string): TraceStep => ({
  step: 'outcome',
  outcome: 'waiting',
  detail: `request ${requestId}: no outcome recorded yet`,
});

function deadLetterStep(letter: DeadLetter, reason?: string): TraceStep {
  return {
    step: 'dead letter',
    outcome: 'refused',
    detail: reason ? `${DEAD_LETTERED[letter.queue]}: ${reason}` : DEAD_LETTERED[letter.queue],
    ...(letter.sentAt !== undefined && { at: letter.sentAt }),
  };
}

/**
 * What kf-bridge holds of an outbound request: when the messages API accepted it, its attempts, its recorded
 * outcome and its dead letters. Undefined when neither the send ledger nor the outbound dead-letter queue knows it.
 */
export async function findRequest(
  deps: Pick<TraceDeps, 'items' | 'table' | 'sqs' | 'deadLetterQueues'>,
  app: string,
  requestId: string,
  letters?: DeadLetter[],
): Promise<TraceStep[] | undefined> {
  const ledger = new SendLedger(deps.items, deps.table);
  const state = await ledger.state(app, requestId);
  // kf counts attempts by the msgid, MP by the request.
  const attempts = state.attempts ?? (await ledger.msgidIndex(app, msgidFor({ app, requestId })))?.attempts;
  const dead = (letters ?? (await peekDeadLetters(deps.sqs, { outbound: deps.deadLetterQueues.outbound })))
    .filter((letter) => letter.queue === 'outbound')
    .filter((letter) => field(letter.body, 'app') === app && field(letter.body, 'requestId') === requestId);
  if (!state.outcome && state.queuedAt === undefined && attempts === undefined && dead.length === 0)
    return undefined;
  const steps: TraceStep[] = [];
  if (state.queuedAt !== undefined)
    steps.push({ step: 'queued', outcome: 'ok', detail: 'accepted by the messages API', at: state.queuedAt });
  if (attempts !== undefined)
    steps.push({
      step: 'attempts',
      outcome: 'ok',
      detail: `${attempts} attempt${attempts === 1 ? '' : 's'} by the sender`,
      ...(state.attemptedAt !== undefined && { at: state.attemptedAt }),
    });
  steps.push(state.outcome ? outcomeStep(requestId, state.outcome) : noOutcome(requestId));
  return [...steps, ...dead.map((letter) => deadLetterStep(letter, refusalOf(letter.body)))];
}

/** What the sender made of an outbound request: its recorded outcome and whether it was dead-lettered. */
export async function traceRequest(
  deps: Pick<TraceDeps, 'items' | 'table' | 'sqs' | 'deadLetterQueues'>,
  app: string,
  requestId: string,
  letters?: DeadLetter[],
): Promise<TraceStep[]> {
  return (await findRequest(deps, app, requestId, letters)) ?? [noOutcome(requestId)];
}

/** The product's side of a message the platform knows: published, sent, refused, dead-lettered. */
export async function traceSubject(
  deps: TraceDeps,
  subject: TraceSubject,
  letters?: DeadLetter[],
): Promise<TraceStep[]> {
  const apps = appsOf(deps, subject.platform, subject.owner);
  if (apps.length === 0)
    return [
      {
        step: 'product',
        outcome: 'unknown',
        detail: `no app is configured for ${subject.platform === 'wecom' ? 'corp' : 'Official Account'} ${subject.owner}`,
      },
    ];
  letters ??= await peekDeadLetters(deps.sqs, deps.deadLetterQueues);
  if (subject.kind === 'reply') {
    if (subject.platform === 'mp' || !subject.msgid)
      return [
        {
          step: 'outcome',
          outcome: 'unknown',
          detail:
            'an Official Account send carries no id to find its request by; failures are listed as not sent',
        },
      ];
    const sendLedger = new SendLedger(deps.items, deps.table);
    const steps: TraceStep[] = [];
    for (const app of apps) {
      const requestId = await sendLedger.requestOf(app, subject.msgid);
      if (requestId) steps.push(...(await traceRequest(deps, app, requestId, letters)));
    }
    return steps.length > 0
      ? steps
      : [
          {
            step: 'outcome',
            outcome: 'unknown',
            detail: `no request in the send ledger sent msgid ${subject.msgid}`,
          },
        ];
  }
  const steps: TraceStep[] = [];
  if (subject.platform === 'wecom' && subject.msgid) {
    const ledger = new MessageLedger(deps.items, deps.table);
    let publishedAt: number | undefined;
    for (const app of apps) publishedAt ??= await ledger.publishedAt(app, subject.account, subject.msgid);
    steps.push(
      publishedAt === undefined
        ? { step: 'inbound.fifo', outcome: 'waiting', detail: 'not published to inbound.fifo (yet)' }
        : { step: 'inbound.fifo', outcome: 'ok', detail: 'published to inbound.fifo', at: publishedAt },
    );
  } else {
    steps.push({
      step: 'inbound.fifo',
      outcome: 'unknown',
      detail: 'an Official Account push is published to inbound.fifo before the callback answers it 200',
    });
  }
  for (const letter of letters) {
    const body = letter.body;
    const mine =
      letter.queue === 'inbound'
        ? field(body, 'customer') === subject.customer &&
          (field(body, 'id') === subject.msgid || field(body, 'mpMsgId') === subject.msgid)
        : letter.queue === 'syncJobs' && field(body, 'openKfId') === subject.account;
    if (mine) steps.push(deadLetterStep(letter));
  }
  return steps;
}

/** Why the sender cannot send a dead-lettered request as it is: the outbound contract's answer. */
function refusalOf(body: unknown): string | undefined {
  try {
    parseOutboundRequest(body);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function preview(body: unknown): string {
  const message = field(body, 'message');
  const content = field(message, 'content');
  const text = typeof content === 'string' ? content : `[${String(field(message, 'type') ?? 'request')}]`;
  const chars = [...text];
  return chars.length > PREVIEW_CHARS
    ? `${chars.slice(0, PREVIEW_CHARS).join('')}… (${chars.length} characters)`
    : text;
}

/**
 * Replies the platform never received: requests the sender rejected or failed, and requests in the outbound
 * dead-letter queue (for which the contract says why, when it refuses them).
 */
export async function unsentReplies(deps: TraceDeps): Promise<UnsentReply[]> {
  const letters = await peekDeadLetters(deps.sqs, { outbound: deps.deadLetterQueues.outbound });
  const replies: UnsentReply[] = letters.map((letter) => {
    const body = letter.body;
    const kf = field(body, 'channel') !== 'mp';
    const app = String(field(body, 'app') ?? '');
    const requestId = String(field(body, 'requestId') ?? '');
    const account = field(body, kf ? 'openKfId' : 'app');
    const customer = field(body, kf ? 'externalUserId' : 'openid');
    return {
      platform: kf ? 'wecom' : 'mp',
      ...(typeof account === 'string' && { account: kf ? account : (deps.apps.get(app)?.mp?.appId ?? '') }),
      ...(typeof customer === 'string' && { customer }),
      ...(kf && app && requestId && { msgid: msgidFor({ app, requestId }) }),
      title: preview(body),
      steps: [deadLetterStep(letter, refusalOf(body))],
    };
  });
  const dead = new Set(
    letters.map((letter) => `${field(letter.body, 'app')}#${field(letter.body, 'requestId')}`),
  );
  const ledger = new SendLedger(deps.items, deps.table);
  for (const app of deps.apps.keys())
    for (const { requestId, outcome } of await ledger.unsent(app, UNSENT_SHOWN)) {
      if (dead.has(`${app}#${requestId}`)) continue;
      replies.push({
        platform: outcome.msgid ? 'wecom' : 'mp',
        ...(outcome.msgid && { msgid: outcome.msgid }),
        title: `request ${requestId}`,
        steps: [outcomeStep(requestId, outcome)],
      });
    }
  return replies;
}

/** The page's trace source for `startSimulator`. */
export const traceSource = (deps: TraceDeps) => ({
  steps: (subject: TraceSubject) => traceSubject(deps, subject),
  unsent: () => unsentReplies(deps),
});
