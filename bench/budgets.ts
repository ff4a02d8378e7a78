import type { BundleMeasure } from './bundles';

/**
 * What CI holds every change to: bundles no more than 10 % over the recorded baseline in bytes and 25 % in import
 * time (three runs of the same bytes on this 2-core shared machine spread their import ratios by up to 15 %, so a
 * tighter gate fails on the neighbours, not on the change), the callback's p99. The
 * callback claims each push against replay with two conditional writes (a DynamoDB Local round trip is a few
 * milliseconds here), so its p99 is held under 25 ms, far inside the platforms' 5 s.
 */
export const BUDGETS = { bundleGrowth: 0.1, importGrowth: 0.25, callbackP99Us: 25_000 } as const;

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
  const importLimit = 1 + BUDGETS.importGrowth;
  const over = (by: number) => `over ${Math.round(by * 100)} % of its baseline`;
  for (const [name, measure] of Object.entries(measured.bundles ?? {})) {
    const recorded = baseline.bundles[name];
    if (!recorded) {
      violations.push(`bundle ${name} has no baseline: record one with npm run bench -- --record`);
      continue;
    }
    if (measure.bytes > recorded.bytes * limit)
      violations.push(`bundle ${name} is ${measure.bytes} bytes, ${over(limit)} ${recorded.bytes}`);
    if (measure.importRatio > recorded.importRatio * importLimit)
      violations.push(
        `bundle ${name} imports in ${measure.importRatio}× the reference, ${over(importLimit)} ${recorded.importRatio}×`,
      );
  }
  if (measured.callback && measured.callback.p99Us >= BUDGETS.callbackP99Us)
    violations.push(`callback p99 is ${measured.callback.p99Us} µs, not under ${BUDGETS.callbackP99Us} µs`);
  return violations;
}
