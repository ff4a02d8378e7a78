import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { s3Objects } from '../../lib/aws/s3';
import { signedQueueClient } from '../../lib/queue/signedQueueClient';
import {
  createMeter,
  type InvocationTrace,
  mergeMeters,
  meterSignedCalls,
  observeAll,
  traced,
  traceSignedCalls,
} from '../../local/metering';

it("counts and traces every try of kf-bridge's own AWS clients, by service and operation", async () => {
  let requests = 0;
  // S3 slows the first try down; the second is taken.
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () =>
      requests++ === 0
        ? response.writeHead(503).end('<Error><Code>SlowDown</Code></Error>')
        : response.writeHead(200).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const meter = createMeter();
    const traces: InvocationTrace[] = [];
    const s3 = s3Objects(
      () => ({
        endpoint: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        region: 'ap-southeast-1',
        credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
        local: true,
      }),
      { policy: { baseDelayMs: 1 }, observe: observeAll(meterSignedCalls(meter), traceSignedCalls()) },
    );

    await traced(
      'syncPuller',
      () => s3.putObject('mediabucket', 'k', 'x', 'text/plain'),
      (trace) => traces.push(trace),
    )();
    await s3.putObject('mediabucket', 'k', 'x', 'text/plain');

    expect(meter.signed).toEqual({ 's3:PutObject': 3 });
    expect(traces[0]?.calls.map((call) => `${call.service}:${call.operation}`)).toEqual([
      's3:PutObject',
      's3:PutObject',
    ]);
    expect(mergeMeters(meter, meter).signed).toEqual({ 's3:PutObject': 6 });
  } finally {
    server.close();
  }
});

it('bills each SQS request SQS answered as the SDK-metered ones are billed: meter.sqs by command name', async () => {
  const body = '{}';
  const md5 = createHash('md5').update(body).digest('hex');
  let requests = 0;
  // SQS throttles the first try; the second is taken.
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () =>
      requests++ === 0
        ? response
            .writeHead(403, { 'x-amzn-query-error': 'RequestThrottled;Sender' })
            .end('{"__type":"com.amazonaws.sqs#RequestThrottled"}')
        : response.writeHead(200).end(JSON.stringify({ MessageId: 'm', MD5OfMessageBody: md5 })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const meter = createMeter();
    const queue = signedQueueClient({
      target: () => ({
        endpoint: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        region: 'ap-southeast-1',
        credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
        local: true,
      }),
      policy: { baseDelayMs: 1, throttledBaseDelayMs: 1 },
      observe: meterSignedCalls(meter),
    });
    await queue.sendMessage({ QueueUrl: 'http://127.0.0.1/000000000000/q.fifo', MessageBody: body });
    expect(meter.signed).toEqual({ 'sqs:SendMessage': 2 });
    expect(meter.sqs).toEqual({ SendMessageCommand: 2 });
  } finally {
    server.close();
  }
});
