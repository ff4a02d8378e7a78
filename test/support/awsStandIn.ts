import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** One request as the stand-in received it, in full. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target exactly as it came over the wire, query included. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as text, as the JSON protocols read it. */
  readonly body: string;
  /** The body's exact bytes. */
  readonly bytes: Buffer;
  /** When its last byte came (Date.now()). */
  readonly at: number;
}

/** Reads a request to its last byte, and hands it over whole. */
export function receivedInFull(request: IncomingMessage, received: (got: ReceivedRequest) => void): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const bytes = Buffer.concat(chunks);
    received({
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: bytes.toString(),
      bytes,
      at: Date.now(),
    });
  });
}

/** How the stand-in answers one request: in full, in part, late, never, or by dropping the connection. */
export type Reply = (response: ServerResponse, request: ReceivedRequest) => void;

/** An answer with this status, body and headers (a content type, x-amzn-errortype, a Date). */
export const answer =
  (status: number, body: string | Buffer = '', headers: OutgoingHttpHeaders = {}): Reply =>
  (response) =>
    void response.writeHead(status, headers).end(body);
/** No answer at all: the try waits until its caller or its timeout ends it. */
export const hang: Reply = () => {};
/** The connection closed with no answer. */
export const drop: Reply = (response) => void response.socket?.destroy();

/**
 * A stand-in for an AWS service on a loopback port, so a test sees every request a client sends and scripts
 * every answer: it keeps each request in `received`, and answers it with the next of `answers`, or with
 * `otherwise` when none is left.
 */
export class AwsStandIn {
  received: ReceivedRequest[] = [];
  answers: Reply[] = [];
  readonly #server: Server;
  #endpoint: URL | undefined;

  constructor(otherwise: Reply = answer(200)) {
    this.#server = createServer((request, response) =>
      receivedInFull(request, (got) => {
        this.received.push(got);
        (this.answers.shift() ?? otherwise)(response, got);
      }),
    );
  }

  get endpoint(): URL {
    if (!this.#endpoint) throw new Error('The AWS stand-in is not listening yet');
    return this.#endpoint;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#endpoint = new URL(`http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`);
  }

  /** Forgets what came and what was still to be answered: for the next test. */
  reset(): void {
    this.received = [];
    this.answers = [];
  }

  /** Ends every connection, a hanging one too, and stops listening. */
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A stand-in for the tests of the file that calls this at its top level: listening before the first, forgetting
 * what came after each, closed after the last.
 */
export function awsStandInForTheseTests(otherwise?: Reply): AwsStandIn {
  const standIn = new AwsStandIn(otherwise);
  beforeAll(() => standIn.listen());
  afterEach(() => standIn.reset());
  afterAll(() => standIn.close());
  return standIn;
}
