import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Log } from './logger';

/** The CloudWatch namespace of every kf-bridge metric; the alarms in deploy/alarms.yml read it. */
export const METRICS_NAMESPACE = 'KfBridge';

/**
 * Every metric kf-bridge emits (embedded metric format, one JSON line in the function's log), its unit, and its
 * dimension sets. Each set is emitted with the function's `service` and the `stage` as well: the alarms read the
 * smaller set, an operator breaks a metric down by the larger one.
 */
export const METRICS = {
  /** The platform refused a call with an errcode (the client's retry with a new token aside). */
  PlatformRefusals: {
    unit: MetricUnit.Count,
    sets: [['errcodeRange'], ['platform', 'operation', 'errcode']],
  },
  /** How long the oldest message of a published chunk waited at WeCom before it reached inbound.fifo. */
  SyncLagSeconds: { unit: MetricUnit.Seconds, sets: [[]] },
  /** The schedule could not refresh an app's token. */
  TokenRefreshFailures: { unit: MetricUnit.Count, sets: [[], ['app', 'platform']] },
  /** The platform refused an app's id and secret at token time: only a settings change fixes it. */
  CredentialsRejected: { unit: MetricUnit.Count, sets: [[], ['app', 'platform', 'errcode']] },
  /** An inbound message SQS would not take, kept in the media bucket with a stand-in published in its place. */
  InboundQuarantined: { unit: MetricUnit.Count, sets: [[], ['app', 'reason']] },
  /**
   * A push the callback refused (see CallbackRejection): nothing recovers a refused MP message, and a WeCom push
   * refused is a pull that waits for the schedule. Only refusals write a line; the alarms read the platform's.
   */
  CallbackRejections: { unit: MetricUnit.Count, sets: [['platform'], ['platform', 'reason']] },
  /** An outbound request's recorded outcome: sent, rejected, failed or uncertain. */
  Replies: { unit: MetricUnit.Count, sets: [['status'], ['app', 'channel', 'status']] },
} as const;

export type MetricName = keyof typeof METRICS;
type DimensionOf<M extends MetricName> = (typeof METRICS)[M]['sets'][number][number];

/** The slice of metrics that `lib/` depends on: one event, with the dimensions that say which. */
export interface Meter {
  record<M extends MetricName>(metric: M, value: number, dimensions: Record<DimensionOf<M>, string>): void;
}

/** WeChat groups its errcodes by thousands (40xxx a bad request, 45xxx a limit, 95xxx kf): the alarms read the group. */
export const errcodeRange = (errcode: number): string =>
  errcode < 1000 ? String(errcode) : `${Math.floor(errcode / 1000)}xxx`;

/** For the functions' work run outside Lambda (scripts, the local end-to-end run), where no one reads metrics. */
export const NO_METRICS: Meter = { record() {} };

/**
 * A function's metrics, created once per container; its handler's `logMetrics` middleware flushes them at the end
 * of every invocation. `stage` names the deployment, whose alarms must not count another stage's events.
 */
export function createMetrics(
  service: string,
  log: Log,
  stage = process.env.KF_BRIDGE_STAGE ?? 'local',
): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: service,
    defaultDimensions: { stage },
    logger: {
      ...log,
      // The middleware flushes after every invocation, and most count nothing: Powertools' warning about an empty
      // flush would be a warn line per invocation.
      warn: (message, ...rest) =>
        String(message).startsWith('No application metrics to publish')
          ? log.debug(message, ...rest)
          : log.warn(message, ...rest),
    },
  });
}

/**
 * The Meter on a function's metrics. The count by the function alone is held and flushed with the invocation; each
 * other dimension set is a line of its own, written at once: dimensions set on the shared instance would apply to
 * all it holds, and message groups run concurrently. One line per set, since Powertools warns of a key that two
 * sets of one line share. A set with an empty value is left out rather than written without it.
 */
export function meterOf(metrics: Metrics): Meter {
  return {
    record(metric, value, dimensions) {
      const { unit, sets } = METRICS[metric];
      const own = dimensions as Record<string, string>;
      for (const set of sets) {
        if (set.length === 0) {
          metrics.addMetric(metric, unit, value);
          continue;
        }
        const values = set.map((name) => [name, own[name] ?? '']);
        // Powertools drops a dimension with an empty value and writes the line anyway: into the function-only set
        // the alarms read (counting the event twice), or a set no one reads.
        if (values.some(([, value]) => value === '')) continue;
        const line = metrics.singleMetric();
        line.addDimensions(Object.fromEntries(values));
        line.addMetric(metric, unit, value);
      }
    },
  };
}
