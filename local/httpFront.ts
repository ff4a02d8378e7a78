import { createServer, type IncomingMessage, request } from 'node:http';

/** The body serverless-offline answers, with 200, on an HTTP API (payload 2.0) route whose function failed. */
function offlineFunctionError(response: IncomingMessage, body: Buffer): string | undefined {
  if (response.statusCode !== 200) return undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const keys = Object.keys(parsed).sort().join(',');
    return keys === 'errorMessage,errorType,stackTrace' ? String(parsed.errorMessage) : undefined;
  } catch {
    return undefined;
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/**
 * The local HTTP API, in front of serverless offline. When a function throws or cannot be loaded, API Gateway's
 * HTTP API answers 500 `{"message":"Internal Server Error"}`; serverless offline answers 200 with the Lambda
 * error as the body, which callers would take for success. This answers such a failure as API Gateway does.
 */
export async function startHttpFront(options: {
  readonly port: number;
  readonly offlinePort: number;
  readonly log: (line: string) => void;
}): Promise<{ stop(): Promise<void> }> {
  const server = createServer((incoming, outgoing) => {
    const route = `${incoming.method} ${incoming.url?.split('?')[0]}`;
    const forwarded = request(
      {
        host: '127.0.0.1',
        port: options.offlinePort,
        method: incoming.method,
        path: incoming.url,
        // Uncompressed, so a failure can be read; this hop is on this machine.
        headers: { ...incoming.headers, 'accept-encoding': 'identity' },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        const brokenOff = (reason: string) => {
          if (outgoing.writableEnded) return;
          options.log(`[http] ${route}: serverless offline broke off its answer: ${reason}`);
          if (outgoing.headersSent) {
            outgoing.destroy();
            return;
          }
          outgoing.writeHead(502, { 'content-type': 'application/json' });
          outgoing.end(JSON.stringify({ message: 'Bad Gateway' }));
        };
        response.on('aborted', () => brokenOff('aborted'));
        response.on('error', (error) => brokenOff(error.message));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          const failure = offlineFunctionError(response, body);
          if (failure !== undefined) {
            options.log(`[http] ${route} failed: ${failure}`);
            outgoing.writeHead(500, { 'content-type': 'application/json' });
            outgoing.end(JSON.stringify({ message: 'Internal Server Error' }));
            return;
          }
          const headers = Object.fromEntries(
            Object.entries(response.headers).filter(([name]) => !HOP_BY_HOP.has(name)),
          );
          // A HEAD answer has no body: its content-length is the one a GET would have.
          const length =
            incoming.method === 'HEAD' ? response.headers['content-length'] : String(body.length);
          outgoing.writeHead(response.statusCode ?? 502, {
            ...headers,
            ...(length === undefined ? {} : { 'content-length': length }),
          });
          outgoing.end(body);
        });
      },
    );
    forwarded.on('error', (error) => {
      options.log(`[http] serverless offline did not answer: ${error.message}`);
      outgoing.writeHead(503, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ message: 'Service Unavailable' }));
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  return {
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
