import type { Message } from '@aws-sdk/client-sqs';
import type { SendStatus } from '../contracts/outbound';
import type { SendLedger } from '../outbound/sendLedger';
import type { DlqQueue } from './queues';

/** One dead-letter message as an operator needs it: what it is, why it is there, and what can be done. */
export interface DeadLetter {
  readonly messageId: string;
  readonly groupId: string;
  /** ApproximateReceiveCount: every read of the dead-letter queue (list, show) adds one. */
  readonly receives: number;
  readonly firstReceivedAt?: string;
  readonly app?: string;
  /** outbound: the request. */
  readonly requestId?: string;
  /** inbound: the message's id (kf msgid, or the id kf-bridge gives an MP message). */
  readonly inboundId?: string;
  /** sync-jobs: the kf account whose pull it asked for. */
  readonly openKfId?: string;
  /** outbound: the send ledger's status for the request ("none" when it has none). */
  readonly ledger?: SendStatus | 'none';
  readonly reason: string;
  /** Whether a redrive may send it back: never for a reply the ledger has settled otherwise than failed. */
  readonly redrivable: boolean;
}

const stringField = (body: unknown, field: string) => {
  const value = (body as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

export function parsedBody(message: Message): unknown {
  try {
    return JSON.parse(message.Body ?? '');
  } catch {
    return undefined;
  }
}

const isoOf = (millis: string | undefined) =>
  millis && Number.isFinite(Number(millis)) ? new Date(Number(millis)).toISOString() : undefined;

/** Why a reply is in the dead-letter queue, from its send ledger outcome. */
async function outboundReason(
  app: string,
  requestId: string,
  ledger: SendLedger,
): Promise<Pick<DeadLetter, 'ledger' | 'reason' | 'redrivable'>> {
  const outcome = await ledger.read(app, requestId);
  if (!outcome)
    return { ledger: 'none', reason: 'not sent; the send ledger has no outcome for it', redrivable: true };
  if (outcome.failType !== undefined)
    return {
      ledger: outcome.status,
      reason: `sent${outcome.msgid ? ` as msgid ${outcome.msgid}` : ''}, then ${outcome.reason ?? 'reported undelivered by WeCom'}; sending it again would be a new reply: the caller's to decide, through the messages API`,
      redrivable: false,
    };
  const errcode = outcome.errcode === undefined ? '' : ` (errcode ${outcome.errcode})`;
  const said = outcome.reason ? `: ${outcome.reason}` : '';
  const reason = {
    queued: `not sent; the send ledger still says queued${said}`,
    failed: `failed${errcode}${said}`,
    sent: `already sent${outcome.msgid ? ` as msgid ${outcome.msgid}` : ''}; redriving would send it twice`,
    uncertain: `uncertain${errcode}${said}; not redriven, as it may have reached the customer`,
    rejected: `rejected${said}; a redrive would be rejected again`,
  }[outcome.status];
  return {
    ledger: outcome.status,
    reason,
    redrivable: outcome.status === 'queued' || outcome.status === 'failed',
  };
}

/** The message described: its ids and, where kf-bridge keeps it, the reason it failed. */
export async function describe(queue: DlqQueue, message: Message, ledger: SendLedger): Promise<DeadLetter> {
  const attributes = message.Attributes ?? {};
  const receives = Number(attributes.ApproximateReceiveCount ?? 0);
  const firstReceivedAt = isoOf(attributes.ApproximateFirstReceiveTimestamp);
  const base = {
    messageId: message.MessageId ?? '',
    groupId: attributes.MessageGroupId ?? '',
    receives,
    ...(firstReceivedAt && { firstReceivedAt }),
  };
  const body = parsedBody(message);
  const app = stringField(body, 'app');
  if (queue === 'outbound') {
    const requestId = stringField(body, 'requestId');
    if (!app || !requestId)
      return { ...base, reason: 'not an outbound request: no app or requestId', redrivable: false };
    return { ...base, app, requestId, ...(await outboundReason(app, requestId, ledger)) };
  }
  if (queue === 'inbound') {
    const inboundId = stringField(body, 'id');
    return {
      ...base,
      ...(app && { app }),
      ...(inboundId && { inboundId }),
      reason: 'not taken: the inbound consumer failed or timed out on every receive',
      redrivable: true,
    };
  }
  const openKfId = stringField(body, 'openKfId');
  return {
    ...base,
    ...(app && { app }),
    ...(openKfId && { openKfId }),
    reason: `pulling kf account ${openKfId ?? '(none)'} failed on every receive; the sync puller's logs say why`,
    redrivable: true,
  };
}
