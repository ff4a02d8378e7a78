import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lib/errors';
import { parseWechatXml } from '../../lib/xml';

describe('parseWechatXml', () => {
  it('reads CDATA, entities, character references and nested items', () => {
    const xml = parseWechatXml(
      '<xml><A><![CDATA[a &amp; <b>]]></A><B>1 &amp; 2 &#20320;</B><C><item><D>1</D></item><item><D>2</D></item></C></xml>',
    );
    expect(xml).toEqual({ A: 'a &amp; <b>', B: '1 & 2 你', C: { item: [{ D: '1' }, { D: '2' }] } });
  });

  it('refuses an external entity (XXE) without resolving it', () => {
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><A>&e;</A></xml>';
    expect(() => parseWechatXml(xxe)).toThrow(new BadRequestError('XML must not contain a DTD'));
  });

  it('refuses an entity-expansion bomb cheaply', () => {
    const entities = Array.from(
      { length: 10 },
      (_, i) => `<!ENTITY l${i + 1} "${'&l'.concat(String(i), ';').repeat(10)}">`,
    );
    const bomb = `<!DOCTYPE xml [<!ENTITY l0 "lol">${entities.join('')}]><xml><A>&l10;</A></xml>`;
    expect(() => parseWechatXml(bomb)).toThrow(new BadRequestError('XML must not contain a DTD'));
  });

  it.each([
    ['unclosed tags', '<xml><A></xml>', 'XML is malformed'],
    ['text', 'hello', 'XML is malformed'],
    ['another root', '<root><A>1</A></root>', 'XML has no <xml> root element'],
    ['a text root', '<xml>text</xml>', 'XML has no <xml> root element'],
  ])('refuses %s', (_, body, message) => {
    expect(() => parseWechatXml(body)).toThrow(new BadRequestError(message));
  });
});
