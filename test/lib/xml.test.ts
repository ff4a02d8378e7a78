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

describe('parseWechatXml on what WeChat sends', () => {
  it('skips a byte-order mark, the declaration, comments and processing instructions', () => {
    const body =
      '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- a --><?pi x?>\n<xml>\n  <!-- b --><A>1</A><?pi y?>\n</xml>\n<!-- c -->\n';
    expect(parseWechatXml(body)).toEqual({ A: '1' });
  });

  it('keeps CDATA verbatim, with "]]", "<", "&" and its own whitespace; trims plain text', () => {
    const body =
      '<xml><A><![CDATA[ a]]b]] <c> &amp; ]]]></A><B>\n  x y \n</B><C> <![CDATA[ y ]]> </C><D><![CDATA[]]></D><E><![CDATA[a]]><![CDATA[b]]></E></xml>';
    expect(parseWechatXml(body)).toEqual({ A: ' a]]b]] <c> &amp; ]', B: 'x y', C: ' y ', D: '', E: 'ab' });
  });

  it('ignores whitespace-only text between elements and reads empty elements as ""', () => {
    const body = '<xml>\n\t<A> </A>\n\t<B/>\n\t<C>\n\t\t<D>1</D>\n\t</C>\n</xml>';
    expect(parseWechatXml(body)).toEqual({ A: '', B: '', C: { D: '1' } });
  });

  it('makes repeated siblings an array in document order, whatever lies between; values stay strings', () => {
    const body = '<xml><item><C>1</C></item><B>007</B><item>2</item><item/><N>1e3</N><T>true</T></xml>';
    expect(parseWechatXml(body)).toEqual({ item: [{ C: '1' }, '2', ''], B: '007', N: '1e3', T: 'true' });
  });

  it('decodes the five predefined entities and character references outside CDATA, once', () => {
    const body = '<xml><A>&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x1F600;&#20320; &amp;lt;&#38;#65;</A></xml>';
    expect(parseWechatXml(body)).toEqual({ A: `<>&"' AB😀你 &lt;&#65;` });
  });

  it('reads line ends as XML does: CR LF and CR become LF, also in CDATA', () => {
    expect(parseWechatXml('<xml>\r\n<A>a\r\nb</A><B><![CDATA[c\rd]]></B></xml>')).toEqual({
      A: 'a\nb',
      B: 'c\nd',
    });
  });

  it('reads a DTD-looking text inside CDATA or a comment as what it is', () => {
    const body =
      '<xml><!-- <!DOCTYPE x> --><Content><![CDATA[<!DOCTYPE html><!ENTITY e "x">]]></Content></xml>';
    expect(parseWechatXml(body)).toEqual({ Content: '<!DOCTYPE html><!ENTITY e "x">' });
  });

  it.each([
    ['a lower-case doctype', '<!doctype xml><xml><A>1</A></xml>'],
    ['an entity declaration inside the root', '<xml><!ENTITY e "x"><A>1</A></xml>'],
  ])('refuses %s as a DTD', (_, body) => {
    expect(() => parseWechatXml(body, 'callback body')).toThrow(
      new BadRequestError('callback body must not contain a DTD'),
    );
  });

  it('refuses an element that mixes text and elements', () => {
    expect(() => parseWechatXml('<xml><A>text<B>1</B></A></xml>')).toThrow(
      new BadRequestError('XML mixes text and elements in <A>'),
    );
    expect(() => parseWechatXml('<xml><A>1</A>stray</xml>')).toThrow(
      new BadRequestError('XML mixes text and elements in <xml>'),
    );
  });

  it.each([
    ['mismatched tags', '<xml><A>1</B></xml>'],
    ['an unclosed root', '<xml><A>1</A>'],
    ['a closing tag with nothing open', '<xml><A>1</A></xml></xml>'],
    ['text after the root', '<xml><A>1</A></xml>tail'],
    ['a second root', '<xml><A>1</A></xml><xml><A>2</A></xml>'],
    ['an element after the root', '<xml><A>1</A></xml><B/>'],
    ['text before the root', 'head<xml><A>1</A></xml>'],
    ['nothing', ''],
    ['only whitespace', ' \n '],
    ['a declaration after whitespace', ' <?xml version="1.0"?><xml><A>1</A></xml>'],
    ['a declaration inside the root', '<xml><?xml version="1.0"?><A>1</A></xml>'],
    ['a second declaration', '<?xml version="1.0"?><?xml version="1.0"?><xml><A>1</A></xml>'],
    ['an unclosed CDATA section', '<xml><A><![CDATA[x</A></xml>'],
    ['an unclosed comment', '<xml><A>1</A><!-- x</xml>'],
    ['an unclosed processing instruction', '<xml><A>1</A><?pi x</xml>'],
    ['an unknown markup declaration', '<xml><!ELEMENT A ANY><A>1</A></xml>'],
    ['"]]>" in text', '<xml><A>a]]>b</A></xml>'],
    ['a space before the element name', '<xml>< A>1</A></xml>'],
    ['an unquoted attribute', '<xml><A x=1>1</A></xml>'],
    ['an attribute without a value', '<xml><A x>1</A></xml>'],
    ['attributes without a space between them', '<xml><A x="1"y="2">1</A></xml>'],
    ['a repeated attribute', '<xml><A x="1" x="2">1</A></xml>'],
    ['"<" in an attribute value', '<xml><A x="<">1</A></xml>'],
    ['a space inside "/>"', '<xml><A/ ></xml>'],
    ['a bare ampersand', '<xml><A>a & b</A></xml>'],
    ['a reference without its semicolon', '<xml><A>&amp</A></xml>'],
    ['an HTML entity', '<xml><A>&nbsp;</A></xml>'],
    ['an unknown named entity', '<xml><A>&e;</A></xml>'],
    ['an entity named like an Object property', '<xml><A>&constructor;</A></xml>'],
    ['an empty character reference', '<xml><A>&#;</A></xml>'],
    ['an empty hex character reference', '<xml><A>&#x;</A></xml>'],
    ['an upper-case X in a hex reference', '<xml><A>&#X41;</A></xml>'],
    ['a reference to NUL', '<xml><A>&#0;</A></xml>'],
    ['a reference to a control character', '<xml><A>&#x1;</A></xml>'],
    ['a reference to a surrogate', '<xml><A>&#xD800;</A></xml>'],
    ['a reference past U+10FFFF', '<xml><A>&#x110000;</A></xml>'],
    ['a reference with too many digits', `<xml><A>&#${'9'.repeat(400)};</A></xml>`],
  ])('refuses %s as malformed', (_, body) => {
    expect(() => parseWechatXml(body, 'decrypted message')).toThrow(
      new BadRequestError('decrypted message is malformed'),
    );
  });
});

describe('parseWechatXml on large or hostile input', () => {
  /** Time enough for a linear pass over a megabyte on a busy machine; a quadratic one takes minutes. */
  const LINEAR_MS = 1000;
  const MB = 1024 * 1024;

  const timed = (run: () => void): number => {
    const started = performance.now();
    run();
    return performance.now() - started;
  };

  it('parses a 1 MB WeChat-shaped body in linear time', () => {
    const item = '<item>\n<PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]></PicMd5Sum>\n</item>\n';
    const items = item.repeat(Math.ceil(MB / item.length));
    const content = `<Content><![CDATA[${'你好 <b> & ]] '.repeat(MB / 64)}]]></Content><Text>${'a &amp; &#20320; '.repeat(MB / 64)}</Text>`;
    const body = `<?xml version="1.0"?><xml><SendPicsInfo><PicList>${items}</PicList></SendPicsInfo>${content}</xml>`;
    let parsed: unknown;
    expect(timed(() => (parsed = parseWechatXml(body)))).toBeLessThan(LINEAR_MS);
    expect(
      (parsed as { SendPicsInfo: { PicList: { item: unknown[] } } }).SendPicsInfo.PicList.item,
    ).toHaveLength(Math.ceil(MB / item.length));
  });

  it.each([
    ['"<" repeated', `<xml><A>${'<'.repeat(MB)}</A></xml>`],
    ['"<a " repeated', `<xml>${'<a '.repeat(MB / 3)}</xml>`],
    ['an unclosed tag with many attributes', `<xml><A${' b="1"'.repeat(MB / 6)}`],
    ['an unclosed tag with a long name', `<xml><A${'a'.repeat(MB)}`],
    ['an unclosed attribute value', `<xml><A b="${'x'.repeat(MB)}`],
    ['an unclosed CDATA section', `<xml><A><![CDATA[${']'.repeat(MB)}`],
    ['CDATA openings repeated', `<xml><A>${'<![CDATA['.repeat(MB / 9)}`],
    ['comment openings repeated', `<xml>${'<!--'.repeat(MB / 4)}`],
    ['processing-instruction openings repeated', `<xml>${'<?'.repeat(MB / 2)}`],
    ['ampersands repeated', `<xml><A>${'&'.repeat(MB)}</A></xml>`],
    ['a long character reference', `<xml><A>&#${'1'.repeat(MB)};</A></xml>`],
    ['closing tags repeated', `<xml>${'</a'.repeat(MB / 3)}`],
    ['empty elements repeated past the end', `<xml>${'<a/>'.repeat(MB / 4)}`],
  ])('refuses a megabyte of %s in linear time', (_, body) => {
    expect(timed(() => expect(() => parseWechatXml(body)).toThrow(BadRequestError))).toBeLessThan(LINEAR_MS);
  });
});
