/**
 * The web UI in real headless Chromium (Debian's, driven by playwright-core) against a real
 * server process with the example machines. Needs /usr/bin/chromium: scripts/install-ui.browser.sh
 * installs it; PERDURE_SKIP_BROWSER=1 skips this file on a machine without it.
 */
import { readFile } from 'node:fs/promises';
import { createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { SKIP_BROWSER } from './browser.ts';
import { UI_TIMEOUT, uiHarness, type WatchedPage } from './ui-harness.ts';
import { api, syntheticHistory } from './ui-helpers.ts';


// Skipped only when PERDURE_SKIP_BROWSER=1, on a machine without Chromium; CI installs it and runs these.
describe.skipIf(SKIP_BROWSER)('web UI in headless Chromium', () => {
  const ui = uiHarness();
  const newPage = () => ui.newPage();
  const problemsOf = (page: WatchedPage) => page.problems;

  it('finds an approval in the list, shows it waiting, and moves it to approved with a signal sent from the UI', async () => {
    const workflowId = `ui-approval-${Date.now()}`;
    await api(ui.server.url, 'POST', '/api/v1/namespaces/default/workflows', { type: 'approval', workflowId, input: { request: 'a new laptop', timeoutMs: 3_600_000 } });
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/`);
      await page.getByTestId('search').fill(workflowId);
      const row = page.locator(`[data-testid=execution-row][data-workflow-id="${workflowId}"]`);
      await row.waitFor();
      expect(await row.getByTestId('status-badge').getAttribute('data-status')).toBe('running');
      await row.getByRole('link', { name: workflowId }).click();

      await page.waitForURL(`**/namespaces/default/workflows/${workflowId}`);
      const waiting = page.locator('[data-testid=state-node][data-state-key=waiting]');
      const approved = page.locator('[data-testid=state-node][data-state-key=approved]');
      await page.locator('[data-testid=state-node][data-state-key=waiting][data-leaf-active=true]').waitFor();
      expect(await approved.getAttribute('data-active')).toBe('false');
      expect(await page.getByTestId('current-state').textContent()).toBe('waiting');

      // The signal form offers the events the current state accepts.
      const options = await page.getByTestId('signal-event').locator('option').allTextContents();
      expect(options).toEqual(['APPROVE', 'REJECT']);
      await page.getByTestId('signal-event').selectOption('APPROVE');
      await page.getByTestId('signal-payload').fill('{ "approver": "ana" }');
      await page.getByTestId('send-signal').click();

      await page.locator('[data-testid=state-node][data-state-key=approved][data-leaf-active=true]').waitFor();
      expect(await waiting.getAttribute('data-active')).toBe('false');
      // The path taken: waiting was visited, and the APPROVE transition is drawn as taken.
      expect(await waiting.getAttribute('data-visited')).toBe('true');
      await page.locator('[data-testid=transition][data-event=APPROVE][data-taken]').waitFor();
      await page.locator('[data-testid=execution-page][data-status=completed]').waitFor();
      await page.getByTestId('output').getByText('"approver": "ana"').waitFor();

      const described = await api(ui.server.url, 'GET', `/api/v1/namespaces/default/workflows/${workflowId}`) as { status: string; output: { decision: string; approver: string } };
      expect(described.status).toBe('completed');
      expect(described.output).toMatchObject({ decision: 'approved', approver: 'ana' });
      expect(problemsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows the state a run closed in beside its status, and its version in one short form', async () => {
    const workflowId = `ui-rejected-${Date.now()}`;
    await api(ui.server.url, 'POST', '/api/v1/namespaces/default/workflows', { type: 'approval', workflowId, input: { request: 'a boat', timeoutMs: 3_600_000 } });
    await api(ui.server.url, 'POST', `/api/v1/namespaces/default/workflows/${workflowId}/signal`, { event: { type: 'REJECT', approver: 'bo' } });
    const { version } = await api(ui.server.url, 'GET', `/api/v1/namespaces/default/workflows/${workflowId}`) as { version: string };
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/`);
      await page.getByTestId('search').fill(workflowId);
      const row = page.locator(`[data-testid=execution-row][data-workflow-id="${workflowId}"]`);
      await row.locator('[data-testid=status-badge][data-status=completed]').waitFor();
      // A rejected approval completed, but not as a success: its final state says so.
      expect(await row.getByTestId('final-state').textContent()).toBe('in rejected');
      expect(await row.getByTestId('version').textContent()).toBe(`@${version.slice(0, 8)}`);
      expect(await row.getByTestId('version').getAttribute('title')).toBe(`version ${version}`);

      await row.getByRole('link', { name: workflowId }).click();
      await page.locator('[data-testid=execution-page][data-status=completed]').waitFor();
      expect(await page.locator('.page-header').getByTestId('final-state').textContent()).toBe('in rejected');
      expect(await page.locator('.page-header').getByTestId('version').textContent()).toBe(`@${version.slice(0, 8)}`);
      expect(problemsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('cancels an execution from the UI', async () => {
    const workflowId = `ui-cancel-${Date.now()}`;
    await api(ui.server.url, 'POST', '/api/v1/namespaces/default/workflows', { type: 'approval', workflowId, input: { request: 'to be cancelled', timeoutMs: 3_600_000 } });
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${workflowId}`);
      await page.locator('[data-testid=state-node][data-state-key=waiting][data-leaf-active=true]').waitFor();
      await page.getByTestId('cancel-execution').click();
      await page.getByTestId('reason').fill('changed my mind');
      await page.getByTestId('confirm-action').click();
      await page.locator('[data-testid=execution-page][data-status=canceled]').waitFor();
      await page.getByTestId('actions-closed').waitFor();
      // The history shows the cancellation, with its reason.
      await page.getByTestId('history').getByText('canceled: changed my mind').waitFor();

      const described = await api(ui.server.url, 'GET', `/api/v1/namespaces/default/workflows/${workflowId}`) as { status: string };
      expect(described.status).toBe('canceled');
      expect(problemsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('resets a closed execution from the UI to the state after its first event, and lights the state again', async () => {
    const workflowId = `ui-reset-${Date.now()}`;
    await api(ui.server.url, 'POST', '/api/v1/namespaces/default/workflows', { type: 'approval', workflowId, input: { request: 'again', timeoutMs: 3_600_000 } });
    await api(ui.server.url, 'POST', `/api/v1/namespaces/default/workflows/${workflowId}/signal`, { event: { type: 'REJECT', approver: 'bo' } });
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${workflowId}`);
      await page.locator('[data-testid=execution-page][data-status=completed]').waitFor();
      await page.getByTestId('reset-execution').click();
      await page.getByTestId('reset-seq').fill('1');
      await page.getByTestId('reset-reason').fill('rejected by mistake');
      await page.getByTestId('confirm-reset').click();
      await page.locator('[data-testid=execution-page][data-status=running]').waitFor();
      await page.locator('[data-testid=state-node][data-state-key=waiting][data-leaf-active=true]').waitFor();
      const described = await api(ui.server.url, 'GET', `/api/v1/namespaces/default/workflows/${workflowId}`) as { status: string; state: { value: unknown } };
      expect(described).toMatchObject({ status: 'running', state: { value: 'waiting' } });
      expect(problemsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('terminates an execution with a reason, and shows it in the list with its status', async () => {
    const workflowId = `ui-terminate-${Date.now()}`;
    await api(ui.server.url, 'POST', '/api/v1/namespaces/default/workflows', { type: 'approval', workflowId, input: { request: 'stuck', timeoutMs: 3_600_000 } });
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${workflowId}`);
      await page.getByTestId('terminate-execution').click();
      // A terminate needs a reason.
      expect(await page.getByTestId('confirm-action').isDisabled()).toBe(true);
      await page.getByTestId('reason').fill('stuck for a week');
      await page.getByTestId('confirm-action').click();
      await page.locator('[data-testid=execution-page][data-status=terminated]').waitFor();

      await page.goto(`${ui.server.url}/namespaces/default/workflows?status=terminated`);
      await page.locator(`[data-testid=execution-row][data-workflow-id="${workflowId}"] [data-status=terminated]`).waitFor();
      expect(await page.locator('[data-testid=execution-row] [data-testid=status-badge]:not([data-status=terminated])').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('shows a new execution in the list without a reload', async () => {
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows`);
      await page.getByTestId('executions-table').waitFor();
      const workflowId = `ui-live-${Date.now()}`;
      await api(ui.server.url, 'POST', '/api/v1/namespaces/default/workflows', { type: 'approval', workflowId, input: { request: 'live', timeoutMs: 3_600_000 } });
      await page.locator(`[data-testid=execution-row][data-workflow-id="${workflowId}"]`).waitFor();
    } finally {
      await page.close();
    }
  });

  it('keeps a 20,000-event history responsive: only the rows in view are in the page', async () => {
    const workflowId = `ui-long-${Date.now()}`;
    await api(ui.server.url, 'POST', '/api/v1/namespaces/default/workflows', { type: 'approval', workflowId, input: { request: 'long', timeoutMs: 3_600_000 } });
    const page = await newPage();
    try {
      // The server's history is replaced by a long one: 20,000 signals the machine ignored.
      const events = syntheticHistory(workflowId, 20_000);
      // Matched on the path: the page reads the history by its run id (`?runId=`).
      await page.route((url) => url.pathname === `/api/v1/namespaces/default/workflows/${workflowId}/history`, (route) => route.fulfill({ json: { events } }));
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${workflowId}`);
      await page.getByText('History (20000)').waitFor();
      const rendered = await page.getByTestId('history-row').count();
      expect(rendered).toBeGreaterThan(5);
      expect(rendered).toBeLessThan(100);
      await page.getByTestId('history-last').click();
      await page.locator('[data-testid=history-row][data-seq="20000"]').waitFor();
      expect(await page.getByTestId('history-row').count()).toBeLessThan(100);
      // Filtering 20,000 events answers, and opening one shows its payload.
      await page.getByLabel('filter events').fill('19999');
      await page.locator('[data-testid=history-row][data-seq="19999"]').click();
      await page.getByText('"n": 19999').waitFor();
    } finally {
      await page.close();
    }
  });

  it('shows each workflow type with its diagram, and its code for Stately', async () => {
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/workflow-types/order`);
      await page.locator('[data-testid=type-statechart] [data-state-key=charging]').waitFor();
      // Activities are marked on the states that invoke them.
      await page.locator('[data-testid=type-statechart] [data-state-key=charging]').getByText('⚙ chargeCard', { exact: false }).waitFor();
      await page.getByTestId('open-in-stately').first().click();
      const code = await page.getByTestId('stately-code').locator('pre').textContent();
      expect(code).toContain("import { createMachine } from 'xstate';");
      expect(code).toContain("src: 'chargeCard'");

      // Download JSON gives a config that plain XState loads back (toJSON()'s object `initial` did not).
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).first().click()]);
      expect(download.suggestedFilename()).toMatch(/^order@[0-9a-f]{8}\.json$/);
      const config = JSON.parse(await readFile((await download.path())!, 'utf8')) as Record<string, unknown>;
      expect(createMachine(config as never).root.initial?.target[0]?.key).toBe('charging');
      expect(problemsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows the workers page with a one-line cluster section on a single node (LevelDB)', async () => {
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/workers`);
      await page.getByTestId('workers-table').waitFor();
      const single = page.getByTestId('cluster-single');
      await single.waitFor();
      const { nodeId } = await api(ui.server.url, 'GET', '/api/v1/cluster') as { nodeId: string };
      expect(await single.textContent()).toContain(nodeId);
      expect(await page.getByTestId('cluster-table').count()).toBe(0);
      expect(problemsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('answers app routes with the app, and leaves /api, /healthz and /metrics to the server', async () => {
    const html = await fetch(`${ui.server.url}/namespaces/default/workflows/anything`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('<div id="root">');
    const missingApi = await fetch(`${ui.server.url}/api/v1/no-such-thing`, { headers: { accept: 'text/html' } });
    expect(missingApi.status).toBe(404);
    expect(await missingApi.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await fetch(`${ui.server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${ui.server.url}/metrics`)).headers.get('content-type')).toContain('text/plain');
    const missingAsset = await fetch(`${ui.server.url}/assets/nope.js`);
    expect(missingAsset.status).toBe(404);
  });
});

// Skipped only when PERDURE_SKIP_BROWSER=1, on a machine without Chromium; CI installs it and runs these.
describe.skipIf(SKIP_BROWSER)('web UI on a server with tokens', () => {
  const token = 'ui-client-token-123';
  const ui = uiHarness({ tokens: [{ token, namespace: '*', role: 'admin' }] });

  it('asks for a token, then sends it as Bearer', async () => {
    const workflowId = `ui-auth-${Date.now()}`;
    await api(ui.server.url, 'POST', '/api/v1/namespaces/default/workflows', { type: 'approval', workflowId, input: { request: 'x', timeoutMs: 3_600_000 } }, token);
    expect((await fetch(`${ui.server.url}/api/v1/workers`)).status).toBe(401);
    const page = await ui.browser.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    try {
      const authorizations: (string | undefined)[] = [];
      page.on('request', (r) => r.url().includes('/api/v1/namespaces/default/workflows?') && authorizations.push(r.headers().authorization));
      await page.goto(`${ui.server.url}/`);
      await page.getByTestId('token-dialog').waitFor();
      await page.getByTestId('token-input').fill(token);
      await page.getByTestId('token-input').press('Enter');
      await page.locator(`[data-testid=execution-row][data-workflow-id="${workflowId}"]`).waitFor();
      expect(authorizations).toContain(`Bearer ${token}`);
    } finally {
      await page.close();
    }
  });
});
