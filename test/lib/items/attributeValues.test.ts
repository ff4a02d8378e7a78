import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  fromAttributeMap,
  toAttributeMap,
  UnreadableValueError,
  UnsupportedValueError,
} from '../../../lib/items/attributeValues';

/** Items as the state table's stores write them: a replay record, an MP budget, and every other supported kind. */
const ITEMS: Record<string, unknown>[] = [
  {
    pk: 'PUSH#default',
    sk: 'f'.repeat(64),
    bodyHash: 'a'.repeat(64),
    ttl: 1_800_000_301,
    processed: true,
  },
  {
    pk: 'BUDGET#default#mp',
    sk: 'oFollower你好',
    lastCustomerMessageAt: 1_800_000_000_000,
    lastCustomerMessageId: '',
    repliesLeft: 5,
    session: null,
  },
  {
    negative: -42,
    fraction: 0.1,
    tiny: 1e-7,
    zero: 0,
    largest: Number.MAX_SAFE_INTEGER,
    smallest: Number.MIN_SAFE_INTEGER,
    no: false,
    list: ['a', 1, true, null, [2, [3]], { inner: 'x' }],
    map: { nested: { deeper: { n: 7, s: '' } }, empty: {} },
    emptyList: [],
  },
];

describe('attribute values', () => {
  it("write what the SDK's DocumentClient (default options) writes, and read back what it reads", () => {
    for (const item of ITEMS) {
      expect(toAttributeMap(item, 'Item')).toEqual(marshall(item));
      expect(fromAttributeMap(marshall(item), 'Item')).toEqual(unmarshall(marshall(item)));
      expect(fromAttributeMap(toAttributeMap(item, 'Item'), 'Item')).toEqual(item);
    }
  });

  it('send numbers as strings, and read them back as numbers', () => {
    expect(toAttributeMap({ ttl: 1_800_000_301, at: 1.5 }, 'Item')).toEqual({
      ttl: { N: '1800000301' },
      at: { N: '1.5' },
    });
    expect(fromAttributeMap({ ttl: { N: '1800000301' }, at: { N: '-1.5' } }, 'Item')).toEqual({
      ttl: 1_800_000_301,
      at: -1.5,
    });
  });

  it('refuse what they do not support, naming where it is and never the value', () => {
    const secret = 'oSecretOpenid0123';
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ':ids': new Set([secret]) }, /^V\.:ids: a set is not supported/],
      [{ ':blob': new TextEncoder().encode(secret) }, /^V\.:blob: a binary value is not supported/],
      [{ ':at': 2n ** 60n }, /^V\.:at: a bigint beyond Number\.MAX_SAFE_INTEGER/],
      [{ ':at': 2 ** 60 }, /^V\.:at: a number beyond Number\.MAX_SAFE_INTEGER/],
      [{ ':at': Number.NaN }, /^V\.:at: DynamoDB stores finite numbers only/],
      [{ ':at': Number.POSITIVE_INFINITY }, /^V\.:at: DynamoDB stores finite numbers only/],
      [{ ':id': undefined }, /^V\.:id: undefined is not a value DynamoDB stores/],
      [{ ':m': { nested: [secret, undefined] } }, /^V\.:m\.nested\[1\]: undefined/],
      [{ ':when': new Date(0) }, /^V\.:when: an instance of Date is not supported/],
    ];
    for (const [values, message] of cases) {
      const error = (() => {
        try {
          toAttributeMap(values, 'V');
        } catch (error) {
          return error as Error;
        }
      })();
      expect(error, String(message)).toBeInstanceOf(UnsupportedValueError);
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain(secret);
    }
  });

  it('write a bigint that a number holds exactly, which reads back as that number', () => {
    expect(toAttributeMap({ n: 42n }, 'Item')).toEqual({ n: { N: '42' } });
    expect(fromAttributeMap(toAttributeMap({ n: 42n }, 'Item'), 'Item')).toEqual({ n: 42 });
  });

  it('refuse to read what has no plain value here, naming the attribute and never the value', () => {
    const secret = 'oSecretOpenid0123';
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ids: { SS: [secret] } }, /^Item\.ids: a SS value is not supported/],
      [{ n: { NS: ['1'] } }, /^Item\.n: a NS value is not supported/],
      [{ blob: { B: 'c2VjcmV0' } }, /^Item\.blob: a B value is not supported/],
      [{ m: { M: { huge: { N: '123456789012345678901234' } } } }, /^Item\.m\.huge: a number beyond/],
      [{ odd: { S: secret, N: '1' } }, /^Item\.odd: not a DynamoDB attribute value of a known type$/],
      [{ odd: { N: 1 } }, /^Item\.odd: not a DynamoDB attribute value/],
      [{ odd: secret }, /^Item\.odd: not a DynamoDB attribute value/],
    ];
    for (const [map, message] of cases) {
      expect(() => fromAttributeMap(map, 'Item'), String(message)).toThrow(UnreadableValueError);
      expect(() => fromAttributeMap(map, 'Item')).toThrow(message);
      try {
        fromAttributeMap(map, 'Item');
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });

  it('keep an attribute named __proto__ an attribute, not the prototype of what they read', () => {
    const read = fromAttributeMap(JSON.parse('{"__proto__": {"M": {"polluted": {"BOOL": true}}}}'), 'Item');
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.keys(read)).toEqual(['__proto__']);
    expect((read as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
