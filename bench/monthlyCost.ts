import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../local/serviceDefinition';
import { PRICES, type UsagePerMessage, usdPerMillionMessages } from './costModel';

/** AWS's own convention for a month of hourly prices. */
export const HOURS_PER_MONTH = 730;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/** When the list prices here and in costModel.ts were read. */
export const PRICES_AS_OF = '2026-11-21';

/** What costs money with no traffic at all: AWS list prices, us-east-1, as PRICES in costModel.ts. */
export const FIXED_PRICES = {
  cloudWatchAlarmMonth: 0.1,
  logsIngestedGb: 0.5,
  logsStoredGbMonth: 0.03,
  s3PutRequest: 0.005 / 1000,
  natGatewayHour: 0.045,
  natGatewayGb: 0.045,
  publicIpv4Hour: 0.005,
} as const;

/**
 * What one customer message or reply asks of each service: the product run BENCHMARKS.md reports (1,000 customer
 * messages at 40 a second and 120 kf replies through the messages API; Lambda time from the functions' measured
 * CPU and assumed round trips), the median of three runs.
 */
export const MEASURED_USAGE: UsagePerMessage = {
  lambdaInvocations: 2,
  lambdaGbSeconds: 0.0452,
  sqsRequests: 3.892,
  dynamodbWriteUnits: 3.106,
  dynamodbReadUnits: 1.107,
  httpApiRequests: 1,
};

/**
 * What the schedules do with no traffic, per run. Not measured (the e2e run leaves schedules out): a WeCom call
 * from AWS plus a state-table read is taken as 500 ms billed, generously.
 */
export const IDLE_ASSUMPTIONS = {
  /** The fallback schedule, every minute: lists the kf accounts, reads their cursors, enqueues their jobs. */
  fallbackSchedule: { perMonth: MINUTES_PER_MONTH, billedMs: 500, sqsRequests: 1, readUnits: 1 },
  /** Each quiet kf account's job from it: received and deleted, its cursor read, an empty `sync_msg` page. */
  quietAccountPull: { perMonth: MINUTES_PER_MONTH, billedMs: 500, sqsRequests: 2, readUnits: 1 },
  /** tokenRefresh every 5 minutes: reads one app's WeCom and MP token items. */
  tokenRefresh: { perMonth: MINUTES_PER_MONTH / 5, billedMs: 500, sqsRequests: 0, readUnits: 2 },
  /** statsExport once a day: one app's statistics, 8 files written. */
  statsExport: { perMonth: DAYS_PER_MONTH, billedMs: 30_000, sqsRequests: 0, readUnits: 2, s3Puts: 8 },
  /** Lambda long-polls every queue a function reads (sync-jobs.fifo, outbound.fifo): 5 polls of 20 s at once. */
  idleReceivesPerQueueMonth: 5 * 3 * MINUTES_PER_MONTH,
  /** START, END and REPORT lines and a line or two of the function's own, per scheduled invocation. */
  logBytesPerInvocation: 1024,
} as const;

/** What a deployed stage is made of, as far as its cost goes. */
export interface Deployment {
  /** Alarm metrics, as CloudWatch bills them: one per metric an alarm reads, so a metric-math alarm over five
   * functions' metrics counts five. */
  readonly alarms: number;
  /** Queues a function of the stack reads through Lambda's pollers. */
  readonly polledQueues: number;
  readonly memoryMb: Readonly<Record<'syncPuller' | 'tokenRefresh' | 'statsExport', number>>;
}

/** The alarms, polled queues and memory sizes serverless.yml and deploy/alarms.yml declare. */
export async function readDeployment(): Promise<Deployment> {
  const service = parse(await readFile(join(ROOT, 'serverless.yml'), 'utf8'));
  const alarms = parse(await readFile(join(ROOT, 'deploy/alarms.yml'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: { Metrics?: { MetricStat?: object }[] } }>;
  };
  const functions = service.functions as Record<string, { memorySize?: number; events?: object[] }>;
  const memory = (name: string) => functions[name]?.memorySize ?? service.provider.memorySize;
  return {
    alarms: Object.values(alarms.Resources)
      .filter(({ Type }) => Type === 'AWS::CloudWatch::Alarm')
      .reduce(
        (sum, { Properties }) => sum + (Properties?.Metrics?.filter((m) => m.MetricStat).length || 1),
        0,
      ),
    polledQueues: Object.values(functions)
      .flatMap(({ events }) => events ?? [])
      .filter((event) => 'sqs' in event).length,
    memoryMb: {
      syncPuller: memory('syncPuller'),
      tokenRefresh: memory('tokenRefresh'),
      statsExport: memory('statsExport'),
    },
  };
}

interface ScheduledRun {
  readonly perMonth: number;
  readonly billedMs: number;
  readonly sqsRequests: number;
  readonly readUnits: number;
  readonly s3Puts?: number;
}

function monthlyDollars(run: ScheduledRun, memoryMb: number): number {
  const gbSeconds = (run.billedMs / 1000) * (memoryMb / 1024);
  const once =
    PRICES.lambdaRequest +
    gbSeconds * PRICES.lambdaGbSecondArm +
    run.sqsRequests * PRICES.sqsFifoRequest +
    run.readUnits * PRICES.dynamodbReadUnit +
    (run.s3Puts ?? 0) * FIXED_PRICES.s3PutRequest +
    (IDLE_ASSUMPTIONS.logBytesPerInvocation / 2 ** 30) *
      (FIXED_PRICES.logsIngestedGb + FIXED_PRICES.logsStoredGbMonth);
  return run.perMonth * once;
}

/** US dollars a month that a stage costs with no messages at all, item by item. */
export function idleMonthlyCost(deployment: Deployment) {
  const { fallbackSchedule, quietAccountPull, tokenRefresh, statsExport } = IDLE_ASSUMPTIONS;
  const items = {
    alarms: deployment.alarms * FIXED_PRICES.cloudWatchAlarmMonth,
    fallbackPulls:
      monthlyDollars(fallbackSchedule, deployment.memoryMb.syncPuller) +
      monthlyDollars(quietAccountPull, deployment.memoryMb.syncPuller),
    tokensAndReports:
      monthlyDollars(tokenRefresh, deployment.memoryMb.tokenRefresh) +
      monthlyDollars(statsExport, deployment.memoryMb.statsExport),
    idlePolling: deployment.polledQueues * IDLE_ASSUMPTIONS.idleReceivesPerQueueMonth * PRICES.sqsFifoRequest,
  };
  return {
    items,
    total: Object.values(items).reduce((sum, n) => sum + n, 0),
    perExtraQuietAccount: monthlyDollars(quietAccountPull, deployment.memoryMb.syncPuller),
    /** `fixedEgressIp=true`: a NAT gateway and its Elastic IP, by the hour, before the GB it carries. */
    fixedEgressIp: HOURS_PER_MONTH * (FIXED_PRICES.natGatewayHour + FIXED_PRICES.publicIpv4Hour),
  };
}

/** US dollars a month for the messages themselves, at `messagesPerDay` customer messages and replies a day. */
export function trafficMonthlyCost(messagesPerDay: number, usage: UsagePerMessage = MEASURED_USAGE) {
  const messagesPerMonth = messagesPerDay * DAYS_PER_MONTH;
  return { messagesPerMonth, dollars: (messagesPerMonth * usdPerMillionMessages(usage).total) / 1e6 };
}
