import type { S3Objects } from '../aws/s3';
import type { Config } from '../config/config';
import type { Invocation } from '../invocation';
import type { ItemStore } from '../items/itemStore';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { platformFor } from '../platform/wiring';
import { type ExportSummary, exportReports } from './export';
import { ExportProgress } from './progress';
import { exportRange } from './range';

/** The statistics exporter's pieces, built once per container. */
export function statsExportWiring(
  config: Config,
  clients: { items: ItemStore; s3: S3Objects; log: Log; meter: Meter; now?: () => number },
): { run(event: unknown, invocation: Invocation): Promise<ExportSummary> } {
  const now = clients.now ?? Date.now;
  const platform = platformFor(config, clients.items, clients.log, clients.meter, now);
  const progress = new ExportProgress(clients.items, config.stateTable);
  return {
    async run(event, { remainingMs, signal }) {
      const summary = await exportReports(exportRange(event, now()), {
        config,
        call: platform.call,
        s3: clients.s3,
        progress,
        now,
        log: clients.log,
        // Leave a minute for the window in flight; the next run of the same range continues.
        stopAfter: now() + remainingMs() - 60_000,
        ...(signal && { signal }),
      });
      clients.log.info('export summary', { ...summary });
      return summary;
    },
  };
}
