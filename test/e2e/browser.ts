import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: playwright-core drives it; nothing downloads a browser of its own. */
export const CHROMIUM = process.env.PERDURE_CHROMIUM ?? '/usr/bin/chromium';

/** Set to 1 to skip the browser tests on a machine without Chromium (they fail otherwise). */
export const SKIP_BROWSER = process.env.PERDURE_SKIP_BROWSER === '1';

/** Why the browser cannot start, or undefined when it can. */
export function missingBrowser(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return `Chromium is not installed at ${CHROMIUM}: the web UI's end-to-end tests need it. ` +
    'Run scripts/install-browser.sh (apt-get install -y chromium), or set PERDURE_SKIP_BROWSER=1 to skip these tests.';
}

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Headless Chromium with the flags this machine needs: no sandbox (root), no GPU, and no
 * background networking (the network is closed; Chromium's own calls home would be refused
 * many at a time). Playwright gives each launch a fresh temporary profile.
 */
export async function launchBrowser(): Promise<LaunchedBrowser> {
  const missing = missingBrowser();
  if (missing) throw new Error(missing);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}
