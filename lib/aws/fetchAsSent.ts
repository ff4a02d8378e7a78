import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose answer has no body, which a Response cannot be given one for. */
const NO_BODY = new Set([204, 205, 304]);

/**
 * fetch's interface over node:http, for answers whose bytes must stay as sent. fetch unpacks the Content-Encoding an
 * answer names, and S3 names the one an object was stored with while serving the object's own bytes: a `.gz` would
 * come unpacked, an object whose Content-Encoding is wrong would not come at all, and a size limit would count
 * other bytes than the object's. The SDK's client reads over node:http too. Takes what the signed-request core
 * sends: a URL, a method, a header record, a string or byte body and a signal; no redirect is followed.
 */
export const fetchAsSent: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const { signal } = init;
    if (signal?.aborted) return reject(signal.reason);
    let answer: IncomingMessage | undefined;
    // What ends the call ends its body too, with the same reason (a deadline's TimeoutError, say).
    const abort = () => {
      request.destroy(signal?.reason);
      answer?.destroy(signal?.reason);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      { method: init.method ?? 'GET', headers: Object.fromEntries(new Headers(init.headers)) },
      (message) => {
        answer = message;
        message.once('close', () => signal?.removeEventListener('abort', abort));
        const headers = new Headers();
        for (const [name, value] of Object.entries(message.headers))
          for (const one of [value ?? []].flat()) headers.append(name, one);
        const status = message.statusCode ?? 0;
        const empty = init.method === 'HEAD' || NO_BODY.has(status);
        if (empty) message.resume();
        resolve(
          new Response(empty ? null : (Readable.toWeb(message) as ReadableStream<Uint8Array>), {
            status,
            statusText: message.statusMessage ?? '',
            headers,
          }),
        );
      },
    );
    signal?.addEventListener('abort', abort, { once: true });
    request.on('error', (error) => {
      signal?.removeEventListener('abort', abort);
      reject(error);
    });
    request.end(init.body as string | Uint8Array | undefined);
  });
