/** What the simulator answered a call: the platform's errcode, or what happened to the HTTP exchange. */
export type CallAnswer =
  | { readonly errcode: number; readonly errmsg: string }
  | { readonly httpStatus: number }
  | { readonly lost: 'connection dropped' | 'answer lost' };

/** One platform call the simulator received, with just enough of it to trace a message. */
export interface PlatformCall {
  readonly seq: number;
  /** Business clock. */
  readonly at: number;
  readonly endpoint: string;
  /** The corp id or MP appId the access_token belongs to. */
  readonly owner?: string;
  readonly answer: CallAnswer;
  /** The JSON body of a send (kf/send_msg, kf/send_msg_on_event, message/custom/send). */
  readonly send?: Record<string, unknown>;
  /** The msgids a kf/sync_msg answer carried. */
  readonly pulled?: readonly string[];
}

export const SEND_ENDPOINTS = new Set(['kf/send_msg', 'kf/send_msg_on_event', 'message/custom/send']);
/** Enough for a day of local use; the oldest calls go first. */
const KEPT = 5000;

/** The platform calls the simulator received and what it answered, for the web page's traces. */
export class CallLog {
  readonly calls: PlatformCall[] = [];
  private next = 1;

  record(
    request: { at: number; endpoint: string; owner: string | undefined; raw: Buffer },
    answer: CallAnswer,
    answered?: unknown,
  ): void {
    const { at, endpoint, owner, raw } = request;
    const call: PlatformCall = {
      seq: this.next++,
      at,
      endpoint,
      ...(owner !== undefined && { owner }),
      answer,
      ...(SEND_ENDPOINTS.has(endpoint) && { send: jsonOf(raw) }),
      ...(endpoint === 'kf/sync_msg' && { pulled: msgidsOf(answered) }),
    };
    this.calls.push(call);
    if (this.calls.length > KEPT) this.calls.splice(0, this.calls.length - KEPT);
  }

  clear(): void {
    this.calls.length = 0;
  }
}

function jsonOf(raw: Buffer): Record<string, unknown> {
  try {
    const value = JSON.parse(raw.toString('utf8'));
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

function msgidsOf(answer: unknown): string[] {
  const list = (answer as { msg_list?: { msgid?: unknown }[] } | undefined)?.msg_list ?? [];
  return list.map((item) => String(item.msgid ?? ''));
}
