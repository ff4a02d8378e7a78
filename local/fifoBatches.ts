import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './serviceDefinition';

interface FauxqsQueue {
  dequeueFifo(maxCount: number, visibility?: number, dlq?: unknown): { ReceiptHandle: string }[];
  changeVisibility(receiptHandle: string, seconds: number): void;
  processTimers(): void;
  readonly fifoLockedGroups: Map<string, number>;
  readonly fifoMessages: Map<string, { sequenceNumber?: string }[]>;
  readonly inflightMessages: Map<string, { message: { messageGroupId?: string } }>;
}

/** A message's place in its queue: SQS's sequence numbers grow with every message sent. */
const sequence = (message: { sequenceNumber?: string }) => BigInt(message.sequenceNumber ?? 0);

/**
 * fauxqs puts a message coming back (visibility 0, or run out) in front of its group, which kept the order while
 * a group had one message in flight; with several, they would come back reversed. SQS keeps their order.
 */
function inSequence(queue: FauxqsQueue): void {
  for (const waiting of queue.fifoMessages.values())
    if (waiting.length > 1)
      waiting.sort((a, b) => (sequence(a) < sequence(b) ? -1 : sequence(a) > sequence(b) ? 1 : 0));
}

/**
 * SQS answers a FIFO receive with as many in-order messages of a group as it can, so Lambda's event source
 * hands a function several messages of one group in a batch; fauxqs stops at one per group. This makes the
 * embedded queues answer as SQS does, so the consumers' same-group path runs locally as it runs on AWS. It
 * reaches into fauxqs (the version is pinned), and a test of the local event source fails if that changes.
 */
export async function receiveFifoGroupsAsSqsDoes(): Promise<void> {
  // fauxqs exports only its entry; the queue class is reached by its file, the one the entry itself loads.
  const store = join(ROOT, 'node_modules/fauxqs/dist/sqs/sqsStore.js');
  const { SqsQueue } = (await import(pathToFileURL(store).href)) as { SqsQueue: { prototype: FauxqsQueue } };
  const fauxqsDequeue = SqsQueue.prototype.dequeueFifo;
  if ((fauxqsDequeue as { sqsLike?: true }).sqsLike) return;
  const dequeueFifo = function (this: FauxqsQueue, maxCount: number, visibility?: number, dlq?: unknown) {
    const limit = Math.min(maxCount, 10);
    const received = fauxqsDequeue.call(this, limit, visibility, dlq);
    for (let latest = received; latest.length > 0 && received.length < limit; ) {
      // fauxqs locks a group while one of its messages is in flight: lift the lock of the groups this receive
      // took, take each one's next message, and lock them again with every message now in flight counted.
      const groups = new Map<string, number>();
      for (const { ReceiptHandle } of latest) {
        const group = this.inflightMessages.get(ReceiptHandle)?.message.messageGroupId;
        if (group !== undefined) groups.set(group, this.fifoLockedGroups.get(group) ?? 0);
      }
      for (const group of groups.keys()) this.fifoLockedGroups.delete(group);
      latest = fauxqsDequeue.call(this, limit - received.length, visibility, dlq);
      for (const [group, held] of groups)
        this.fifoLockedGroups.set(group, held + (this.fifoLockedGroups.get(group) ?? 0));
      received.push(...latest);
    }
    return received;
  };
  SqsQueue.prototype.dequeueFifo = Object.assign(dequeueFifo, { sqsLike: true as const });
  const { changeVisibility, processTimers } = SqsQueue.prototype;
  SqsQueue.prototype.changeVisibility = function (this: FauxqsQueue, receiptHandle: string, seconds: number) {
    changeVisibility.call(this, receiptHandle, seconds);
    inSequence(this);
  };
  SqsQueue.prototype.processTimers = function (this: FauxqsQueue) {
    processTimers.call(this);
    inSequence(this);
  };
}
