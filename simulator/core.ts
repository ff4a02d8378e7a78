import { randomBytes } from 'node:crypto';

/** A clock tests can move forward: 48 h windows, token expiry, retention and code validity all read it. */
export class SimClock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
  }
  reset(): void {
    this.offsetMs = 0;
  }
}

/**
 * The timestamp a push is signed with: the platform's wall clock, which the app checks against its own to refuse
 * replays. Moving the business clock (48 h windows, expiries, message times) must not move it, or every push is
 * refused as outside the app's clock skew.
 */
export const signingTimestamp = () => String(Math.floor(Date.now() / 1000));

/** mulberry32: small, fast and reproducible, so a fault profile with a seed replays exactly. */
export class SeededRandom {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** A platform answer with a non-zero errcode (HTTP 200, as WeCom and MP always answer). */
export class WxError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${errcode} ${errmsg}`);
  }
}

/**
 * MP answers a call that returns no data with errcode 0 and errmsg "ok"; calls that return data (tokens, lists,
 * sessions, records) answer with the data alone, without errcode.
 */
export const MP_OK = { errcode: 0, errmsg: 'ok' } as const;

/** WeCom's errmsg carries a hint and a doc link after the text; clients must branch on errcode only. */
export function errmsgWithHint(errcode: number, text: string): string {
  return `${text}, hint: [${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`;
}

export function randomId(prefix: string, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += alphabet[byte % alphabet.length];
  return id;
}

export const HOUR = 3600_000;
export const DAY = 24 * HOUR;
export const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');
