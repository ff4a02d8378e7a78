import type { BundleMeasure } from './bundles';

/**
 * What CI holds every change to: bundles no more than 10 % over the recorded baseline in bytes and 25 % in import
 * time (three runs of the same bytes on this 2-core shared machine spread their import ratios by up to 15 %, so a
 * tighter gate fails on the neighbours, not on the change), and the targets of #19 where they are met: the
 * callback against its SDK floor in the same rounds (verify, decrypt and one bare SendMessage) at most 1.3× at the
 * median (it reads about 0.7×: its SendMessage is a signed request of its own, cheaper than the SDK's) and 4× at
 * p99 (which moves with the neighbours); every function but the callback under 600 KB; the callback within 1.15×
 * its floor's bytes (about 0.32×: no AWS SDK client, no credential chain).
 */
export const BUDGETS = {
  bundleGrowth: 0.1,
  importGrowth: 0.25,
  functionBytes: 600_000,
  callbackFloorBytesRatio: 1.15,
  callbackSdkFloorRatio: 1.3,
  callbackP99SdkFloorRatio: 4,
} as const;

export interface Baseline {
  readonly recorded: string;
  readonly bundles: Record<string, Pick<BundleMeasure, 'bytes' | 'importMs' | 'importRatio'>>;
}

/**
 * Every budget the measures break, as sentences. Import time is compared as the ratio to the reference module
 * measured in the same run, so a slower or busier machine does not read as a slower bundle.
 */
export function budgetViolations(
  measured: {
    bundles?: Record<string, BundleMeasure>;
    callback?: { sdkFloorRatio: number; sdkFloorP99Ratio: number };
  },
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
    if (name === 'callback' && (measure.floorRatio ?? 0) > BUDGETS.callbackFloorBytesRatio)
      violations.push(
        `bundle callback is ${measure.floorRatio}× its floor in bytes, over ${BUDGETS.callbackFloorBytesRatio}×`,
      );
    if (name !== 'callback' && name !== 'floor' && measure.bytes > BUDGETS.functionBytes)
      violations.push(`bundle ${name} is ${measure.bytes} bytes, over ${BUDGETS.functionBytes}`);
    if (measure.importRatio > recorded.importRatio * importLimit)
      violations.push(
        `bundle ${name} imports in ${measure.importRatio}× the reference, ${over(importLimit)} ${recorded.importRatio}×`,
      );
  }
  const { callback } = measured;
  if (callback && callback.sdkFloorRatio > BUDGETS.callbackSdkFloorRatio)
    violations.push(
      `callback median is ${callback.sdkFloorRatio}× its SDK floor's, over ${BUDGETS.callbackSdkFloorRatio}×`,
    );
  if (callback && callback.sdkFloorP99Ratio > BUDGETS.callbackP99SdkFloorRatio)
    violations.push(
      `callback p99 is ${callback.sdkFloorP99Ratio}× its SDK floor's, over ${BUDGETS.callbackP99SdkFloorRatio}×`,
    );
  return violations;
}
