import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ReceivedRequest, receivedInFull } from './awsStandIn';

/**
 * A plain HTTP proxy on a loopback port in front of a real stand-in (moto, DynamoDB Local): a client pointed at it
 * sends over its own transport, as on a deployed stage, and the test sees each request as it came over the wire.
 * The request goes on unchanged, its Host header too, so a signature made for the proxy's address still holds.
 */
export interface RecordingProxy {
  /** Where clients send, as `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Every request that came, in order, kept before it went on. */
  readonly received: ReceivedRequest[];
  stop(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target);
  const received: ReceivedRequest[] = [];
  const server = createServer((incoming, outgoing) =>
    receivedInFull(incoming, (got) => {
      received.push(got);
      const forwarded = httpRequest(
        { hostname: to.hostname, port: to.port, path: got.path, method: got.method, headers: got.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      // The stand-in did not answer: neither does the proxy, as a dropped connection.
      forwarded.on('error', () => outgoing.socket?.destroy());
      forwarded.end(got.bytes);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
