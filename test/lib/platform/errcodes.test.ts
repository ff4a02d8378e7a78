import { describe, expect, it } from 'vitest';
import {
  CREDENTIALS_REJECTED,
  ERRCODES,
  type Errcode,
  lookupErrcode,
  TOKEN_REJECTED,
  TRANSIENT,
} from '../../../lib/platform/errcodes';

const entries: [string, Errcode][] = Object.entries(ERRCODES);
const onPlatform = (platform: 'wecom' | 'mp') =>
  entries.filter(([, entry]) => entry.platform === platform || entry.platform === 'both');

describe('the errcode table', () => {
  it('gives a code one meaning on each platform', () => {
    for (const platform of ['wecom', 'mp'] as const) {
      const codes = onPlatform(platform).map(([, entry]) => entry.code);
      expect(
        codes.filter((code, i) => codes.indexOf(code) !== i),
        platform,
      ).toEqual([]);
    }
  });

  it('names a source for every code, and the published meaning of every verified WeCom code', () => {
    for (const [name, entry] of entries) {
      expect(entry.source, name).not.toBe('');
      if (entry.verified && entry.platform === 'wecom' && entry.code >= 95000)
        expect(entry.official, name).toBeTruthy();
    }
  });

  it('rests no decision on an unverified code', () => {
    // The client and the token provider act on these: refresh the token, back off, or stop for good.
    const actedOn = new Set([...TOKEN_REJECTED, ...TRANSIENT, ...CREDENTIALS_REJECTED]);
    for (const code of actedOn) {
      const meanings = entries.filter(([, entry]) => entry.code === code).map(([, entry]) => entry);
      expect(meanings.length, String(code)).toBeGreaterThan(0);
      for (const entry of meanings) {
        expect(entry.verified, String(code)).toBe(true);
        expect(entry.assumed, String(code)).toBeUndefined();
      }
    }
    const unverified = entries.filter(([, entry]) => !entry.verified).map(([name]) => name);
    expect(unverified).toEqual(['WECOM_BODY_UNREADABLE', 'KF_MSGID_REPEATED', 'KF_SERVICER_LIMIT']);
  });

  it('finds a code by the platform that answered it', () => {
    expect(lookupErrcode('wecom', 40003)?.sentence).toContain('userid');
    expect(lookupErrcode('mp', 40003)?.sentence).toContain('openid');
    expect(lookupErrcode('mp', -1)).toBe(ERRCODES.SYSTEM_BUSY);
    expect(lookupErrcode('mp', 95009)).toBeUndefined();
  });
});
