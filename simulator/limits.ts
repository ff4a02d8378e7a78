import { WxError } from './core';

export interface LimitSettings {
  /** Per corp (or MP app) per API per minute; WeCom's documented base limit is 10 000. */
  rate: { enabled: boolean; perMinute: number };
  /** Calls in flight at once per corp per API before 45033. */
  concurrency: { enabled: boolean; max: number };
}

export class Limits {
  readonly settings: LimitSettings = {
    rate: { enabled: true, perMinute: 10_000 },
    concurrency: { enabled: false, max: 50 },
  };
  private readonly windows = new Map<string, { minute: number; count: number }>();
  private readonly inFlight = new Map<string, number>();

  /** Counts the call; returns a release for its concurrency slot, or throws 45009 / 45033. */
  enter(owner: string, api: string, now: number): () => void {
    const key = `${owner} ${api}`;
    const { rate, concurrency } = this.settings;
    if (rate.enabled) {
      const minute = Math.floor(now / 60_000);
      const window = this.windows.get(key);
      const current = window && window.minute === minute ? window : { minute, count: 0 };
      if (current.count >= rate.perMinute) throw new WxError(45009, 'api freq out of limit');
      current.count++;
      this.windows.set(key, current);
    }
    const active = this.inFlight.get(key) ?? 0;
    if (concurrency.enabled && active >= concurrency.max)
      throw new WxError(45033, 'api concurrent out of limit');
    this.inFlight.set(key, active + 1);
    return () => this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
  }

  reset(): void {
    this.windows.clear();
    this.inFlight.clear();
  }
}
