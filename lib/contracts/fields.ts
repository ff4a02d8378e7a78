import * as v from 'valibot';

/** Field schemas the contracts share. WeChat limits text by UTF-8 bytes, not characters. */
export const bytes = (max: number) =>
  v.check((s: string) => Buffer.byteLength(s, 'utf8') <= max, `at most ${max} bytes`);
export const text = (max: number) => v.pipe(v.string(), v.minLength(1), bytes(max));
export const mediaId = v.pipe(v.string(), v.minLength(1), bytes(128));
export const httpUrl = v.pipe(v.string(), v.regex(/^https?:\/\//, 'an http(s) URL'), bytes(2048));
export const httpsUrl = v.pipe(v.string(), v.regex(/^https:\/\//, 'an https URL'), bytes(2048));
export const s3Object = v.object({ bucket: text(63), key: text(1024) });

/** How many of the values are given. */
export const given = (...values: unknown[]) => values.filter((value) => value !== undefined).length;
