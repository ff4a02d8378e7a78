/** The longest UTF-8 encoding of one code point. */
const MAX_CODE_POINT_BYTES = 4;

/** Where a part may end, best first: after a line break, after a sentence, after a space or a clause. */
const BREAKS = [/\n/, /[。！？!?]/, /[\s，；]/];

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * Splits a text into parts of at most `maxBytes` UTF-8 bytes each, in order, that join back into the text:
 * WeChat limits a text message by bytes (TEXT_MAX_BYTES), so a long answer goes as several messages.
 *
 * A part never ends inside a character as the reader sees it (an emoji with its modifiers, a letter with its
 * accents), so never inside a UTF-8 sequence or a surrogate pair; only a character longer than `maxBytes` on
 * its own is cut between its code points. A part ends after its last line break, else its last sentence end,
 * else its last space or clause, when that keeps at least half of `maxBytes` in it; otherwise as late as the
 * limit allows, so a text without breaks takes no more messages than it must.
 */
export function splitText(text: string, maxBytes: number): string[] {
  if (!Number.isInteger(maxBytes) || maxBytes < MAX_CODE_POINT_BYTES)
    throw new RangeError(
      `maxBytes must be a whole number of at least ${MAX_CODE_POINT_BYTES}, not ${maxBytes}`,
    );
  const parts: string[] = [];
  let units: string[] = [];
  let bytes = 0;
  for (const unit of unitsOf(text, maxBytes)) {
    const size = utf8Bytes(unit);
    // Text carried past a break may leave too little room for a large character: cut again until it fits.
    while (bytes + size > maxBytes) {
      const end = partEnd(units, bytes, maxBytes / 2);
      parts.push(units.slice(0, end).join(''));
      units = units.slice(end);
      bytes = utf8Bytes(units.join(''));
    }
    units.push(unit);
    bytes += size;
  }
  if (units.length > 0) parts.push(units.join(''));
  return parts;
}

/** The text's graphemes; one over `maxBytes` comes as its code points. */
function* unitsOf(text: string, maxBytes: number): Generator<string> {
  for (const { segment } of graphemes.segment(text)) {
    if (utf8Bytes(segment) <= maxBytes) yield segment;
    else yield* segment;
  }
}

/** How many of a full part's units to send: up to its best break that keeps at least `enough` bytes, else all. */
function partEnd(units: readonly string[], bytes: number, enough: number): number {
  for (const boundary of BREAKS) {
    let kept = bytes;
    for (let i = units.length - 1; i >= 0 && kept >= enough; i--) {
      const unit = units[i] ?? '';
      if (boundary.test(unit)) return i + 1;
      kept -= utf8Bytes(unit);
    }
  }
  return units.length;
}
