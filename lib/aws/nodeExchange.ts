import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One HTTP exchange over node:http(s), on kept-alive connections, as the SDK's own clients send theirs: without
 * fetch's Request, Response, Headers and web streams, which cost a signed call more CPU than its signing. The
 * answer's bytes stay as sent (no Content-Encoding is undone: S3 names the one an object was stored with while
 * serving the object's own bytes) and no redirect is followed.
 */
export interface Exchange {
  /** The answer's head, its body unread; rejected when no answer came. */
  readonly answer: Promise<IncomingMessage>;
  /** Ends the exchange, and the reading of its answer's body, with this reason. */
  cancel(reason: unknown): void;
}

export interface Agents {
  readonly 'http:': HttpAgent;
  readonly 'https:': HttpsAgent;
}

/** Connections kept open between calls, as the SDK's handler keeps them: a new TLS handshake costs more than a call. */
const AGENTS = agents();

/** Agents of their own, trusting only `ca` where it is given (a test's certificate authority). */
export function agents(ca?: string): Agents {
  return {
    'http:': new HttpAgent({ keepAlive: true }),
    'https:': new HttpsAgent({ keepAlive: true, ...(ca && { ca }) }),
  };
}

/**
 * Closes the connections kept alive and idle. A try that found its connection dead (reset, or silent past its
 * timeout) is most often a container thawed after Lambda froze it, whose other pooled connections died with it:
 * the next try takes a new one rather than finding them dead one by one until the call's tries run out.
 */
export function dropIdleConnections(through: Agents = AGENTS): void {
  for (const agent of [through['http:'], through['https:']])
    for (const idle of Object.values(agent.freeSockets))
      for (const socket of [...(idle ?? [])]) socket.destroy();
}

export function exchange(
  url: URL,
  method: string,
  headers: OutgoingHttpHeaders,
  body: string | Uint8Array | undefined,
  through: Agents = AGENTS,
): Exchange {
  const { protocol } = url;
  if (protocol !== 'http:' && protocol !== 'https:')
    return { answer: Promise.reject(new Error(`${protocol} is not HTTP`)), cancel: () => {} };
  let answer: IncomingMessage | undefined;
  const request = (protocol === 'https:' ? httpsRequest : httpRequest)({
    protocol,
    // An IPv6 literal comes bracketed in a URL, and without its brackets here.
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    method,
    headers,
    agent: through[protocol],
  });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', (message: IncomingMessage) => {
      answer = message;
      resolve(message);
    });
    // `on`, not `once`: a request destroyed after its answer came may say so again, and must not throw.
    request.on('error', reject);
  });
  request.end(body);
  return {
    answer: answered,
    cancel: (reason) => {
      request.destroy(reason as Error);
      answer?.destroy(reason as Error);
    },
  };
}

/** The body of an answer, all of it, as a Uint8Array of its own; rejected when its connection ends before it does. */
export function bytesOf(message: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    message.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
    });
    message.once('error', reject);
    message.once('close', () => {
      if (!message.complete) reject(new Error('the connection closed before the answer ended'));
    });
    message.once('end', () => {
      const bytes = new Uint8Array(length);
      let at = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, at);
        at += chunk.length;
      }
      resolve(bytes);
    });
  });
}

/** An answer's headers as fetch's Headers, each value of a repeated one appended. */
export function headersOf(message: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers))
    for (const one of [value ?? []].flat()) headers.append(name, one);
  return headers;
}
