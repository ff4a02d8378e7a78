import type { SeededRandom } from './core';

/**
 * A scripted failure of one endpoint (`kf/sync_msg`, `gettoken`, `callback`, … or `*`), fired by probability
 * or for an exact number of calls. Callback faults act on the pushes the simulator makes to the app.
 */
export type FaultKind =
  /** With `after`, the platform carries the call out first, and this is what comes back instead of its answer. */
  | { kind: 'errcode'; errcode: number; errmsg?: string; after?: boolean }
  | { kind: 'http'; status: number; after?: boolean }
  | { kind: 'latency'; ms: number }
  | { kind: 'drop' }
  /** The call is processed, then the connection drops before the answer: the client cannot know it worked. */
  | { kind: 'lost_answer' }
  | { kind: 'empty_page' }
  | { kind: 'callback_lost' }
  | { kind: 'callback_duplicate' }
  | { kind: 'send_fail'; failType: number };

export type FaultRule = FaultKind & {
  endpoint: string;
  /** 0..1; default 1. */
  probability?: number;
  /** Fire at most this many times, then retire. */
  count?: number;
};

export interface FiredFault {
  readonly rule: FaultRule;
}

export class FaultInjector {
  private rules: (FaultRule & { fired: number })[] = [];
  readonly log: { endpoint: string; kind: FaultKind['kind']; at: number }[] = [];

  constructor(private readonly random: () => SeededRandom) {}

  set(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ ...rule, fired: 0 }));
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, fired: 0 });
  }

  list(): FaultRule[] {
    return this.rules.map(({ fired: _fired, ...rule }) => rule);
  }

  clear(): void {
    this.rules = [];
  }

  /** Every rule that fires for this call, in the order they were set. */
  fire(endpoint: string, now: number): FaultKind[] {
    const fired: FaultKind[] = [];
    for (const rule of this.rules) {
      if (rule.endpoint !== endpoint && rule.endpoint !== '*') continue;
      if (rule.count !== undefined && rule.fired >= rule.count) continue;
      if (this.random().next() >= (rule.probability ?? 1)) continue;
      rule.fired++;
      fired.push(rule);
      this.log.push({ endpoint, kind: rule.kind, at: now });
    }
    return fired;
  }
}
