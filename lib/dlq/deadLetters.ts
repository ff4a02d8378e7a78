import { createHash } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  type Message,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DependencyError, NotFoundError } from '../errors';
import type { Log } from '../logger';
import type { SendLedger } from '../outbound/sendLedger';
import { type DeadLetter, describe, parsedBody } from './describe';
import { HeldMessages, HOLD_SECONDS, holding } from './heldMessages';
import type { DlqPair, DlqQueue } from './queues';
import type { RedriveRecords } from './redriveRecords';

/**
 * SQS FIFO drops a message sent again with the same deduplication id within 5 minutes of the first: a redrive
 * cut short after its claim sends an inbound message again unasked only well inside that window, since its
 * send came after the claim. (A sync job or a reply may go twice: a pull is repeatable, and the sender settles
 * a request once, by its send ledger.)
 */
const RESEND_WITHIN_MS = 4 * 60_000;
/** Work one call starts, inside the admin function's 15 s and the messages' 30 s out of sight. */
const WORK_MS = 10_000;

export interface DeadLettersDeps {
  readonly sqs: SQSClient;
  readonly pairOf: (queue: DlqQueue) => Promise<DlqPair>;
  readonly ledger: SendLedger;
  readonly records: RedriveRecords;
  readonly now: () => number;
  readonly log: Log;
}

export interface Refusal {
  readonly messageId: string;
  readonly groupId: string;
  readonly reason: string;
}

const groupOf = (message: Message) => message.Attributes?.MessageGroupId ?? '';

/** Messages another read holds (a trace, a list or redrive cut short) are not deliverable until its hold ends. */
const outOfSight = (unseen: number) => ({
  unseen,
  note: `${unseen === 1 ? '1 message is' : `${unseen} messages are`} out of sight: another read of the dead-letter queue holds ${unseen === 1 ? 'it' : 'them'} for up to ${HOLD_SECONDS} s; run it again in ${HOLD_SECONDS} seconds`,
});

/**
 * SQS answered the send with an error of the request's (4xx) at its first try, so it took nothing. A 5xx, an
 * answer after retries (an earlier try may have been taken) or no answer leave it unknown.
 */
function refusedOutright(error: unknown): boolean {
  const answer = error as { $fault?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  return (
    answer?.$fault === 'client' &&
    answer.$metadata?.httpStatusCode !== undefined &&
    (answer.$metadata.attempts ?? 1) <= 1
  );
}

/** The callback Token a sync job carries lifts WeCom's throttle for 10 minutes: not shown. */
function shownBody(queue: DlqQueue, message: Message): unknown {
  const body = parsedBody(message);
  if (body === undefined) return message.Body ?? '';
  if (queue === 'sync-jobs' && typeof body === 'object' && body !== null && 'token' in body)
    return { ...body, token: '(hidden)' };
  return body;
}

/** The dead-letter queues as an operator works them: look (list, show), send back (redrive), give up (discard). */
export class DeadLetters {
  constructor(private readonly deps: DeadLettersDeps) {}

  private async open(queue: DlqQueue) {
    const pair = await this.deps.pairOf(queue);
    return { pair, held: new HeldMessages(this.deps.sqs, pair.dlqUrl, queue) };
  }

  /** Runs `work` with the messages held; the answer counts those that could not be put back in sight. */
  private async holding<T extends object>(queue: DlqQueue, held: HeldMessages, work: () => Promise<T>) {
    const { result, unreleased } = await holding(held, work);
    if (unreleased === 0) return result;
    this.deps.log.warn('dead-letter messages not put back in sight; they come back when their hold ends', {
      queue,
      unreleased,
      holdSeconds: HOLD_SECONDS,
    });
    return { ...result, unreleased };
  }

  /**
   * The messages that can be read now, each group's first ones (a FIFO queue shows no more of a group at once),
   * as many as `limit` and 10 s of reading allow; `unlisted` counts the rest, `unseen` those out of sight.
   */
  async list(queue: DlqQueue, limit: number) {
    const { pair, held } = await this.open(queue);
    const { total, hidden } = await this.count(pair);
    const stopAt = this.deps.now() + WORK_MS;
    return this.holding(queue, held, async () => {
      const found: DeadLetter[] = [];
      for (let batch = await held.next(); batch.length > 0; batch = await held.next()) {
        for (const message of batch) found.push(await describe(queue, message, this.deps.ledger));
        if (found.length >= limit || this.deps.now() >= stopAt) break;
      }
      const messages = found.slice(0, limit);
      // SQS's counts lag: none listed of a queue it counts messages in means they are out of sight.
      const unseen = Math.max(hidden, messages.length === 0 ? total : 0);
      return {
        queue,
        deadLetterQueue: pair.dlqName,
        total,
        unlisted: Math.max(0, total - messages.length),
        ...(unseen > 0 && outOfSight(unseen)),
        messages,
      };
    });
  }

  /** One message in full: body, attributes and the reason it failed. */
  async show(queue: DlqQueue, messageId: string) {
    const { held } = await this.open(queue);
    return this.holding(queue, held, async () => {
      const message = await this.find(held, queue, messageId);
      return {
        ...(await describe(queue, message, this.deps.ledger)),
        attributes: message.Attributes ?? {},
        ...(message.MessageAttributes && { messageAttributes: message.MessageAttributes }),
        body: shownBody(queue, message),
      };
    });
  }

  /**
   * Sends messages back to their source queue, each group in order, then deletes them from the dead-letter
   * queue: one (`messageId`, which must be the first of its group) or all. A message that may not go back (a
   * reply the ledger says was sent, is uncertain, or was rejected) is refused with the reason, and its group's
   * later messages stay behind it. Each message is claimed in the state table before it is sent, so none is
   * sent back twice, however a redrive is cut short. Messages out of sight (another read holds them) are
   * counted in `unseen`, and `more` says to run it again. `resend` sends an inbound message again that a redrive cut
   * short more than 4 minutes ago may have sent. A call stops starting work after 10 s; `more` says so.
   */
  async redrive(queue: DlqQueue, options: { messageId?: string; resend?: boolean; signal?: AbortSignal }) {
    const { pair, held } = await this.open(queue);
    const { total, hidden } = await this.count(pair);
    const stopAt = this.deps.now() + WORK_MS;
    const refusals: Refusal[] = [];
    let redriven = 0;
    let received = 0;
    let more = false;
    let found = false;
    return this.holding(queue, held, async () => {
      /** Groups that go no further in this call: a refused message holds back the rest of its group. */
      const stopped = new Set<string>();
      const seen = new Set<string>();
      walk: for (let batch = await held.next(); batch.length > 0; batch = await held.next()) {
        received += batch.length;
        for (const message of batch) {
          const group = groupOf(message);
          const first = !seen.has(group);
          seen.add(group);
          if (stopped.has(group)) continue;
          if (options.messageId !== undefined && message.MessageId !== options.messageId) continue;
          if (options.messageId !== undefined) {
            found = true;
            if (!first) {
              refusals.push(
                this.refusal(
                  message,
                  'earlier messages of its group are in the dead-letter queue: redrive them first, or all',
                ),
              );
              break walk;
            }
          }
          if (options.signal?.aborted || this.deps.now() >= stopAt) {
            more = true;
            break walk;
          }
          const refused = await this.sendBack(queue, pair, message, held, options.resend === true);
          if (refused) {
            refusals.push(this.refusal(message, refused));
            stopped.add(group);
          } else redriven++;
          if (options.messageId !== undefined) break walk;
        }
      }
      // A whole walk that met no refusal received every message in sight: SQS counted the others out of it.
      const walkedAll = !more && options.messageId === undefined && refusals.length === 0;
      const unseen = Math.max(hidden, walkedAll ? total - received : 0);
      if (options.messageId !== undefined && !found) throw this.notFound(queue, options.messageId);
      return {
        queue,
        redriven,
        refused: refusals.length,
        refusals,
        more: more || unseen > 0,
        ...(unseen > 0 && outOfSight(unseen)),
      };
    });
  }

  /**
   * Gives one message up: deleted from the dead-letter queue, and a reply still queued in the send ledger
   * marked failed with the reason. A message an earlier redrive already sent back is only deleted.
   */
  async discard(queue: DlqQueue, messageId: string, reason: string) {
    const { held } = await this.open(queue);
    return this.holding(queue, held, async () => {
      const message = await this.find(held, queue, messageId);
      const letter = await describe(queue, message, this.deps.ledger);
      const redriven = (await this.deps.records.read(queue, messageId))?.state === 'sent';
      if (!redriven && letter.app && letter.requestId)
        await this.deps.ledger.giveUp(
          letter.app,
          letter.requestId,
          this.deps.now(),
          `given up in the dead-letter queue: ${reason}`,
        );
      await held.remove(messageId);
      const ledger: Pick<DeadLetter, 'ledger'> =
        letter.app && letter.requestId
          ? { ledger: (await this.deps.ledger.read(letter.app, letter.requestId))?.status ?? 'none' }
          : {};
      return {
        queue,
        messageId,
        outcome: redriven ? ('already redriven' as const) : ('discarded' as const),
        ...ledger,
      };
    });
  }

  /** Sends one message back and deletes it from the dead-letter queue; the reason when it may not go back. */
  private async sendBack(
    queue: DlqQueue,
    pair: DlqPair,
    message: Message,
    held: HeldMessages,
    resend: boolean,
  ): Promise<string | undefined> {
    const messageId = message.MessageId ?? '';
    const letter = await describe(queue, message, this.deps.ledger);
    if (!letter.redrivable) return letter.reason;
    const at = this.deps.now();
    const earlier = await this.deps.records.claim(queue, messageId, at);
    if (earlier?.state !== 'sent') {
      if (queue === 'inbound' && earlier && at - earlier.claimedAt >= RESEND_WITHIN_MS && !resend)
        return `a redrive at ${new Date(earlier.claimedAt).toISOString()} was cut short and may have sent it back already; SQS absorbs a repeat only when a redrive is rerun within 4 minutes, or --resend sends it again: the inbound consumer may then get it twice, with the same id${letter.inboundId ? ` (${letter.inboundId})` : ''}`;
      if (earlier?.state !== 'requeued' && letter.app && letter.requestId) {
        const requeued = await this.deps.ledger.requeue(
          letter.app,
          letter.requestId,
          at,
          `sent back from the dead-letter queue; it was: ${letter.reason}`,
        );
        if (!requeued) {
          if (!earlier) await this.deps.records.giveBack(queue, messageId);
          return (await describe(queue, message, this.deps.ledger)).reason;
        }
        await this.deps.records.markRequeued(queue, messageId);
      }
      try {
        await this.send(pair, message);
      } catch (error) {
        // A claim of this call's whose send SQS refused sent nothing; an earlier claim's send may have gone.
        if (!earlier && refusedOutright((error as Error).cause))
          await this.deps.records.giveBack(queue, messageId);
        throw error;
      }
      await this.deps.records.markSent(queue, messageId, this.deps.now());
    }
    await held.remove(messageId);
    return undefined;
  }

  private async send(pair: DlqPair, message: Message): Promise<void> {
    try {
      await this.deps.sqs.send(
        new SendMessageCommand({
          QueueUrl: pair.sourceUrl,
          MessageBody: message.Body ?? '',
          MessageGroupId: groupOf(message),
          // The same id for every send of this dead-letter message, so SQS absorbs a repeat.
          MessageDeduplicationId: createHash('sha256')
            .update(`${pair.dlqName}#${message.MessageId}`)
            .digest('hex'),
          ...(message.MessageAttributes && { MessageAttributes: message.MessageAttributes }),
        }),
      );
    } catch (error) {
      throw new DependencyError(`could not send back to the ${pair.queue} queue`, { cause: error });
    }
  }

  /** Reads until the message turns up; the others stay held, so each is seen once. */
  private async find(held: HeldMessages, queue: DlqQueue, messageId: string): Promise<Message> {
    for (let batch = await held.next(); batch.length > 0; batch = await held.next()) {
      const message = batch.find((m) => m.MessageId === messageId);
      if (message) return message;
    }
    throw this.notFound(queue, messageId);
  }

  private notFound(queue: DlqQueue, messageId: string) {
    return new NotFoundError(
      `no message ${messageId} can be read in the ${queue} dead-letter queue now: it is gone, or behind the first messages of its group`,
    );
  }

  private refusal(message: Message, reason: string): Refusal {
    return { messageId: message.MessageId ?? '', groupId: groupOf(message), reason };
  }

  /** Messages in the queue, and those out of sight (SQS's approximate counts). */
  private async count(pair: DlqPair): Promise<{ total: number; hidden: number }> {
    try {
      const { Attributes = {} } = await this.deps.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: pair.dlqUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const hidden = Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
      return { total: Number(Attributes.ApproximateNumberOfMessages ?? 0) + hidden, hidden };
    } catch (error) {
      throw new DependencyError(`could not count the ${pair.queue} dead-letter queue`, { cause: error });
    }
  }
}
