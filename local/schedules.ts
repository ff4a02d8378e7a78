import type { ServiceDefinition } from './serviceDefinition';

export interface Schedule {
  readonly functionName: string;
  readonly expression: string;
  readonly periodMs: number;
}

const UNITS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** `rate(5 minutes)` → 300 000 ms; undefined for expressions this runner does not handle (cron). */
export function ratePeriodMs(expression: string): number | undefined {
  const match = /^rate\((\d+)\s+(\w+)\)$/.exec(expression.trim());
  const unit = match?.[2] ? UNITS[match[2]] : undefined;
  return match && unit ? Number(match[1]) * unit : undefined;
}

/** The `schedule` events declared on functions in serverless.yml. */
export function schedulesOf(definition: ServiceDefinition, log: (line: string) => void): Schedule[] {
  const schedules: Schedule[] = [];
  for (const [functionName, fn] of Object.entries(definition.functions)) {
    for (const event of fn.events ?? []) {
      const schedule = (event as { schedule?: string | { rate?: string | string[]; enabled?: boolean } })
        .schedule;
      if (schedule === undefined) continue;
      const expressions =
        typeof schedule === 'string'
          ? [schedule]
          : schedule.enabled === false
            ? []
            : [schedule.rate ?? []].flat();
      for (const expression of expressions) {
        const periodMs = ratePeriodMs(expression);
        if (periodMs === undefined)
          log(
            `[schedule] ${functionName}: '${expression}' is not run locally (only rate() is); invoke it by hand`,
          );
        else schedules.push({ functionName, expression, periodMs });
      }
    }
  }
  return schedules;
}

/** Invokes each scheduled function every period, with an EventBridge-shaped event, until stopped. */
export function startSchedules(
  schedules: Schedule[],
  invoke: (functionName: string, event: unknown) => Promise<unknown>,
  log: (line: string) => void,
): { stop(): void } {
  const timers = schedules.map((schedule) =>
    setInterval(() => {
      const event = {
        version: '0',
        id: crypto.randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        time: new Date().toISOString(),
        resources: [],
        detail: {},
      };
      invoke(schedule.functionName, event).catch((error: Error) =>
        log(`[schedule] ${schedule.functionName} failed: ${error.message}`),
      );
    }, schedule.periodMs),
  );
  return {
    stop: () => {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
