import { BadRequestError } from './errors';

export type XmlValue = string | XmlElement | XmlValue[];
export interface XmlElement {
  [name: string]: XmlValue;
}

/*
 * A reader for exactly the XML WeChat sends: an optional declaration, one <xml> root, elements holding CDATA,
 * plain text or other elements, repeated siblings for lists. Attributes are read past; comments and processing
 * instructions skipped. fast-xml-parser did this with ~60 KB of code in the callback's bundle (issue #19).
 * The scanner finds each '<' with indexOf and tries one sticky pattern there, once; none has nested
 * alternatives to backtrack through, and a failed one ends the parse, so any document is read in linear time.
 */

/** WeChat's deepest payload nests five elements: xml > SendPicsInfo > PicList > item > PicMd5Sum. */
const MAX_DEPTH = 8;
const ELEMENT_NAME = /^[A-Za-z_][\w.-]{0,63}$/;
/** An element named like these would become a property reaching Object.prototype (prototype pollution). */
const RESERVED_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

const START_TAG = /<([^\s/<>]+)((?:\s+[^\s=/<>"']+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
const ATTRIBUTE_NAME = /([^\s=]+)\s*=\s*(?:"[^"]*"|'[^']*')/g;
const END_TAG = /<\/([^\s/<>]+)\s*>/y;
const PI_TARGET = /<\?([A-Za-z_][\w.:-]*)(?=\s|\?>)/y;
// A DTD is never part of a WeChat payload; refusing it outright makes XXE and entity-expansion bombs a cheap 400.
const DTD = /<!(?:DOCTYPE|ENTITY)/iy;

/** Only XML's own five: WeChat escapes nothing else by name, and an HTML entity table would cost 6 KB. */
const PREDEFINED = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
]);

/** XML 1.0's Char production: a reference to anything else (NUL, a surrogate, past U+10FFFF) is malformed. */
const isXmlChar = (code: number) =>
  code === 0x9 ||
  code === 0xa ||
  code === 0xd ||
  (code >= 0x20 && code <= 0xd7ff) ||
  (code >= 0xe000 && code <= 0xfffd) ||
  (code >= 0x10000 && code <= 0x10ffff);

function referenced(name: string): string | undefined {
  const predefined = PREDEFINED.get(name);
  if (predefined !== undefined) return predefined;
  const code = /^#[0-9]+$/.test(name)
    ? Number(name.slice(1))
    : /^#x[0-9A-Fa-f]+$/.test(name)
      ? Number.parseInt(name.slice(2), 16)
      : Number.NaN;
  return isXmlChar(code) ? String.fromCodePoint(code) : undefined;
}

/** Decodes the references in a run of plain text; undefined when one is not XML's or not a character. */
function decodeReferences(run: string): string | undefined {
  let decoded = '';
  let from = 0;
  for (let amp = run.indexOf('&'); amp !== -1; amp = run.indexOf('&', from)) {
    const semicolon = run.indexOf(';', amp);
    const character = semicolon === -1 ? undefined : referenced(run.slice(amp + 1, semicolon));
    if (character === undefined) return undefined;
    decoded += run.slice(from, amp) + character;
    from = semicolon + 1;
  }
  return decoded + run.slice(from);
}

interface OpenElement {
  readonly name: string;
  /** Trimmed plain-text runs with their references decoded, and CDATA sections as they are. */
  text: string;
  children?: XmlElement;
}

function append(parent: OpenElement, name: string, value: XmlValue): void {
  parent.children ??= {};
  const earlier = parent.children[name];
  if (earlier === undefined) parent.children[name] = value;
  else if (Array.isArray(earlier)) earlier.push(value);
  else parent.children[name] = [earlier, value];
}

/** Parses a WeChat `<xml>…</xml>` document into its root element; anything else is a BadRequestError. */
export function parseWechatXml(text: string, what = 'XML'): XmlElement {
  try {
    return scan(text, what);
  } catch (error) {
    // Whatever else gives out (a regexp's stack on a pathological tag) is the sender's fault too: a 400, never
    // a 500 and an ERROR line.
    if (error instanceof BadRequestError) throw error;
    throw new BadRequestError(`${what} is malformed`, { cause: error });
  }
}

function scan(text: string, what: string): XmlElement {
  // The reason goes in the cause, for whoever debugs; the message stays one a sender can be shown.
  const malformed = (reason: string) =>
    new BadRequestError(`${what} is malformed`, { cause: new Error(reason) });
  // XML reads every line end as LF, CDATA included.
  const source = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r\n?/g, '\n');
  const open: OpenElement[] = [];
  let root: { name: string; value: XmlValue } | undefined;

  const addText = (run: string, at: number) => {
    const parent = open.at(-1);
    if (!parent) throw malformed(`text outside the root element at offset ${at}`);
    if (run.includes(']]>')) throw malformed(`"]]>" outside CDATA at offset ${at}`);
    const decoded = decodeReferences(run);
    if (decoded === undefined) throw malformed(`an unknown or invalid reference at offset ${at}`);
    parent.text += decoded;
  };

  const close = (element: OpenElement) => {
    if (element.children && element.text !== '')
      throw new BadRequestError(`${what} mixes text and elements in <${element.name}>`);
    const value = element.children ?? element.text;
    const parent = open.at(-1);
    if (parent) append(parent, element.name, value);
    else root = { name: element.name, value };
  };

  /** Reads the markup starting at `at` (a '<') and returns where the text after it starts. */
  const readMarkup = (at: number): number => {
    if (source.startsWith('<![CDATA[', at)) {
      const end = source.indexOf(']]>', at + 9);
      const parent = open.at(-1);
      if (end === -1 || !parent)
        throw malformed(`a CDATA section unclosed or outside the root at offset ${at}`);
      parent.text += source.slice(at + 9, end);
      return end + 3;
    }
    if (source.startsWith('<!--', at)) {
      const end = source.indexOf('-->', at + 4);
      if (end === -1) throw malformed(`an unclosed comment at offset ${at}`);
      return end + 3;
    }
    if (source.startsWith('<?', at)) {
      PI_TARGET.lastIndex = at;
      const target = PI_TARGET.exec(source)?.[1];
      const end = source.indexOf('?>', at + 2);
      if (target === undefined || end === -1) throw malformed(`a bad processing instruction at offset ${at}`);
      if (target.toLowerCase() === 'xml' && at !== 0)
        throw malformed(`an XML declaration not at the start, at offset ${at}`);
      return end + 2;
    }
    if (source.startsWith('<!', at)) {
      DTD.lastIndex = at;
      if (DTD.test(source)) throw new BadRequestError(`${what} must not contain a DTD`);
      throw malformed(`a markup declaration at offset ${at}`);
    }
    if (source.startsWith('</', at)) {
      END_TAG.lastIndex = at;
      const name = END_TAG.exec(source)?.[1];
      const element = open.pop();
      if (element === undefined || name !== element.name)
        throw malformed(`a closing tag that closes no open element at offset ${at}`);
      close(element);
      return END_TAG.lastIndex;
    }
    START_TAG.lastIndex = at;
    const tag = START_TAG.exec(source);
    if (!tag) throw malformed(`a bad start tag at offset ${at}`);
    const [, name = '', attributes = '', selfClosing] = tag;
    if (!ELEMENT_NAME.test(name)) throw new BadRequestError(`${what} has an element name WeChat never uses`);
    if (RESERVED_NAMES.has(name)) throw new BadRequestError(`${what} has a reserved element name <${name}>`);
    if (open.length === MAX_DEPTH)
      throw new BadRequestError(`${what} nests elements deeper than ${MAX_DEPTH}`);
    if (open.length === 0 && root !== undefined) throw malformed(`a second root element at offset ${at}`);
    const attributeNames = [...attributes.matchAll(ATTRIBUTE_NAME)].map(([, attribute]) => attribute);
    if (new Set(attributeNames).size !== attributeNames.length)
      throw malformed(`a repeated attribute at offset ${at}`);
    const element: OpenElement = { name, text: '' };
    if (selfClosing) close(element);
    else open.push(element);
    return START_TAG.lastIndex;
  };

  let at = 0;
  while (at < source.length) {
    const markup = source.indexOf('<', at);
    const end = markup === -1 ? source.length : markup;
    const run = source.slice(at, end).trim();
    if (run !== '') addText(run, at);
    at = markup === -1 ? end : readMarkup(markup);
  }
  const unclosed = open.at(-1);
  if (unclosed) throw malformed(`<${unclosed.name}> is never closed`);
  if (root === undefined) throw malformed('no root element');
  if (root.name !== 'xml' || typeof root.value !== 'object' || Array.isArray(root.value)) {
    throw new BadRequestError(`${what} has no <xml> root element`);
  }
  return root.value;
}

/** The text of a direct child, or undefined when absent, empty or not text. */
export function textOf(element: XmlElement, name: string): string | undefined {
  const value = element[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function requiredText(element: XmlElement, name: string, what: string): string {
  const value = textOf(element, name);
  if (value === undefined) throw new BadRequestError(`${what} has no <${name}>`);
  return value;
}
