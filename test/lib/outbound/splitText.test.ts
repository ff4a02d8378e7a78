import { describe, expect, it } from 'vitest';
import { TEXT_MAX_BYTES } from '../../../lib/contracts/outbound';
import { splitText } from '../../../lib/outbound/splitText';

const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');
/** A lone surrogate would not survive UTF-8: it comes back as U+FFFD. */
const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8') === text;

/** What every split must give: the text again, in parts within the limit, none empty, none with a broken character. */
function split(text: string, maxBytes = TEXT_MAX_BYTES): string[] {
  const parts = splitText(text, maxBytes);
  expect(parts.join('')).toBe(text);
  for (const part of parts) {
    expect(bytesOf(part)).toBeGreaterThan(0);
    expect(bytesOf(part)).toBeLessThanOrEqual(maxBytes);
    expect(wellFormed(part)).toBe(true);
  }
  return parts;
}

describe('splitText', () => {
  it('keeps ASCII text up to the limit whole, and cuts one byte past it', () => {
    expect(split('a'.repeat(TEXT_MAX_BYTES))).toEqual(['a'.repeat(TEXT_MAX_BYTES)]);
    expect(split('a'.repeat(TEXT_MAX_BYTES + 1))).toEqual(['a'.repeat(TEXT_MAX_BYTES), 'a']);
    expect(split('a'.repeat(5000)).map((part) => part.length)).toEqual([2048, 2048, 904]);
  });

  it('cuts CJK text (3 bytes a character) between characters, as late as the limit allows', () => {
    // 682 characters are 2046 bytes; a 683rd would be 2049.
    expect(split('汉'.repeat(682))).toHaveLength(1);
    expect(split('汉'.repeat(683)).map((part) => part.length)).toEqual([682, 1]);
    const parts = split('中文消息'.repeat(750));
    expect(parts.map((part) => part.length)).toEqual([682, 682, 682, 682, 272]);
  });

  it("never cuts a character: not an emoji's surrogate pair or UTF-8 sequence, not a joined family, not an accent", () => {
    const smileys = split('😀'.repeat(1000));
    expect(smileys.map(bytesOf)).toEqual([2048, 1952]);
    // One byte in, no emoji fits at the end of the first part: it ends 3 bytes short.
    expect(split(`a${'😀'.repeat(600)}`).map(bytesOf)).toEqual([2045, 356]);
    const family = '👨‍👩‍👧';
    expect(split(`${'a'.repeat(2040)}${family}`)).toEqual(['a'.repeat(2040), family]);
    // An accent written as its own code point stays with its letter.
    const accented = 'é'.normalize('NFD');
    expect(split(`${'a'.repeat(2046)}${accented}`)).toEqual(['a'.repeat(2046), accented]);
  });

  it('cuts a character longer than the limit on its own between its code points only', () => {
    const family = '👨‍👩‍👧';
    expect(split(family, 8)).toEqual(['👨\u200d', '👩\u200d', '👧']);
  });

  it('ends a part after a line break, a sentence or a space when that keeps at least half of it', () => {
    expect(split(`${'a'.repeat(1500)}\n${'b'.repeat(1000)}`)).toEqual([
      `${'a'.repeat(1500)}\n`,
      'b'.repeat(1000),
    ]);
    expect(split(`${'好'.repeat(400)}。${'好'.repeat(400)}`)).toEqual([
      `${'好'.repeat(400)}。`,
      '好'.repeat(400),
    ]);
    const words = 'word '.repeat(500);
    expect(split(words).map((part) => part.length)).toEqual([2045, 455]);
    // A line break beats a later space.
    expect(split(`${'a'.repeat(1200)}\n${'a'.repeat(500)} ${'a'.repeat(500)}`)[0]).toBe(
      `${'a'.repeat(1200)}\n`,
    );
  });

  it('ignores a break that would leave a part less than half full', () => {
    expect(split(`${'a'.repeat(10)}\n${'b'.repeat(3000)}`).map(bytesOf)).toEqual([2048, 963]);
  });

  it('cuts again when the text carried past a break and the next character do not fit together', () => {
    // 1031 bytes up to the space, then 1000 carried over, then one character of 1501 bytes (a letter, 750 accents).
    const text = `${'a'.repeat(1030)} ${'b'.repeat(1000)}x${'\u0301'.repeat(750)}`;
    expect(split(text).map(bytesOf)).toEqual([1031, 1000, 1501]);
  });

  it('gives parts within the limit that join back into the text, for any mix of scripts, emoji, accents and breaks', () => {
    const pieces = ['a', 'Z', '7', '汉', '。', '，', ' ', '\n', '😀', '👨‍👩‍👧', '👍🏽', '!'];
    const accents = ['\u0301', '\u0308'];
    // mulberry32: the same strings on every run, so a failure can be replayed.
    let seed = 18;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
    // Runs of one piece make long words and lines; a letter with up to 1,100 accents is one character of up to
    // 2,201 bytes, below and above the limit.
    const chunk = () =>
      random() < 0.8
        ? pick(pieces).repeat(1 + Math.floor(random() ** 3 * 300))
        : `e${pick(accents).repeat(Math.floor(random() * 1100))}`;
    for (let run = 0; run < 200; run++) {
      let text = '';
      while (text.length < 6000) text += chunk();
      const maxBytes = pick([8, 64, 700, TEXT_MAX_BYTES]);
      const parts = splitText(text, maxBytes);
      // Checked in one assertion a run: thousands of parts each asserted on would take longer than the splitting.
      const wrong = parts.filter((part) => !part || bytesOf(part) > maxBytes || !wellFormed(part));
      expect({ run, maxBytes, wrong: wrong.map(bytesOf), joined: parts.join('') === text }).toEqual({
        run,
        maxBytes,
        wrong: [],
        joined: true,
      });
    }
  });

  it('gives no part for no text, and refuses a limit no character fits in', () => {
    expect(split('')).toEqual([]);
    expect(() => splitText('abc', 3)).toThrow('maxBytes must be a whole number of at least 4, not 3');
    expect(() => splitText('abc', 10.5)).toThrow(RangeError);
  });
});
