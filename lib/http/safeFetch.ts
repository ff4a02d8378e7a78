import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { BadRequestError, DependencyError, KfBridgeError } from '../errors';
import { type InternalKind, internalKind } from './internalAddress';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

export interface SafeFetchDeps {
  /** Every address a host name has: the system's resolver unless a test says otherwise. */
  readonly resolve: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** Why an address is internal, or undefined for a public one. */
  readonly internalKind: (address: string) => InternalKind | undefined;
  /** The certificates trusted instead of the system's: only a test's own. */
  readonly ca?: string;
}

/** The most a file may have, and what the caller is told of one that has more. */
export interface SizeLimit {
  readonly maxBytes: number;
  readonly tooLarge: string;
}

export interface FetchedBody {
  readonly data: Buffer;
  readonly contentType: string;
}

/** The body of a caller's https URL, within the limit and the signal's time. */
export type SafeFetch = (url: string, limit: SizeLimit, signal?: AbortSignal) => Promise<FetchedBody>;

/** Reading a file, its bytes included; the caller's signal (its invocation's deadline) may end it sooner. */
const FETCH_TIMEOUT_MS = 15_000;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const systemResolve = (hostname: string) => lookup(hostname, { all: true });

/** What a hop's refusal says: the URL itself, or where it redirects. */
const subject = (hop: number, host: string) =>
  hop === 0 ? `media URL host ${host}` : `media URL redirects to ${host}, which`;

/**
 * The address check, made on the addresses the connection is about to use: a name that answers a public
 * address to a check and an internal one to the connection (DNS rebinding) never gets through.
 */
function checkedLookup(deps: SafeFetchDeps, hop: number): LookupFunction {
  return (hostname, options, callback) => {
    const answered = (answers: readonly ResolvedAddress[]) => {
      for (const { address } of answers) {
        const kind = deps.internalKind(address);
        if (kind)
          throw new BadRequestError(`${subject(hop, hostname)} resolves to an internal address (${kind})`);
      }
      const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
      const usable = answers.filter((answer) => !family || answer.family === family);
      const [first] = usable;
      if (!first) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
      return { usable, first };
    };
    deps
      .resolve(hostname)
      .then(answered)
      .then(
        ({ usable, first }) =>
          options.all ? callback(null, [...usable]) : callback(null, first.address, first.family),
        (error: Error) => callback(error, ''),
      );
  };
}

function get(url: URL, deps: SafeFetchDeps, hop: number, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        lookup: checkedLookup(deps, hop),
        signal,
        agent: false,
        // The file as it is: Node does not decompress, and a compressed body must not be taken for the file.
        headers: { 'accept-encoding': 'identity' },
        ...(deps.ca && { ca: deps.ca }),
      },
      resolve,
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** The body, read no further than the limit: a larger one is cut off, never held in memory whole. */
async function readWithin(response: IncomingMessage, limit: SizeLimit): Promise<Buffer> {
  if (Number(response.headers['content-length']) > limit.maxBytes) {
    response.destroy();
    throw new BadRequestError(limit.tooLarge);
  }
  const encoding = response.headers['content-encoding'];
  if (encoding && encoding !== 'identity') {
    response.destroy();
    throw new BadRequestError(`media URL answered in ${encoding}, not the file itself`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit.maxBytes) throw new BadRequestError(limit.tooLarge);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Where one hop may go: https only, and never to an internal address given as such. */
function checkTarget(url: URL, hop: number, deps: SafeFetchDeps): void {
  if (url.protocol !== 'https:')
    throw new BadRequestError(
      hop === 0 ? 'media URL is not https' : 'media URL redirects to a URL that is not https',
    );
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // An address in the URL is connected to as it is, without a lookup to check it in.
  const kind = isIP(host) ? deps.internalKind(host) : undefined;
  if (kind) throw new BadRequestError(`${subject(hop, host)} is an internal address (${kind})`);
}

function parse(url: string, base?: URL): URL {
  try {
    return new URL(url, base);
  } catch {
    throw new BadRequestError(base ? 'media URL redirects to something not a URL' : 'media URL is not a URL');
  }
}

/**
 * The one way kf-bridge reads a URL a caller gave: https only; redirects followed by hand, each hop checked
 * again; no connection to a loopback, private, link-local, metadata or otherwise internal address; the body
 * cut off past the limit; 15 s at most. A refusal is the caller's bad input (BadRequestError); a network
 * failure, a timeout or the server's own failure (HTTP 5xx) may pass (DependencyError).
 */
export function safeFetcher(overrides: Partial<SafeFetchDeps> = {}): SafeFetch {
  const deps: SafeFetchDeps = { resolve: systemResolve, internalKind, ...overrides };
  return async (url, limit, signal) => {
    const within = signal
      ? AbortSignal.any([signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)])
      : AbortSignal.timeout(FETCH_TIMEOUT_MS);
    let target = parse(url);
    for (let hop = 0; ; hop++) {
      checkTarget(target, hop, deps);
      try {
        const response = await get(target, deps, hop, within);
        const status = response.statusCode ?? 0;
        if (REDIRECTS.has(status)) {
          response.destroy();
          if (hop === MAX_REDIRECTS)
            throw new BadRequestError(`media URL redirects more than ${MAX_REDIRECTS} times`);
          const location = response.headers.location;
          if (!location) throw new BadRequestError(`media URL answered HTTP ${status} without a Location`);
          target = parse(location, target);
          continue;
        }
        if (status < 200 || status > 299) {
          response.destroy();
          // The file's server failing may pass; a 4xx says the URL is wrong.
          if (status >= 500) throw new DependencyError(`media URL answered HTTP ${status}`);
          throw new BadRequestError(`media URL answered HTTP ${status}`);
        }
        return {
          data: await readWithin(response, limit),
          contentType: response.headers['content-type'] ?? 'application/octet-stream',
        };
      } catch (error) {
        if (error instanceof KfBridgeError) throw error;
        // Past the deadline the connection's own error (often a reset) is a consequence: the cause is the deadline.
        if (within.aborted)
          throw new DependencyError(`media from ${target.hostname} did not arrive in time`, {
            cause: within.reason,
          });
        throw new DependencyError(`could not fetch media from ${target.hostname}`, { cause: error });
      }
    }
  };
}
