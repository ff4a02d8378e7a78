import { accessSync, constants, statSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describe, it } from 'vitest';

/** Where Debian and Ubuntu packages put Chromium and Chrome; CHROMIUM_PATH names any other. */
const KNOWN_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

const isExecutableFile = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

const chosen = process.env.CHROMIUM_PATH;
/** The browser the page tests drive, if this machine has one. */
export const browserPath = chosen
  ? isExecutableFile(chosen)
    ? chosen
    : undefined
  : KNOWN_PATHS.find(isExecutableFile);

const missing = `${chosen ? `CHROMIUM_PATH=${chosen} is not an executable file` : `no Chromium or Chrome at ${KNOWN_PATHS.join(', ')} (or CHROMIUM_PATH)`}; install one (and the CJK fonts its screenshots need) with: sudo apt-get install chromium fonts-noto-cjk`;

/** CI installs a browser (.ci/run): there a missing one is a failure, never a skip. */
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';

/** A browser for a page test; fails with what to install when there is none (which CI, and only CI, reaches). */
export function launchBrowser(): Promise<Browser> {
  if (!browserPath) throw new Error(missing);
  return chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// Skipped statically, so none of the file's setup (a whole local stack) starts for nothing; vitest's skip note
// shows only in the verbose reporter, so the reason is said on stderr, which every reporter shows.
const skipping = !browserPath && !inCi;
if (skipping) console.warn(`skipped: tests in a browser need one: ${missing}`);

/** `describe` for tests in a browser: skipped with the reason on a machine without one, run (or failed) in CI. */
export const describeInBrowser = skipping ? describe.skip : describe;

/** `it` for a test in a browser: skipped with the reason on a machine without one, run (or failed) in CI. */
export const itInBrowser = skipping ? it.skip : it;
