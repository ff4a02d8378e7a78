import type { BundleMeasure } from './bundles';

/**
 * What CI holds every change to: bundles no more than 10 % over the recorded baseline, the callback's p99. The
 * callback claims each push against replay with two conditional writes (a DynamoDB Local round trip is a few
 * milliseconds here), so its p99 is held under 25 ms, far inside the platforms' 5 s.
 */
export const BUDGETS = { bundleGrowth: 0.1, callbackP99Us: 25_000 } as const;

export interface Baseline {
  readonly recorded: string;
  readonly bundles: Record<string, Pick<BundleMeasure, 'bytes' | 'importMs' | 'importRatio'>>;
}

/**
 * Every budget the measures break, as sentences. Import time is compared as the ratio to the reference module
 * measured in the same run, so a slower or busier machine does not read as a slower bundle.
 */
export function budgetViolations(
  measured: { bundles?: Record<string, BundleMeasure>; callback?: { p99Us: number } },
  baseline: Baseline,
): string[] {
  const violations: string[] = [];
  const limit = 1 + BUDGETS.bundleGrowth;
  const over = `over ${Math.round(limit * 100)} % of its baseline`;
  for (const [name, measure] of Object.entries(measured.bundles ?? {})) {
    const recorded = baseline.bundles[name];
    if (!recorded) {
      violations.push(`bundle ${name} has no baseline: record one with npm run bench -- --record`);
      continue;
    }
    if (measure.bytes > recorded.bytes * limit)
      violations.push(`bundle ${name} is ${measure.bytes} bytes, ${over} ${recorded.bytes}`);
    if (measure.importRatio > recorded.importRatio * limit)
      violations.push(
        `bundle ${name} imports in ${measure.importRatio}× the reference, ${over} ${recorded.importRatio}×`,
      );
  }
  if (measured.callback && measured.callback.p99Us >= BUDGETS.callbackP99Us)
    violations.push(`callback p99 is ${measured.callback.p99Us} µs, not under ${BUDGETS.callbackP99Us} µs`);
  return violations;
}
