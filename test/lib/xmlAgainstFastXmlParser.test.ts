import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { expect, it } from 'vitest';
import { parseWechatXml } from '../../lib/xml';

/**
 * lib/xml.ts replaced fast-xml-parser in the callback bundle (issue #19). This holds it to the old reading of
 * every document WeChat could send: fast-xml-parser, configured as lib/xml.ts configured it, is the reference.
 */
const reference = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: true,
});

/** mulberry32: a seeded generator, so a failing document can be regenerated from its seed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  'ToUserName',
  'FromUserName',
  'CreateTime',
  'MsgType',
  'Content',
  'MsgId',
  'Event',
  'EventKey',
  'Encrypt',
  'Token',
  'OpenKfId',
  'ScanCodeInfo',
  'SendLocationInfo',
  'Location_X',
  'Poiname',
  'a.b',
  '_c-d',
];
const TEXT = [
  'a',
  'Z',
  '0',
  '42',
  ' ',
  '你好',
  '>',
  '"',
  "'",
  '-',
  '.',
  '/',
  '&amp;',
  '&lt;',
  '&gt;',
  '&quot;',
];
const MORE_TEXT = ['&apos;', '&#65;', '&#x4F60;', '&#x1F600;', '&#10;', 'https://x/?a=1&amp;b=2'];
const CDATA = [
  'a',
  ' ',
  '\n',
  '你',
  '<',
  '<b>',
  '&',
  '&amp;',
  ']',
  ']]',
  '>',
  '[',
  'CDATA',
  '<![CDATA[',
  '😀',
];
const SPACE = ['', '', '\n', '\n  ', ' \t', '<!-- note -->', '<?pi x?>'];

function document(seed: number): string {
  const next = random(seed);
  const pick = <T>(from: readonly T[]): T => from[Math.floor(next() * from.length)] as T;
  const many = (from: readonly string[], max: number) =>
    Array.from({ length: Math.floor(next() * max) }, () => pick(from)).join('');
  const attribute = () => (next() < 0.15 ? pick([' id="1"', " type='a b'", ' x="&amp;"']) : '');
  const text = () => {
    const kind = next();
    const plain = () => many([...TEXT, ...MORE_TEXT], 8);
    if (kind < 0.45) return `<![CDATA[${many(CDATA, 10).replaceAll(']]>', ']] >')}]]>`;
    if (kind < 0.85) return plain();
    return `${plain()}<![CDATA[${many(CDATA, 4).replaceAll(']]>', ']] >')}]]>${plain()}`;
  };
  const element = (name: string, depth: number): string => {
    const kind = next();
    if (kind < 0.1) return `<${name}${attribute()}/>`;
    if (kind < 0.6 || depth >= 5) return `<${name}${attribute()}>${text()}</${name}>`;
    return `<${name}${attribute()}>${children(depth + 1)}${pick(SPACE)}</${name}>`;
  };
  const children = (depth: number): string => {
    const parts: string[] = [];
    const count = 1 + Math.floor(next() * 5);
    for (let i = 0; i < count; i++) {
      // Repeated siblings are WeChat's lists (PicList > item); sometimes interleaved with others.
      const name = next() < 0.3 ? 'item' : pick(NAMES);
      parts.push(pick(SPACE), element(name, depth));
    }
    return parts.join('');
  };
  const declaration = next() < 0.5 ? `<?xml version="1.0" encoding="UTF-8"?>${pick(['', '\n'])}` : '';
  return `${declaration}<xml>${children(2)}${pick(SPACE)}</xml>${pick(['', '\n'])}`;
}

/** What a parser made of a document: its root element, or the message of what it threw. */
function reading(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

it('reads 2000 generated WeChat-shaped documents exactly as fast-xml-parser did', () => {
  const differing: { seed: number; body: string; mine: unknown; theirs: unknown }[] = [];
  for (let seed = 1; seed <= 2000; seed++) {
    const body = document(seed);
    const mine = reading(() => parseWechatXml(body));
    const theirs = reading(() => reference.parse(body).xml);
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) differing.push({ seed, body, mine, theirs });
  }
  expect(differing.slice(0, 2)).toEqual([]);
});

it.each([
  'mp/event.pic_sysphoto.xml',
  'mp/event.scancode_waitmsg.xml',
  'mp/event.location_select.xml',
  'mp/push.link.xml',
  'mp/safe_mode_envelope.xml',
  'wecom/callback_envelope.xml',
  'wecom/kf_msg_or_event.xml',
])('reads the corpus example %s as fast-xml-parser did', (file) => {
  const body = readFileSync(join(import.meta.dirname, '../contract/corpus', file), 'utf8');
  expect(parseWechatXml(body)).toEqual(reference.parse(body).xml);
});
