import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { S3Objects } from '../aws/s3';
import { BudgetStore } from '../budgets';
import type { Config } from '../config/config';
import { type SafeFetch, safeFetcher } from '../http/safeFetch';
import type { Invocation } from '../invocation';
import type { ItemStore } from '../items/itemStore';
import { type Log, recordLog } from '../logger';
import type { Meter } from '../metrics';
import { platformFor } from '../platform/wiring';
import { consumeFifo, visibilityBackoff } from '../queue/fifoConsumer';
import type { QueueClient } from '../queue/queueClient';
import { fileFetcher, mediaResolver } from './mediaUpload';
import { type SenderDeps, sendRecord } from './sender';
import { SendLedger } from './sendLedger';

/** The sender's pieces, built once per container: outbound.fifo batches, each request sent once. */
export function senderWiring(
  config: Config,
  clients: {
    sqs: QueueClient;
    items: ItemStore;
    s3: S3Objects;
    log: Log;
    meter: Meter;
    now?: () => number;
    /** How files are read from callers' URLs: public https only, unless a test hands its own. */
    safeFetch?: SafeFetch;
  },
): {
  deps: SenderDeps;
  onBatch(records: SQSRecord[], invocation: Invocation): Promise<SQSBatchResponse>;
} {
  const now = clients.now ?? Date.now;
  const platform = platformFor(config, clients.items, clients.log, clients.meter, now);
  const deps: SenderDeps = {
    config,
    call: platform.call,
    ledger: new SendLedger(clients.items, config.stateTable),
    budgets: new BudgetStore(clients.items, config.stateTable),
    resolveMedia: mediaResolver({
      items: clients.items,
      table: config.stateTable,
      fetchFile: fileFetcher({ s3: clients.s3, safeFetch: clients.safeFetch ?? safeFetcher() }),
      upload: platform.upload,
      now,
    }),
    now,
    log: clients.log,
    meter: clients.meter,
  };
  const retryIn = visibilityBackoff(clients.sqs, config.queues.outboundUrl);
  return {
    deps,
    onBatch: (records, { remainingMs, signal }) =>
      consumeFifo(
        records,
        async (record) => {
          const log = recordLog(clients.log, record);
          await sendRecord(record, { ...deps, log, remainingMs, ...(signal && { signal }) });
        },
        { log: clients.log, retryIn, concurrency: config.senderConcurrency },
      ),
  };
}
