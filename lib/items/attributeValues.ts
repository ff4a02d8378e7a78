import { KfBridgeError } from '../errors';

/**
 * DynamoDB's typed attribute values (`{ "S": "…" }`, `{ "N": "42" }`) from and to plain JS values, for the kinds
 * the state table's stores write and read: strings, numbers, booleans, null, lists and maps. What the SDK's
 * DocumentClient does with its default options (no removeUndefinedValues, no class instances as maps, no
 * imprecise numbers) is what happens here too, except where no store goes: sets, binary values and bigints are
 * refused rather than converted, a number read back past the safe-integer range is refused rather than made a
 * BigInt, and a function inside a map or list is refused rather than dropped. Errors name where a value is,
 * never the value.
 */

export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly L: readonly AttributeValue[] }
  | { readonly M: Readonly<Record<string, AttributeValue>> };

/** A value that cannot be written as it is: a bug of the store that wrote it, found before anything is sent. */
export class UnsupportedValueError extends KfBridgeError {}

/** A value DynamoDB answered with that has no plain JS equivalent here (a set, a binary, a huge number). */
export class UnreadableValueError extends KfBridgeError {}

const isPlainObject = (value: object) => {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

function kindOf(value: unknown): string {
  if (value instanceof Set) return 'a set';
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return 'a binary value';
  if (typeof value === 'object' && value !== null)
    return `an instance of ${value.constructor?.name ?? 'a class'}`;
  return `a ${typeof value}`;
}

/** One value as DynamoDB's typed form; `at` says where it is (`ExpressionAttributeValues[":at"]`). */
export function toAttributeValue(value: unknown, at: string): AttributeValue {
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'boolean':
      return { BOOL: value };
    case 'number':
      if (!Number.isFinite(value))
        throw new UnsupportedValueError(`${at}: DynamoDB stores finite numbers only`);
      if (!Number.isSafeInteger(Math.trunc(value)))
        throw new UnsupportedValueError(`${at}: a number beyond Number.MAX_SAFE_INTEGER would lose digits`);
      return { N: String(value) };
    case 'bigint':
      // A bigint comes back as a number: only one that a number holds exactly makes the round trip.
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
        throw new UnsupportedValueError(`${at}: a bigint beyond Number.MAX_SAFE_INTEGER is not supported`);
      return { N: value.toString() };
    case 'undefined':
      throw new UnsupportedValueError(
        `${at}: undefined is not a value DynamoDB stores (leave the attribute out)`,
      );
    case 'object':
      if (value === null) return { NULL: true };
      if (Array.isArray(value)) return { L: value.map((entry, i) => toAttributeValue(entry, `${at}[${i}]`)) };
      if (isPlainObject(value)) return { M: toAttributeMap(value as Record<string, unknown>, at) };
      break;
  }
  throw new UnsupportedValueError(
    `${at}: ${kindOf(value)} is not supported (strings, numbers, booleans, null, lists, maps)`,
  );
}

/** A map of values (an item, a key, ExpressionAttributeValues) as DynamoDB's typed form. */
export function toAttributeMap(
  values: Readonly<Record<string, unknown>>,
  at: string,
): Record<string, AttributeValue> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, toAttributeValue(value, `${at}.${name}`)]),
  );
}

/** One typed value DynamoDB answered with, as a plain JS value. */
export function fromAttributeValue(value: unknown, at: string): unknown {
  const typed = (value ?? {}) as Record<string, unknown>;
  const [type, ...more] = Object.keys(typed);
  const content = type === undefined ? undefined : typed[type];
  if (more.length === 0) {
    if (type === 'S' && typeof content === 'string') return content;
    if (type === 'N' && typeof content === 'string') {
      const number = Number(content);
      if (!Number.isFinite(number) || !Number.isSafeInteger(Math.trunc(number)))
        throw new UnreadableValueError(`${at}: a number beyond Number.MAX_SAFE_INTEGER would lose digits`);
      return number;
    }
    if (type === 'BOOL' && typeof content === 'boolean') return content;
    if (type === 'NULL' && content === true) return null;
    if (type === 'L' && Array.isArray(content))
      return content.map((entry, i) => fromAttributeValue(entry, `${at}[${i}]`));
    if (type === 'M' && typeof content === 'object' && content !== null && !Array.isArray(content))
      return fromAttributeMap(content as Record<string, unknown>, at);
    if (type === 'SS' || type === 'NS' || type === 'BS' || type === 'B')
      throw new UnreadableValueError(`${at}: a ${type} value is not supported (sets and binary values)`);
  }
  throw new UnreadableValueError(`${at}: not a DynamoDB attribute value of a known type`);
}

/**
 * A typed map DynamoDB answered with (an item, its old attributes), as plain JS values. Built with
 * Object.fromEntries: an attribute named `__proto__` stays an attribute rather than becoming the prototype.
 */
export function fromAttributeMap(
  map: Readonly<Record<string, unknown>>,
  at: string,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(map).map(([name, value]) => [name, fromAttributeValue(value, `${at}.${name}`)]),
  );
}
