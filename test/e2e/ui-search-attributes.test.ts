/**
 * Search attributes in the web UI, in real headless Chromium against a real server process:
 * the list page filters by them (the same expressions as the CLI's --attr) and shows them in a
 * column; the execution page shows them, a datetime as a time. PERDURE_SKIP_BROWSER=1 skips it.
 */
import { describe, expect, it } from 'vitest';
import { SKIP_BROWSER } from './browser.ts';
import { uiHarness } from './ui-harness.ts';
import { api } from './ui-helpers.ts';

// Skipped only when PERDURE_SKIP_BROWSER=1, on a machine without Chromium; CI installs it and runs these.
describe.skipIf(SKIP_BROWSER)('search attributes in the web UI', () => {
  const NS = '/api/v1/namespaces/default/workflows';
  const ui = uiHarness({}, async (server) => {
    for (const [workflowId, customerId, price] of [['ui-sa-1', 'c-ui-1', 20], ['ui-sa-2', 'c-ui-2', 200], ['ui-sa-3', 'c-ui-1', 300]] as const) {
      await api(server.url, 'POST', NS, { type: 'customerOrder', workflowId, input: { customerId, dueAt: '2026-05-01T12:00:00.000Z' } });
      await api(server.url, 'POST', `${NS}/${workflowId}/signal`, { event: { type: 'ADD_ITEM', sku: 'a', price } });
    }
  });

  it('filters the list by attribute expressions and shows the attributes of each row', async () => {
    const page = await ui.newPage();
    try {
      await page.goto(`${ui.server.url}/`);
      await page.getByTestId('filter-attr').fill('customerId=c-ui-1 amount>=100');
      const rows = page.getByTestId('execution-row');
      await page.waitForFunction(() => {
        const ids = [...document.querySelectorAll('[data-testid=execution-row]')].map((r) => r.getAttribute('data-workflow-id'));
        return ids.length === 1 && ids[0] === 'ui-sa-3';
      });
      expect(await rows.count()).toBe(1);
      expect(await rows.first().getByTestId('row-attributes').textContent()).toContain('customerId=c-ui-1 amount=300');
      expect(page.url()).toContain('attr=');
      await page.getByTestId('filter-attr').fill('amount>=lots');
      await page.getByRole('alert').filter({ hasText: 'searchAttributes.amount.gte' }).waitFor();
    } finally {
      await page.close();
    }
  });

  it('shows the search attributes on the execution page, a datetime as a time', async () => {
    const page = await ui.newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows/ui-sa-2`);
      const panel = page.getByTestId('search-attributes');
      await panel.locator('[data-attribute=dueAt]').waitFor();
      expect(await panel.locator('[data-attribute=customerId] td').first().textContent()).toBe('c-ui-2');
      expect(await panel.locator('[data-attribute=amount] td').first().textContent()).toBe('200');
      await page.waitForFunction(() => document.querySelector('[data-testid=search-attributes] [data-attribute=dueAt] td')?.textContent === '2026-05-01T12:00:00.000Z');
    } finally {
      await page.close();
    }
  });
});
