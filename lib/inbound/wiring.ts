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
      return consumeFifo(
        records,
        async (record) => {
          const log = recordLog(clients.log, record);
          log.info('sync job done', { ...(await pull(record, log)) });
        },
        // Jobs of different kf accounts run side by side: one account's long pull does not hold up the others.
        { log: clients.log, retryIn, concurrency: MAX_BATCH_SIZE },
      );
    },
    onSchedule: (options) => enqueueFallbackJobs({ ...services, ...options }),
  };
}
