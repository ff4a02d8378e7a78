import { byteLength, WxError } from './core';

/** 40058 is WeCom's "invalid parameter"; the errmsg names the field. */
export const invalid = (field: string, why: string) =>
  new WxError(40058, `invalid parameter ${field}: ${why}`);

export type Body = Record<string, unknown>;

export function objectBody(value: unknown): Body {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new WxError(47001, 'data format error, Warning: wrong json format.');
  return value as Body;
}

export function requiredString(
  body: Body,
  field: string,
  options: { maxBytes?: number; pattern?: RegExp } = {},
): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw invalid(field, 'required');
  return checkString(value, field, options);
}

export function optionalString(
  body: Body,
  field: string,
  options: { maxBytes?: number; pattern?: RegExp } = {},
): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  return checkString(value, field, options);
}

function checkString(
  value: string,
  field: string,
  { maxBytes, pattern }: { maxBytes?: number; pattern?: RegExp },
): string {
  if (maxBytes !== undefined && byteLength(value) > maxBytes) throw invalid(field, `over ${maxBytes} bytes`);
  if (pattern && !pattern.test(value)) throw invalid(field, 'bad format');
  return value;
}

export function optionalInt(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer in ${min}..${max}`);
  }
  return value;
}

export function stringList(body: Body, field: string, max: number): string[] {
  const value = body[field] ?? [];
  if (!Array.isArray(value) || value.length > max || value.some((item) => typeof item !== 'string')) {
    throw invalid(field, `must be a list of at most ${max} strings`);
  }
  return value as string[];
}

/** WeCom truncates these fields to their byte limit instead of refusing them. */
export function truncateBytes(value: string, maxBytes: number): string {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= maxBytes) return value;
  return bytes
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
}
