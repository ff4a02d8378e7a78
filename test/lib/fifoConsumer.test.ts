import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ContractError, DependencyError } from '../../lib/errors';
import { consumeFifo, NotTriedError } from '../../lib/queue/fifoConsumer';
import { recordingLog } from '../support/recording';

const record = (id: string, group: string, receives = 1) =>
  ({
    messageId: id,
    receiptHandle: id,
    body: id,
    attributes: { MessageGroupId: group, ApproximateReceiveCount: String(receives) },
  }) as unknown as SQSRecord;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('consumeFifo', () => {
  it('runs groups side by side up to the bound, each group in order', async () => {
    const records = ['a1', 'b1', 'a2', 'c1', 'b2', 'a3', 'd1'].map((id) => record(id, id[0] ?? ''));
    const done: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const response = await consumeFifo(
      records,
      async (r) => {
        peak = Math.max(peak, ++inFlight);
        await sleep(10);
        done.push(r.messageId);
        inFlight--;
      },
      { log: recordingLog().log, retryIn: async () => {}, concurrency: 2 },
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(peak).toBe(2);
    for (const group of ['a', 'b'])
      expect(done.filter((id) => id.startsWith(group))).toEqual([
        `${group}1`,
        `${group}2`,
        ...(group === 'a' ? ['a3'] : []),
      ]);
  });

  it('fails the rest of a group after a failure, leaves other groups alone, and backs off retryable errors', async () => {
    const retries: [string, number][] = [];
    const response = await consumeFifo(
      ['a1', 'a2', 'a3', 'b1'].map((id) => record(id, id[0] ?? '')),
      async (r) => {
        if (r.messageId === 'a2') throw new DependencyError('busy');
      },
      {
        log: recordingLog().log,
        retryIn: async (r, seconds) => void retries.push([r.messageId, seconds]),
        concurrency: 10,
      },
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['a2', 'a3']);
    expect(retries).toEqual([
      ['a2', 1],
      ['a3', 1],
    ]);
  });

  // Lambda delivers several messages of one FIFO group in a batch; those behind a failure stay in flight for the
  // queue's whole visibility timeout unless they are released with it.
  it('releases the records skipped behind a failure with its back-off, so the group comes back together', async () => {
    const retries: [string, number][] = [];
    const handled: string[] = [];
    const response = await consumeFifo(
      [record('a1', 'a', 3), record('a2', 'a', 3), record('a3', 'a', 2)],
      async (r) => {
        handled.push(r.messageId);
        if (r.messageId === 'a1') throw new DependencyError('busy');
      },
      { log: recordingLog().log, retryIn: async (r, seconds) => void retries.push([r.messageId, seconds]) },
    );
    expect(handled).toEqual(['a1']);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a1', 'a2', 'a3']);
    expect(retries).toEqual([
      ['a1', 4],
      ['a2', 4],
      ['a3', 4],
    ]);
  });

  it('goes on past a record that can never be processed as is: it leaves for the DLQ, its group does not wait', async () => {
    const retries: [string, number][] = [];
    const handled: string[] = [];
    const { log, lines } = recordingLog();
    const response = await consumeFifo(
      [record('a1', 'a'), record('a2', 'a'), record('a3', 'a')],
      async (r) => {
        handled.push(r.messageId);
        if (r.messageId === 'a1') throw new ContractError('outbound request: requestId: bad');
        if (r.messageId === 'a3') throw new DependencyError('busy');
      },
      { log, retryIn: async (r, seconds) => void retries.push([r.messageId, seconds]) },
    );
    expect(handled).toEqual(['a1', 'a2', 'a3']);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a1', 'a3']);
    expect(retries).toEqual([
      ['a1', 0],
      ['a3', 1],
    ]);
    expect(lines.find((line) => line.level === 'error')?.args[1]).toMatchObject({
      messageId: 'a1',
      reason: 'outbound request: requestId: bad',
    });
  });

  it('releases a record not tried for lack of time at once, with the rest of its group', async () => {
    const retries: [string, number][] = [];
    const response = await consumeFifo(
      [record('a1', 'a', 4), record('a2', 'a', 4)],
      async () => {
        throw new NotTriedError('too little time left in this invocation');
      },
      { log: recordingLog().log, retryIn: async (r, seconds) => void retries.push([r.messageId, seconds]) },
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a1', 'a2']);
    expect(retries).toEqual([
      ['a1', 0],
      ['a2', 0],
    ]);
  });
});
