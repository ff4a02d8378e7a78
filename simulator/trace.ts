import type { CallbackDelivery } from './callbacks';
import type { PlatformCall } from './callLog';
import type { Simulator } from './simulator';

/** One step of a message's path. `waiting`: not happened (yet); `unknown`: happened, outcome not known. */
export interface TraceStep {
  readonly step: string;
  readonly outcome: 'ok' | 'refused' | 'waiting' | 'unknown';
  readonly detail: string;
  readonly at?: number;
}

/** A message the product's side is asked about: a customer's message, or a reply the platform received. */
export interface TraceSubject {
  readonly kind: 'customer' | 'reply';
  readonly platform: 'wecom' | 'mp';
  /** The corp id, or the Official Account's appId. */
  readonly owner: string;
  /** The open_kfid, or the Official Account's appId. */
  readonly account: string;
  readonly customer: string;
  /** The customer message's msgid (MP: MsgId), or the msgid the product sent a kf reply with. */
  readonly msgid?: string;
}

/** A reply the product settled without the platform receiving it: refused before sending, or dead-lettered. */
export interface UnsentReply {
  readonly platform: 'wecom' | 'mp';
  readonly account?: string;
  readonly customer?: string;
  /** The kf msgid it would have been sent with, when known. */
  readonly msgid?: string;
  readonly title: string;
  readonly steps: readonly TraceStep[];
}

/**
 * The product's side of the traces (its ledgers and dead-letter queues), handed in by whoever runs the product
 * beside the simulator (`npm start`); the simulator knows only its own side.
 */
export interface TraceSource {
  steps(subject: TraceSubject): Promise<readonly TraceStep[]>;
  unsent(): Promise<readonly UnsentReply[]>;
}

export interface ConversationItem {
  /** What `GET /_sim/trace?id=` takes. */
  readonly id: string;
  readonly at: number;
  readonly from: 'customer' | 'event' | 'servicer' | 'api' | 'refused';
  readonly text: string;
}

const ORIGINS = { 3: 'customer', 4: 'event', 5: 'servicer' } as const;

function preview(message: Record<string, unknown>): string {
  const type = String(message.msgtype);
  const body = message[type] as Record<string, unknown> | undefined;
  if (type === 'text') return String(body?.content ?? '');
  if (type === 'event') return `[${String(body?.event_type)}]`;
  return `[${type}]`;
}

const sends = (sim: Simulator) => sim.callLog.calls.filter((call) => call.send);
const refused = (call: PlatformCall) => !('errcode' in call.answer) || call.answer.errcode !== 0;

/** Whom a send was for: kf sends name the customer, replies on an event code the code's customer. */
function sendTarget(sim: Simulator, call: PlatformCall): { account?: string; customer?: string } {
  const body = call.send ?? {};
  if (call.endpoint === 'message/custom/send') return { customer: String(body.touser ?? '') };
  if (call.endpoint === 'kf/send_msg')
    return { account: String(body.open_kfid ?? ''), customer: String(body.touser ?? '') };
  const code = sim.wecom.codes.get(String(body.code ?? ''));
  return { ...(code && { account: code.openKfId, customer: code.externalUserId }) };
}

/** A kf customer's conversation: what the stream holds, and every send the platform received for them. */
export function kfConversation(sim: Simulator, openKfId: string, customer: string): ConversationItem[] {
  const account = sim.wecom.accounts.get(openKfId);
  const fromStream = (account?.stream ?? [])
    .filter(
      (item) =>
        item.message.external_userid === customer ||
        (item.message.event as { external_userid?: string })?.external_userid === customer,
    )
    .map((item) => ({
      id: `kf:${String(item.message.msgid)}`,
      at: item.at,
      from: ORIGINS[item.message.origin as 3 | 4 | 5] ?? 'event',
      text: preview(item.message),
    }));
  const fromApi = sends(sim)
    .filter((call) => call.endpoint !== 'message/custom/send')
    .filter((call) => {
      const target = sendTarget(sim, call);
      return target.account === openKfId && target.customer === customer;
    })
    .map((call) => sendItem(call));
  return [...fromStream, ...fromApi].sort((a, b) => a.at - b.at);
}

/** An Official Account follower's conversation: their messages and every customer-service send for them. */
export function mpConversation(sim: Simulator, appId: string, openid: string): ConversationItem[] {
  const received = sim.mpReceived
    .map((message, index) => ({ message, index }))
    .filter(({ message }) => message.appId === appId && message.openid === openid)
    .map(({ message, index }) => ({
      id: `mp:${index}`,
      at: message.at,
      from: message.msgid ? ('customer' as const) : ('event' as const),
      text: message.text,
    }));
  const sent = sends(sim)
    .filter((call) => call.endpoint === 'message/custom/send' && call.send?.touser === openid)
    .filter((call) => call.owner === appId)
    .map((call) => sendItem(call));
  return [...received, ...sent].sort((a, b) => a.at - b.at);
}

function sendItem(call: PlatformCall): ConversationItem {
  const body = call.send ?? {};
  return {
    id: `send:${call.seq}`,
    at: call.at,
    from: refused(call) ? 'refused' : 'api',
    text: preview(body),
  };
}

function pushSteps(deliveries: CallbackDelivery[]): TraceStep[] {
  if (deliveries.length === 0)
    return [{ step: 'callback', outcome: 'waiting', detail: 'no push made (no callback URL configured)' }];
  return deliveries.flatMap((delivery): TraceStep[] => {
    if (delivery.attempts.length === 0)
      return [{ step: 'callback', outcome: 'refused', detail: 'push lost on the way (fault injection)' }];
    return delivery.attempts.map((attempt) => {
      if (attempt.status === 200)
        return {
          step: 'callback',
          outcome: 'ok',
          detail: 'pushed; the product answered 200',
          at: attempt.at,
        };
      if (attempt.status === undefined && attempt.error === undefined)
        return { step: 'callback', outcome: 'waiting', detail: 'pushed; no answer yet', at: attempt.at };
      const why = attempt.status
        ? `the product refused the push: HTTP ${attempt.status}${attempt.answer ? ` ${attempt.answer}` : ''}`
        : `the product did not answer: ${attempt.error}`;
      return { step: 'callback', outcome: 'refused', detail: why, at: attempt.at };
    });
  });
}

function answerStep(call: PlatformCall): TraceStep {
  const { answer } = call;
  const what = call.endpoint;
  if ('errcode' in answer)
    return answer.errcode === 0
      ? { step: 'reply', outcome: 'ok', detail: `${what} accepted`, at: call.at }
      : {
          step: 'reply',
          outcome: 'refused',
          detail: `${what} refused: errcode ${answer.errcode} ${answer.errmsg}`,
          at: call.at,
        };
  if ('httpStatus' in answer)
    return { step: 'reply', outcome: 'refused', detail: `${what}: HTTP ${answer.httpStatus}`, at: call.at };
  return {
    step: 'reply',
    outcome: 'unknown',
    detail: `${what}: ${answer.lost} (fault injection)`,
    at: call.at,
  };
}

/** The simulator's side of a conversation item's path, and what to ask the product about it. */
export function simulatorTrace(
  sim: Simulator,
  id: string,
): { steps: TraceStep[]; subject?: TraceSubject } | undefined {
  const [kind, key = ''] = id.split(/:(.*)/s);
  if (kind === 'kf') {
    for (const account of sim.wecom.accounts.values()) {
      const item = account.stream.find((entry) => String(entry.message.msgid) === key);
      if (!item) continue;
      const pulls = sim.callLog.calls.filter((call) => call.pulled?.includes(key));
      const [first] = pulls;
      const pull: TraceStep = first
        ? {
            step: 'pull',
            outcome: 'ok',
            detail: `returned by kf/sync_msg${pulls.length > 1 ? ` (${pulls.length} times)` : ''}`,
            at: first.at,
          }
        : { step: 'pull', outcome: 'waiting', detail: 'not pulled by kf/sync_msg yet' };
      const customer = String(item.message.external_userid ?? '');
      return {
        steps: [...pushSteps(sim.callbacks.deliveries.filter((d) => d.about === key)), pull],
        subject: {
          kind: 'customer',
          platform: 'wecom',
          owner: account.corpId,
          account: account.openKfId,
          customer,
          msgid: key,
        },
      };
    }
    return undefined;
  }
  if (kind === 'mp') {
    const message = sim.mpReceived[Number(key)];
    if (!message) return undefined;
    const deliveries = message.msgid ? sim.callbacks.deliveries.filter((d) => d.about === message.msgid) : [];
    return {
      steps: pushSteps(deliveries),
      subject: {
        kind: 'customer',
        platform: 'mp',
        owner: message.appId,
        account: message.appId,
        customer: message.openid,
        ...(message.msgid && { msgid: message.msgid }),
      },
    };
  }
  if (kind === 'send') {
    const call = sim.callLog.calls.find((entry) => entry.seq === Number(key));
    if (!call) return undefined;
    const target = sendTarget(sim, call);
    const msgid = call.send?.msgid;
    const mp = call.endpoint === 'message/custom/send';
    return {
      steps: [answerStep(call)],
      subject: {
        kind: 'reply',
        platform: mp ? 'mp' : 'wecom',
        owner: call.owner ?? '',
        account: mp ? (call.owner ?? '') : (target.account ?? ''),
        customer: target.customer ?? '',
        ...(typeof msgid === 'string' && { msgid }),
      },
    };
  }
  return undefined;
}

/** Whether the platform received a send with this kf msgid: its trace is then the send's own. */
export const platformSawMsgid = (sim: Simulator, msgid: string) =>
  sends(sim).some((call) => call.send?.msgid === msgid);
