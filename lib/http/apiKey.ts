import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `x-api-key: KEY` or `Authorization: Bearer KEY`, compared in constant time; no key configured refuses all. */
export function authorize(
  headers: Readonly<Record<string, string | undefined>>,
  apiKey: string | undefined,
): void {
  const given = headers['x-api-key'] ?? /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
  // Comparing digests keeps the time independent of where, and whether, lengths differ.
  if (!apiKey || !given || !timingSafeEqual(digest(given), digest(apiKey)))
    throw new UnauthorizedError('missing or wrong API key');
}
