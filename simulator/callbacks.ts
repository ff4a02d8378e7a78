import type { FaultInjector } from './faults';

export interface CallbackDelivery {
  readonly target: string;
  readonly url: string;
  /** The message the push tells of (a kf msgid, an MP MsgId), when a customer's message caused it. */
  about?: string;
  /** `answer`: the start of the app's answer to a push it refused, which usually says why. */
  readonly attempts: { at: number; status?: number; answer?: string; error?: string }[];
  delivered: boolean;
}

/** Enough of a refusal's answer to read its reason. */
const ANSWER_SHOWN = 300;

export interface CallbackSettings {
  /** WeCom drops a callback that has not answered within 5 s. */
  timeoutMs: number;
  /** Time between attempts; WeCom does not document it. */
  retryDelayMs: number;
  /** WeCom retries up to three times after the first attempt. */
  retries: number;
}

/**
 * Pushes signed, encrypted callbacks to the app and retries them as WeCom and MP do: a push counts as
 * received only on HTTP 200 within the timeout. Faults can lose or duplicate a push.
 */
export class CallbackPusher {
  readonly deliveries: CallbackDelivery[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(
    readonly settings: CallbackSettings,
    private readonly faults: FaultInjector,
    private readonly now: () => number,
  ) {}

  push(target: string, url: string, build: () => { query: string; body: string }): void {
    const fired = this.faults.fire('callback', this.now());
    if (fired.some((fault) => fault.kind === 'callback_lost')) {
      this.deliveries.push({ target, url, attempts: [], delivered: false });
      return;
    }
    const copies = fired.some((fault) => fault.kind === 'callback_duplicate') ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      const delivery: CallbackDelivery = { target, url, attempts: [], delivered: false };
      this.deliveries.push(delivery);
      const run = this.deliver(delivery, build()).finally(() => this.pending.delete(run));
      this.pending.add(run);
    }
  }

  private async deliver(delivery: CallbackDelivery, request: { query: string; body: string }): Promise<void> {
    for (let attempt = 0; attempt <= this.settings.retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.settings.retryDelayMs));
      const record: CallbackDelivery['attempts'][number] = { at: this.now() };
      delivery.attempts.push(record);
      try {
        const response = await fetch(
          `${delivery.url}${delivery.url.includes('?') ? '&' : '?'}${request.query}`,
          {
            method: 'POST',
            headers: { 'content-type': 'text/xml' },
            body: request.body,
            signal: AbortSignal.timeout(this.settings.timeoutMs),
          },
        );
        record.status = response.status;
        const answer = await response.text();
        if (response.status !== 200) record.answer = answer.slice(0, ANSWER_SHOWN);
        if (response.status === 200) {
          delivery.delivered = true;
          return;
        }
      } catch (error) {
        record.error = (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message;
      }
    }
  }

  /** Resolves when every push in flight has been delivered or given up. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
