import { describe, it } from 'vitest';

/** CI installs every tool the tests need (.ci/run): there a missing one is a failure, never a skip. */
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';

/**
 * `describe` and `it` for tests that need something this machine may lack (a browser, a Python tool): given
 * why it is missing, they are skipped with that reason on a developer's machine, and run (to fail) in CI.
 */
export function needs(what: string, missing: string | undefined) {
  // Skipped statically, so none of the file's setup (a whole local stack) starts for nothing; vitest's skip
  // note shows only in the verbose reporter, so the reason is said on stderr, which every reporter shows.
  const skipping = missing !== undefined && !inCi;
  if (skipping) console.warn(`skipped: ${what}: ${missing}`);
  return { describe: describe.skipIf(skipping), it: it.skipIf(skipping) };
}
