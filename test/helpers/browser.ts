/** Debian's headless Chromium driven by playwright-core, for tests of web pages: never a
 * downloaded browser. Outside CI a missing /usr/bin/chromium skips the test; in CI it fails
 * (tools.ts). */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

export function chromiumMissing(): boolean {
  return !existsSync(CHROMIUM);
}

/** A quiet, sandbox-free headless run that reaches out to nothing on its own. No
 * `--user-data-dir`: playwright-core refuses it for `launch` and gives each launch a fresh
 * profile folder of its own (mkdtemp), removed when the browser closes. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches Chromium; close it with `browser.close()`. Rejects saying what to install when it is
 * missing (a test that gets here in CI fails with that). */
export async function launchChromium(opts: { timeoutMs?: number } = {}): Promise<Browser> {
  if (chromiumMissing())
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    timeout: opts.timeoutMs ?? 60_000,
  });
}
