import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { launchBrowser, missingBrowser, type LaunchedBrowser } from './browser.ts';
import { waitForUi } from './ui-helpers.ts';

export const UI_TIMEOUT = 15_000;

/** A page whose `problems` collects page errors and console errors (404 and 409 answers aside). */
export type WatchedPage = Page & { problems: string[] };

/** A server process with the example machines and a headless Chromium, for one describe block. */
export interface UiHarness {
  readonly server: ServerProcess;
  readonly browser: Browser;
  newPage(): Promise<WatchedPage>;
}

/**
 * Starts, in the describe block it is called in, a server process (with `serverOptions`) and
 * Chromium, waits until the server serves the app (a server builds a missing or stale bundle
 * first), runs `setup`, and stops both afterwards.
 *
 * @example
 * const ui = uiHarness();
 * it('…', async () => { const page = await ui.newPage(); await page.goto(`${ui.server.url}/`); … });
 */
export function uiHarness(serverOptions: Record<string, unknown> = {}, setup?: (server: ServerProcess) => Promise<void>): UiHarness {
  let server: ServerProcess | undefined;
  let launched: LaunchedBrowser | undefined;
  beforeAll(async () => {
    const missing = missingBrowser();
    if (missing) throw new Error(missing);
    server = await startServerProcess(serverOptions);
    launched = await launchBrowser();
    await waitForUi(server.url);
    await setup?.(server);
  }, 240_000);
  afterAll(async () => {
    await launched?.close();
    await server?.cleanup();
  });
  return {
    get server() {
      return server!;
    },
    get browser() {
      return launched!.browser;
    },
    async newPage() {
      const page = await launched!.browser.newPage({ viewport: { width: 1440, height: 1000 } }) as WatchedPage;
      page.setDefaultTimeout(UI_TIMEOUT);
      page.problems = [];
      page.on('pageerror', (error) => page.problems.push(error.message));
      page.on('console', (m) => m.type() === 'error' && !/status of 40[49]/.test(m.text()) && page.problems.push(m.text()));
      return page;
    },
  };
}
