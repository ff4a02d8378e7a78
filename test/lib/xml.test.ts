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

  it("reads WeChat's deepest payload: five elements, an attribute, a self-closing element", () => {
    const pics =
      '<xml><SendPicsInfo><Count>1</Count><PicList><item id="1"><PicMd5Sum><![CDATA[<a>]]></PicMd5Sum><Empty/></item></PicList></SendPicsInfo></xml>';
    expect(parseWechatXml(pics)).toEqual({
      SendPicsInfo: { Count: '1', PicList: { item: { PicMd5Sum: '<a>', Empty: '' } } },
    });
  });

  it.each([
    [
      'deep nesting',
      `<xml>${'<a>'.repeat(200)}x${'</a>'.repeat(200)}</xml>`,
      'XML nests elements deeper than 8',
    ],
    [
      'one level too deep',
      `<xml>${'<a>'.repeat(7)}<b/>${'</a>'.repeat(7)}</xml>`,
      'XML nests elements deeper than 8',
    ],
    [
      'a __proto__ element',
      '<xml><__proto__><polluted>1</polluted></__proto__></xml>',
      'XML has a reserved element name <__proto__>',
    ],
    [
      'a constructor element',
      '<xml><constructor><prototype>1</prototype></constructor></xml>',
      'XML has a reserved element name <constructor>',
    ],
    [
      'a prototype element',
      '<xml><prototype>1</prototype></xml>',
      'XML has a reserved element name <prototype>',
    ],
    ['a toString element', '<xml><toString>1</toString></xml>', 'XML has a reserved element name <toString>'],
    [
      'an overlong element name',
      `<xml><${'A'.repeat(65)}>1</${'A'.repeat(65)}></xml>`,
      'XML has an element name WeChat never uses',
    ],
    [
      'a namespaced element name',
      '<xml><a:b xmlns:a="urn:x">1</a:b></xml>',
      'XML has an element name WeChat never uses',
    ],
  ])('refuses %s with a BadRequestError, touching no prototype', (_, body, message) => {
    expect(() => parseWechatXml(body)).toThrow(new BadRequestError(message));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
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
