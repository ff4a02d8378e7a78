import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BadRequestError } from './errors';

export type XmlValue = string | XmlElement | XmlValue[];
export interface XmlElement {
  [name: string]: XmlValue;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  // Predefined, character-reference and HTML named entities only: DTDs are refused before parsing.
  processEntities: true,
  htmlEntities: true,
});

// A DTD is never part of a WeChat payload; refusing it outright makes XXE and entity-expansion bombs a cheap 400.
const DTD = /<!DOCTYPE|<!ENTITY/i;

/** WeChat's deepest payload nests five elements: xml > SendPicsInfo > PicList > item > PicMd5Sum. */
const MAX_DEPTH = 8;
const ELEMENT_NAME = /^[A-Za-z_][\w.-]{0,63}$/;
/** An element named like these would become a property reaching Object.prototype (prototype pollution). */
const RESERVED_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);
/**
 * The markup of a well-formed document: CDATA, comments and processing instructions hold no elements, and an
 * attribute value holds no '<', so each remaining match is one tag: closing slash, name, self-closing slash.
 */
const MARKUP =
  /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<(\/?)([^\s/>]+)(?:"[^"]*"|'[^']*'|[^'">])*?(\/?)>/g;

/** Bounds a validated document's nesting and element names before the parser builds objects from them. */
function checkElements(text: string, what: string): void {
  let depth = 0;
  for (const [, closing, name, selfClosing] of text.matchAll(MARKUP)) {
    if (name === undefined) continue;
    if (closing) {
      depth--;
      continue;
    }
    if (!ELEMENT_NAME.test(name)) throw new BadRequestError(`${what} has an element name WeChat never uses`);
    if (RESERVED_NAMES.has(name)) throw new BadRequestError(`${what} has a reserved element name <${name}>`);
    if (depth === MAX_DEPTH) throw new BadRequestError(`${what} nests elements deeper than ${MAX_DEPTH}`);
    if (!selfClosing) depth++;
  }
}

/** Parses a WeChat `<xml>…</xml>` document into its root element; anything else is a BadRequestError. */
export function parseWechatXml(text: string, what = 'XML'): XmlElement {
  if (DTD.test(text)) throw new BadRequestError(`${what} must not contain a DTD`);
  let parsed: XmlElement;
  try {
    if (XMLValidator.validate(text) !== true) throw new BadRequestError(`${what} is malformed`);
    checkElements(text, what);
    parsed = parser.parse(text) as XmlElement;
  } catch (error) {
    // Whatever else the parser refuses is the sender's fault too: a 400, never a 500 and an ERROR line.
    throw error instanceof BadRequestError
      ? error
      : new BadRequestError(`${what} is malformed`, { cause: error });
  }
  const root = parsed.xml;
  if (root === undefined || typeof root !== 'object' || Array.isArray(root)) {
    throw new BadRequestError(`${what} has no <xml> root element`);
  }
  return root;
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
