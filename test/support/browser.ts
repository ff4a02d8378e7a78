import { accessSync, constants, statSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { needs } from './needs';

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

/** `describe` and `it` for tests in a browser: skipped with the reason on a machine without one, run (or failed) in CI. */
export const { describe: describeInBrowser, it: itInBrowser } = needs(
  'tests in a browser need one',
  browserPath ? undefined : missing,
);
