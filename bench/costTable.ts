import { PRICES } from './costModel';
import {
  type Deployment,
  FIXED_PRICES,
  IDLE_ASSUMPTIONS,
  idleMonthlyCost,
  MEASURED_USAGE,
  PRICES_AS_OF,
  trafficMonthlyCost,
} from './monthlyCost';

/** The README's cost tables sit between these lines; `npm run cost -- --write` rewrites what is between. */
export const COST_TABLE_START = '<!-- cost-table:start (npm run cost -- --write) -->';
export const COST_TABLE_END = '<!-- cost-table:end -->';

export const MESSAGES_PER_DAY = [1_000, 10_000, 100_000] as const;

const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const usd = (value: number) => `$${value.toFixed(2)}`;
const price = (value: number) =>
  `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;

/** The README's cost tables, from the cost model, the measured usage and the idle assumptions. */
export function renderCostTables(deployment: Deployment): string {
  const idle = idleMonthlyCost(deployment);
  const { fallbackSchedule, statsExport } = IDLE_ASSUMPTIONS;
  const lines = [
    `| with no traffic (one app, one kf account) | US$ a month |`,
    `| --- | ---: |`,
    `| CloudWatch alarms (${deployment.alarms} alarm metrics) | ${usd(idle.items.alarms)} |`,
    `| the fallback schedule and the account's pull, every minute (Lambda, SQS, DynamoDB, logs) | ${usd(idle.items.fallbackPulls)} |`,
    `| tokenRefresh every 5 minutes, statsExport daily (Lambda, DynamoDB, S3, logs) | ${usd(idle.items.tokensAndReports)} |`,
    `| Lambda's long polling of the ${deployment.polledQueues} queues the functions consume | ${usd(idle.items.idlePolling)} |`,
    `| **total** | **${usd(idle.total)}** |`,
    `| each further quiet kf account (up to 8 per corp) | ${usd(idle.perExtraQuietAccount)} |`,
    `| \`fixedEgressIp=true\`: NAT gateway and its public IPv4 address | ${usd(idle.fixedEgressIp)} |`,
    '',
    `| messages a day | a month | for the messages | total | with \`fixedEgressIp\` |`,
    `| ---: | ---: | ---: | ---: | ---: |`,
    ...MESSAGES_PER_DAY.map((perDay) => {
      const traffic = trafficMonthlyCost(perDay);
      const total = traffic.dollars + idle.total;
      return `| ${count.format(perDay)} | ${count.format(traffic.messagesPerMonth)} | ${usd(traffic.dollars)} | ${usd(total)} | ${usd(total + idle.fixedEgressIp)} |`;
    }),
    '',
    `- Prices: AWS list prices for us-east-1 as of ${PRICES_AS_OF}, arm64, on demand, no free tier; a month is 730 hours. Lambda ${price(PRICES.lambdaRequest * 1e6)} per million requests and ${price(PRICES.lambdaGbSecondArm * 1e6)} per million GB-seconds, SQS FIFO ${price(PRICES.sqsFifoRequest * 1e6)} per million requests, DynamoDB ${price(PRICES.dynamodbWriteUnit * 1e6)} per million write units and ${price(PRICES.dynamodbReadUnit * 1e6)} per million read units, HTTP API ${price(PRICES.httpApiRequest * 1e6)} per million requests, S3 ${price(FIXED_PRICES.s3PutRequest * 1000)} per thousand PUTs, CloudWatch ${price(FIXED_PRICES.cloudWatchAlarmMonth)} per alarm metric a month (a metric-math alarm pays for each metric it reads), logs ${price(FIXED_PRICES.logsIngestedGb)} per GB ingested and ${price(FIXED_PRICES.logsStoredGbMonth)} per GB-month kept, a NAT gateway ${price(FIXED_PRICES.natGatewayHour)} an hour plus ${price(FIXED_PRICES.natGatewayGb)} per GB it carries (not included above), a public IPv4 address ${price(FIXED_PRICES.publicIpv4Hour)} an hour.`,
    `- Messages: customer messages and replies, each counted once, in the mix of the measured run (BENCHMARKS.md): per message ${MEASURED_USAGE.lambdaInvocations} Lambda invocations and ${MEASURED_USAGE.lambdaGbSeconds} GB-seconds, ${MEASURED_USAGE.sqsRequests} SQS requests, ${MEASURED_USAGE.dynamodbWriteUnits} DynamoDB write and ${MEASURED_USAGE.dynamodbReadUnits} read units, ${MEASURED_USAGE.httpApiRequests} HTTP API requests. The log lines of the messages themselves are not in the model.`,
    `- With no traffic (assumed, not measured): each scheduled run billed ${fallbackSchedule.billedMs} ms (statsExport ${statsExport.billedMs / 1000} s) with ${IDLE_ASSUMPTIONS.logBytesPerInvocation} bytes of log; Lambda keeping 5 long polls of 20 s on each queue a function reads; a quiet kf account pulled once a minute (received, deleted, its cursor read).`,
  ];
  return [COST_TABLE_START, ...lines, COST_TABLE_END].join('\n');
}

/** The README's cost tables as they stand, markers included. */
export function costTablesIn(readme: string): string | undefined {
  const start = readme.indexOf(COST_TABLE_START);
  const end = readme.indexOf(COST_TABLE_END, start);
  if (start === -1 || end === -1) return undefined;
  return readme.slice(start, end + COST_TABLE_END.length);
}

/** `readme` with its cost tables replaced by `tables`. */
export function withCostTables(readme: string, tables: string): string {
  const current = costTablesIn(readme);
  if (current === undefined)
    throw new Error(`README.md has no cost tables between '${COST_TABLE_START}' and '${COST_TABLE_END}'`);
  return readme.replace(current, tables);
}
