import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { Config } from '../config/config';
import type { Invocation } from '../invocation';
import { recordLog } from '../logger';
import { consumeFifo, visibilityBackoff } from '../queue/fifoConsumer';
import { enqueueFallbackJobs } from './fallback';
import { type InboundClients, type InboundServices, inboundServices, syncJobHandler } from './services';

/** A FIFO event source hands a function at most 10 messages. */
const MAX_BATCH_SIZE = 10;

/** The sync puller's pieces, built once per container: sync-jobs.fifo batches and the fallback schedule. */
export function syncPullerWiring(
  config: Config,
  clients: InboundClients,
): {
  services: InboundServices;
  onBatch(records: SQSRecord[], invocation: Invocation): Promise<SQSBatchResponse>;
  /** `periodMs`: how often the schedule runs, a minute unless told. */
  onSchedule(options?: { periodMs?: number }): Promise<number>;
} {
  const services = inboundServices(config, clients);
  const retryIn = visibilityBackoff(clients.sqs, config.queues.syncJobsUrl);
  return {
    services,
    onBatch(records, { remainingMs, signal }) {
      const pull = syncJobHandler(services, remainingMs, signal);
      // Every job in the batch was announced before its account's first pull here began, and a pull that read
      // to the end of the stream leaves the account's later jobs nothing to pull. One that did not (its Token
      // refused, out of time: it handed on to a continuation job) or failed is not such a pull: the next job
      // pulls with its own Token, as a job alone would.
      const pulled = new Set<string>();
      return consumeFifo(
        records,
        async (record) => {
          const log = recordLog(clients.log, record);
          const account = record.attributes.MessageGroupId;
          if (account && pulled.has(account)) {
            log.info('sync job covered by an earlier pull in this batch');
            return;
          }
          const report = await pull(record, log);
          if (account && report.complete) pulled.add(account);
          log.info('sync job done', { ...report });
        },
        // Jobs of different kf accounts run side by side: one account's long pull does not hold up the others.
        { log: clients.log, retryIn, concurrency: MAX_BATCH_SIZE },
      );
    },
    onSchedule: (options) => enqueueFallbackJobs({ ...services, ...options }),
  };
}
