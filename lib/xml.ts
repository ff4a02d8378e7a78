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

/** Parses a WeChat `<xml>…</xml>` document into its root element; anything else is a BadRequestError. */
export function parseWechatXml(text: string, what = 'XML'): XmlElement {
  if (DTD.test(text)) throw new BadRequestError(`${what} must not contain a DTD`);
  if (XMLValidator.validate(text) !== true) throw new BadRequestError(`${what} is malformed`);
  const root = (parser.parse(text) as XmlElement).xml;
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
