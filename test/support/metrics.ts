import { vi } from 'vitest';
import type { Meter, MetricName } from '../../lib/metrics';

/** A Meter that keeps every event, so tests can assert what was counted where. */
export function recordingMeter() {
  const records: { metric: MetricName; value: number; dimensions: Record<string, string> }[] = [];
  const meter: Meter = {
    record(metric, value, dimensions) {
      records.push({ metric, value, dimensions });
    },
  };
  return { meter, records };
}

/** One embedded-metric-format line as CloudWatch reads it. */
export interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: {
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: { Name: string; Unit: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

/**
 * Everything the code under test writes, as Lambda's log would hold it: Powertools' Logger (stderr for warnings
 * and errors) and Metrics write one JSON line each. `emf` are the metric lines, `logs` the others.
 */
export function captureOutput() {
  const lines: Record<string, unknown>[] = [];
  const keep = (chunk: unknown) => {
    for (const line of String(chunk).split('\n')) {
      if (!line.trim()) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a JSON line: not the product's log.
      }
    }
    return true;
  };
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation(keep),
  );
  const isEmf = (line: Record<string, unknown>): line is EmfLine => '_aws' in line;
  return {
    emf: () => lines.filter(isEmf),
    logs: () => lines.filter((line) => !isEmf(line)),
    /** The EMF lines that carry `metric`, as CloudWatch would read them: namespace, dimension sets and values. */
    metric: (metric: MetricName) =>
      lines.filter(isEmf).flatMap((line) =>
        line._aws.CloudWatchMetrics.filter((directive) =>
          directive.Metrics.some((m) => m.Name === metric),
        ).map((directive) => ({
          namespace: directive.Namespace,
          dimensions: directive.Dimensions,
          unit: directive.Metrics.find((m) => m.Name === metric)?.Unit,
          values: Object.fromEntries(directive.Dimensions.flat().map((name) => [name, line[name]])),
          value: line[metric],
        })),
      ),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
