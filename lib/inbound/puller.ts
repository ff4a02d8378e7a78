import { type BudgetStore, budgetChanges } from '../budgets';
import type { Config, WecomAppConfig } from '../config/config';
import { type InboundMessage, inboundDeduplicationId, inboundFifoMessage } from '../contracts/inbound';
import { outboundFifoMessage } from '../contracts/outbound';
import type { SyncJob } from '../contracts/syncJob';
import { ContractError, PlatformError } from '../errors';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { eventReplies } from '../outbound/eventReplies';
import type { SendLedger } from '../outbound/sendLedger';
import { CALL_TIMEOUT_MS, type PlatformCall } from '../platform/client';
import { ERRCODES, lookupErrcode } from '../platform/errcodes';
import { PartlyPublishedError, type PublishBatch } from '../queue/publisher';
import type { CursorStore } from './cursors';
import type { MessageLedger } from './ledger';
import type { ArchiveMedia } from './media';
import { normaliseKfMessage } from './normaliseKf';

/** WeCom's callback Token is valid 10 minutes; stop using it a little before that. */
export const CALLBACK_TOKEN_LIFETIME_MS = 9.5 * 60_000;
/**
 * A page is published in chunks of this many messages, each recorded in the ledger before the next: what a crash
 * or a timeout can make the next pull redo.
 */
export const CHUNK_SIZE = 100;
/**
 * Time a chunk needs once its files are copied: publish up to CHUNK_SIZE messages (one SQS call each when one
 * customer wrote them all), record them, re-enqueue the job. No sync_msg call and no chunk starts with less.
 */
export const CHUNK_TIME_BUDGET_MS = 8000;

export interface PullerDeps {
  readonly config: Config;
  readonly call: PlatformCall;
  readonly cursors: CursorStore;
  readonly ledger: MessageLedger;
  readonly budgets: BudgetStore;
  readonly sendLedger: SendLedger;
  readonly publishBatch: PublishBatch;
  /** Puts a follow-up job on sync-jobs.fifo when this one runs out of time. */
  readonly requeue: (job: SyncJob) => Promise<void>;
  readonly now: () => number;
  readonly remainingMs: () => number;
  readonly log: Log;
  readonly meter: Meter;
  readonly signal?: AbortSignal;
  /** Set when inbound media is archived to S3. */
  readonly archiveMedia?: ArchiveMedia;
}

export interface PullReport {
  pages: number;
  published: number;
  duplicates: number;
  /** False when the job ran out of time and re-enqueued itself. */
  complete: boolean;
}

interface SyncPage {
  next_cursor?: string;
  has_more?: number;
  msg_list?: Record<string, unknown>[];
}

/** 95007 (published as an invalid or expired msgtoken), or a code WeCom does not publish, may mean the Token. */
function tokenMayBeSpent(errcode: number | undefined): boolean {
  if (errcode === undefined) return false;
  return errcode === ERRCODES.KF_MSGTOKEN_INVALID.code || !lookupErrcode('wecom', errcode)?.verified;
}

/**
 * Pulls one kf account's new messages: page through `kf/sync_msg` from the stored cursor, drop msgids the
 * ledger has seen, publish the rest to inbound.fifo in order, a chunk at a time, each recorded in the ledger
 * before the next, and only then move the cursor with compare-and-set. A chunk starts only with the time to
 * finish it; short of that the job re-enqueues itself mid-page. A crash or a continuation re-reads the page;
 * the ledger and FIFO deduplication drop repeats.
 */
export async function pullKfAccount(job: SyncJob, deps: PullerDeps): Promise<PullReport> {
  const app = deps.config.apps.get(job.app);
  if (!app?.wecom) throw new ContractError(`sync job for app '${job.app}', which has no WeCom settings`);
  const tokenValidUntil = Date.parse(job.receivedAt) + CALLBACK_TOKEN_LIFETIME_MS;
  const report: PullReport = { pages: 0, published: 0, duplicates: 0, complete: false };

  while (true) {
    const useToken = job.token !== undefined && deps.now() < tokenValidUntil;
    // The cursor moves only once a page is done: the next pull re-reads the page, and the ledger drops what
    // this one published.
    const continueLater = async () => {
      await deps.requeue({ ...job, ...(job.token && !useToken && { token: undefined }) });
      deps.log.info('sync job out of time, re-enqueued', { app: job.app, openKfId: job.openKfId, ...report });
      return report;
    };
    // A page begins only with time for sync_msg's own limit and a chunk after it: an invocation that timed out
    // mid-call would fail its whole batch, other accounts' finished jobs with it.
    if (deps.remainingMs() < CALL_TIMEOUT_MS + CHUNK_TIME_BUDGET_MS) return continueLater();
    const state = await deps.cursors.read(job.app, job.openKfId);
    let page: SyncPage;
    try {
      page = (await deps.call(app, 'wecom', {
        path: '/cgi-bin/kf/sync_msg',
        body: {
          ...(state.cursor && { cursor: state.cursor }),
          ...(useToken && { token: job.token }),
          limit: 1000,
          voice_format: 0,
          open_kfid: job.openKfId,
        },
        ...(deps.signal && { signal: deps.signal }),
        log: deps.log,
      })) as SyncPage;
    } catch (error) {
      if (!(error instanceof PlatformError)) throw error;
      if (error.errcode === ERRCODES.KF_ACCOUNT_NOT_FOUND.code) {
        // A deleted account has nothing left to pull: retrying would only fill the dead-letter queue.
        await deps.cursors.retire(job.app, job.openKfId, deps.now());
        deps.log.warn('kf account no longer exists; its cursor is retired', {
          app: job.app,
          openKfId: job.openKfId,
        });
        return { ...report, complete: true };
      }
      if (useToken && !error.retryable && tokenMayBeSpent(error.errcode)) {
        // WeCom does not say how it answers a Token that expired or was spent: the pull goes again without it,
        // as a job of its own, so a redelivery of this one does not spend another token-less pull.
        await deps.requeue({ ...job, token: undefined });
        deps.log.warn('sync_msg refused the callback Token; re-enqueued without it', {
          app: job.app,
          openKfId: job.openKfId,
          errcode: error.errcode,
        });
        return report;
      }
      throw error;
    }
    report.pages++;

    const fresh = await freshMessages(job, page, deps);
    report.duplicates += fresh.duplicates;
    for (let start = 0; start < fresh.messages.length; ) {
      if (deps.remainingMs() < CHUNK_TIME_BUDGET_MS) return continueLater();
      // Files are copied before their message is published, so a consumer finds the S3 key filled in.
      const ready: InboundMessage[] = [];
      let deferred = false;
      for (const message of fresh.messages.slice(start, start + CHUNK_SIZE)) {
        const archived = deps.archiveMedia
          ? await deps.archiveMedia(
              message,
              {
                timeLeftMs: deps.remainingMs() - CHUNK_TIME_BUDGET_MS,
                mayDefer: report.published + ready.length > 0,
              },
              deps.signal,
              deps.log,
            )
          : message;
        if (!archived) {
          deferred = true;
          break;
        }
        ready.push(archived);
      }
      if (ready.length > 0) await publishChunk(job, state.cursor, ready, app.wecom, deps);
      report.published += ready.length;
      start += ready.length;
      if (deferred) return continueLater();
    }

    const tokenUsed =
      useToken && job.token ? { value: job.token, receivedAt: Date.parse(job.receivedAt) } : undefined;
    const next = page.next_cursor ?? state.cursor;
    if (
      next &&
      next !== state.cursor &&
      !(await deps.cursors.commit(job.app, job.openKfId, state, next, deps.now(), tokenUsed))
    ) {
      // Someone else moved this account's cursor: their pull owns what follows.
      deps.log.warn('cursor moved by another puller; stopping', { app: job.app, openKfId: job.openKfId });
      return { ...report, complete: true };
    }
    // has_more may be 1 with an empty page: only has_more ends the loop.
    if (!page.has_more) return { ...report, complete: true };
  }
}

/** A page's messages in the contract, less those the ledger has published and repeats within the page. */
async function freshMessages(
  job: SyncJob,
  page: SyncPage,
  deps: PullerDeps,
): Promise<{ messages: InboundMessage[]; duplicates: number }> {
  const receivedAt = new Date(deps.now());
  const messages: InboundMessage[] = [];
  for (const item of page.msg_list ?? []) {
    try {
      const { message, fitted } = normaliseKfMessage(item, job.app, receivedAt);
      if (!fitted)
        deps.log.warn('sync_msg item does not fit the contract; published raw', {
          app: job.app,
          msgid: message.id,
          msgtype: item.msgtype,
        });
      messages.push(message);
    } catch (error) {
      deps.log.error('sync_msg item cannot be routed; skipped', {
        app: job.app,
        openKfId: job.openKfId,
        reason: (error as Error).message,
      });
    }
  }
  const seen = await deps.ledger.seen(
    job.app,
    job.openKfId,
    messages.map((m) => m.id),
  );
  const fresh = messages.filter(
    (message, index) => !seen.has(message.id) && messages.findIndex((m) => m.id === message.id) === index,
  );
  return { messages: fresh, duplicates: messages.length - fresh.length };
}

/**
 * Publishes a chunk to inbound.fifo and records it. When only part of it got through, that part is settled
 * (and recorded) before the error goes up, so the retry, however late, does not publish it again.
 */
async function publishChunk(
  job: SyncJob,
  cursor: string | undefined,
  ready: InboundMessage[],
  wecom: WecomAppConfig,
  deps: PullerDeps,
): Promise<void> {
  // Budgets first: a reply to a message must never find its customer's budget not yet opened.
  for (const change of budgetChanges(ready)) await deps.budgets.apply(change);
  try {
    await deps.publishBatch(deps.config.queues.inboundUrl, ready.map(inboundFifoMessage), deps.signal);
  } catch (error) {
    if (error instanceof PartlyPublishedError)
      await settle(
        job,
        cursor,
        ready.filter((message) => error.published.has(inboundDeduplicationId(message))),
        wecom,
        deps,
      );
    throw error;
  }
  await settle(job, cursor, ready, wecom, deps);
  // How long the oldest message of the chunk waited to be published: what the sync-lag alarm reads.
  const oldest = Math.min(...ready.map((message) => message.sentAt));
  const lagSeconds = Math.max(0, Math.round(deps.now() / 1000 - oldest));
  deps.meter.record('SyncLagSeconds', lagSeconds, {});
  deps.log.info('sync page published', {
    app: job.app,
    openKfId: job.openKfId,
    published: ready.length,
    lagSeconds,
  });
}

/** What follows a message's safe arrival in inbound.fifo, the ledger last. */
async function settle(
  job: SyncJob,
  cursor: string | undefined,
  published: InboundMessage[],
  wecom: WecomAppConfig,
  deps: PullerDeps,
): Promise<void> {
  if (published.length === 0) return;
  // WeCom accepting a send is not delivering it: a msg_send_fail event settles the request's status.
  for (const message of published) {
    const body = message.message;
    if (body.type === 'event' && body.event === 'msg_send_fail' && 'failMsgid' in body) {
      await deps.sendLedger.markUndelivered(message.app, body.failMsgid, body.failType, deps.now());
    }
  }
  // Replies on 20-second codes go out before the messages are recorded: a crash can repeat them, never lose them.
  const replies = eventReplies(published, wecom);
  if (replies.length > 0)
    await deps.publishBatch(deps.config.queues.outboundUrl, replies.map(outboundFifoMessage), deps.signal);
  // What `trace` tells of a message later: whose it is, and which page brought it.
  await deps.ledger.record(
    job.app,
    job.openKfId,
    published.map((m) => ({
      msgid: m.id,
      ...(m.customer && { customer: m.customer }),
      sentAt: m.sentAt * 1000,
      pulledAt: Date.parse(m.receivedAt),
      ...(cursor && { cursor }),
    })),
    deps.now(),
  );
}
