/**
 * Child workflows, continue-as-new, schedules and namespaces in the web UI, in real headless
 * Chromium against a real server process with the example machines (fulfillment + shipment,
 * counter, approval). PERDURE_SKIP_BROWSER=1 skips it on a machine without Chromium.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionDetail } from '../../src/common/execution-types.ts';
import type { ScheduleDescription } from '../../src/common/schedule-types.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { launchBrowser, missingBrowser, SKIP_BROWSER, type LaunchedBrowser } from './browser.ts';
import { api, waitForUi } from './ui-helpers.ts';

const UI_TIMEOUT = 15_000;
const WORKFLOWS = '/api/v1/namespaces/default/workflows';
const SCHEDULES = '/api/v1/namespaces/default/schedules';

describe.skipIf(SKIP_BROWSER)('workflow features in the web UI', () => {
  let server: ServerProcess;
  let launched: LaunchedBrowser;
  let browser: Browser;
  let problems: string[] = [];

  beforeAll(async () => {
    const missing = missingBrowser();
    if (missing) throw new Error(missing);
    server = await startServerProcess();
    launched = await launchBrowser();
    browser = launched.browser;
    await waitForUi(server.url);
  }, 240_000);

  afterAll(async () => {
    await launched?.close();
    await server?.cleanup();
  });

  async function newPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT);
    problems = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (m) => m.type() === 'error' && !/status of 40[49]/.test(m.text()) && problems.push(m.text()));
    return page;
  }
  const describeRun = async (workflowId: string, namespace = 'default') =>
    await api(server.url, 'GET', `/api/v1/namespaces/${namespace}/workflows/${workflowId}`) as ExecutionDetail;

  it('lists a parent\'s child workflow with a link to it, links the child back to its parent, and shows the child completing', async () => {
    const suffix = Date.now();
    const parentId = `ui-fulfillment-${suffix}`;
    const childId = `shipment-ui-${suffix}`;
    await api(server.url, 'POST', WORKFLOWS, { type: 'fulfillment', workflowId: parentId, input: { orderId: `ui-${suffix}` } });
    const page = await newPage();
    try {
      await page.goto(`${server.url}/namespaces/default/workflows/${parentId}`);
      const row = page.locator(`[data-testid=child-row][data-workflow-id="${childId}"]`);
      await page.locator(`[data-testid=child-row][data-workflow-id="${childId}"][data-status=running]`).waitFor();
      expect(await row.getAttribute('data-child-id')).toBe('shipment');
      // The history's child events link to the child too.
      await page.getByTestId('history').getByText(`start child shipment "${childId}"`).waitFor();

      await row.getByTestId('child-link').click();
      await page.waitForURL(new RegExp(`/namespaces/default/workflows/${childId}(\\?run=.+)?$`));
      await page.locator('[data-testid=state-node][data-state-key=awaitingPickup][data-leaf-active=true]').waitFor();
      const parentLink = page.getByTestId('parent-link');
      expect(await parentLink.textContent()).toBe(parentId);
      const child = await describeRun(childId);
      expect(child.parent).toMatchObject({ workflowId: parentId, childId: 'shipment' });
      // The run a link named is the current one: no note about another run.
      expect(await page.getByTestId('other-run-note').count()).toBe(0);

      await parentLink.click();
      await page.waitForURL(new RegExp(`/namespaces/default/workflows/${parentId}(\\?run=.+)?$`));
      await page.getByTestId('child-workflows').waitFor();

      // The carrier delivers: the child completes, and so does the parent, which still lists it.
      await api(server.url, 'POST', `${WORKFLOWS}/${childId}/signal`, { event: { type: 'PICKED_UP', carrier: 'ups' } });
      await api(server.url, 'POST', `${WORKFLOWS}/${childId}/signal`, { event: { type: 'DELIVERED' } });
      await page.locator('[data-testid=execution-page][data-status=completed]').waitFor();
      await page.locator(`[data-testid=child-row][data-workflow-id="${childId}"][data-status=completed]`).waitFor();
      const parent = await describeRun(parentId);
      expect(await page.getByTestId('history-size').textContent()).toContain(`history ${parent.historyLength} events`);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('says which run is which after a continue-as-new: the old run\'s row leads to the current run, with both listed', async () => {
    const workflowId = `ui-counter-${Date.now()}`;
    await api(server.url, 'POST', WORKFLOWS, { type: 'counter', workflowId, input: { rollAt: 4 } });
    for (let i = 0; i < 3; i++) await api(server.url, 'POST', `${WORKFLOWS}/${workflowId}/signal`, { event: { type: 'ADD', amount: 1 } });
    let current = await describeRun(workflowId);
    for (let i = 0; i < 50 && !current.continuedFrom; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await describeRun(workflowId);
    }
    expect(current.continuedFrom).toBeDefined();
    const oldRun = current.continuedFrom!;
    const page = await newPage();
    try {
      await page.goto(`${server.url}/namespaces/default/workflows?q=${workflowId}`);
      const oldRow = page.locator(`[data-testid=execution-row][data-run-id="${oldRun}"]`);
      expect(await oldRow.getByTestId('status-badge').getAttribute('data-status')).toBe('continuedAsNew');
      await oldRow.getByRole('link', { name: workflowId }).click();
      await page.waitForURL(`**/namespaces/default/workflows/${workflowId}?run=${oldRun}`);

      await page.locator('[data-testid=other-run-note]', { hasText: 'continued as new' }).waitFor();
      await page.getByTestId('continued-from').waitFor();
      await page.locator(`[data-testid=run-row][data-run-id="${current.runId}"][data-current=true]`).waitFor();
      const old = page.locator(`[data-testid=run-row][data-run-id="${oldRun}"]`);
      expect(await old.getAttribute('data-current')).toBe('false');
      expect(await old.getByTestId('status-badge').getAttribute('data-status')).toBe('continuedAsNew');
      expect(await old.textContent()).toContain('previous');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows a schedule created over HTTP, pauses it from the UI, triggers it and opens the workflow it started, then deletes it', async () => {
    const scheduleId = `ui-hourly-${Date.now()}`;
    await api(server.url, 'POST', SCHEDULES, {
      scheduleId, spec: { interval: { every: '1h' } },
      action: { workflowType: 'approval', input: { request: 'from a schedule', timeoutMs: 3_600_000 } },
    });
    const page = await newPage();
    try {
      await page.goto(`${server.url}/`);
      await page.getByTestId('nav-schedules').click();
      await page.waitForURL('**/namespaces/default/schedules');
      const row = page.locator(`[data-testid=schedule-row][data-schedule-id="${scheduleId}"]`);
      await row.waitFor();
      expect(await row.getByTestId('schedule-spec').textContent()).toBe('every 1h');
      expect(await row.getByTestId('schedule-state').getAttribute('data-paused')).toBe('false');
      await row.getByRole('link', { name: scheduleId, exact: true }).click();
      await page.waitForURL(`**/namespaces/default/schedules/${scheduleId}`);

      // Pause asks first, and takes a note.
      await page.getByTestId('pause-schedule').click();
      await page.getByTestId('pause-note').fill('maintenance window');
      await page.getByTestId('confirm-schedule-action').click();
      await page.locator('[data-testid=schedule-page][data-paused=true]').waitFor();
      await page.getByTestId('pause-note-shown').getByText('maintenance window').waitFor();
      const paused = await api(server.url, 'GET', `${SCHEDULES}/${scheduleId}`) as ScheduleDescription;
      expect(paused.state).toMatchObject({ paused: true, note: 'maintenance window' });

      // Trigger works on a paused schedule; its workflow is listed and opens.
      await page.getByTestId('trigger-schedule').click();
      await page.getByTestId('confirm-schedule-action').click();
      await page.getByTestId('action-outcome').getByText('started').waitFor();
      const action = page.getByTestId('recent-action').first();
      await action.waitFor();
      const started = await action.getAttribute('data-workflow-id');
      expect(started).toMatch(new RegExp(`^${scheduleId}-`));
      expect(await page.getByTestId('count-taken').textContent()).toBe('1');

      // The list shows it paused, with its action.
      await page.goto(`${server.url}/namespaces/default/schedules`);
      await row.getByTestId('schedule-state').and(page.locator('[data-paused=true]')).waitFor();
      expect(await row.getByTestId('last-action-link').textContent()).toBe(started);
      await row.getByRole('link', { name: scheduleId, exact: true }).click();

      await page.getByTestId('recent-action-link').first().click();
      await page.waitForURL((url) => decodeURIComponent(url.pathname) === `/namespaces/default/workflows/${started!}`);
      await page.locator('[data-testid=state-node][data-state-key=waiting][data-leaf-active=true]').waitFor();

      // Resume, then delete (asked first); the list no longer has it.
      await page.goBack();
      await page.getByTestId('resume-schedule').click();
      await page.locator('[data-testid=schedule-page][data-paused=false]').waitFor();
      await page.getByTestId('delete-schedule').click();
      await page.getByTestId('confirm-schedule-action').click();
      await page.waitForURL('**/namespaces/default/schedules');
      await page.getByTestId('schedules-table').waitFor();
      await row.waitFor({ state: 'detached' });
      const list = await api(server.url, 'GET', SCHEDULES) as { schedules: { scheduleId: string }[] };
      expect(list.schedules.map((s) => s.scheduleId)).not.toContain(scheduleId);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('creates a schedule from the form, and a bad cron expression is refused with the server\'s message', async () => {
    const scheduleId = `ui-form-${Date.now()}`;
    const page = await newPage();
    try {
      await page.goto(`${server.url}/namespaces/default/schedules`);
      await page.getByTestId('new-schedule').click();
      await page.getByTestId('schedule-id').fill(scheduleId);
      await page.getByTestId('schedule-type').selectOption('approval');
      await page.getByTestId('schedule-expression').fill('0 25 * * *');
      await page.getByTestId('schedule-input').fill('{ "request": "weekly", "timeoutMs": 60000 }');
      await page.getByTestId('create-schedule').click();
      await page.getByRole('alert').getByText('spec.cron').waitFor();

      await page.getByTestId('schedule-expression').fill('0 9 * * MON');
      await page.getByTestId('create-schedule').click();
      await page.waitForURL(`**/namespaces/default/schedules/${scheduleId}`);
      expect(await page.getByTestId('schedule-spec').textContent()).toBe('cron 0 9 * * MON');
      const created = await api(server.url, 'GET', `${SCHEDULES}/${scheduleId}`) as ScheduleDescription;
      expect(created.action).toMatchObject({ workflowType: 'approval', input: { request: 'weekly', timeoutMs: 60000 } });
    } finally {
      await page.close();
    }
  });

  it('switches the executions and schedules lists to another namespace with the picker', async () => {
    const ns = `ui-ns-${Date.now()}`;
    await api(server.url, 'POST', '/api/v1/namespaces', { name: ns, description: 'for the picker' });
    const inDefault = `ui-in-default-${Date.now()}`;
    const inOther = `ui-in-other-${Date.now()}`;
    await api(server.url, 'POST', WORKFLOWS, { type: 'approval', workflowId: inDefault, input: { request: 'here', timeoutMs: 3_600_000 } });
    await api(server.url, 'POST', `/api/v1/namespaces/${ns}/workflows`, { type: 'approval', workflowId: inOther, input: { request: 'there', timeoutMs: 3_600_000 } });
    await api(server.url, 'POST', `/api/v1/namespaces/${ns}/schedules`, {
      scheduleId: 'only-there', spec: { cron: '0 3 * * *' }, action: { workflowType: 'approval', input: { request: 'x', timeoutMs: 1000 } }, paused: true,
    });
    const page = await newPage();
    try {
      await page.goto(`${server.url}/namespaces/default/workflows`);
      await page.locator(`[data-testid=execution-row][data-workflow-id="${inDefault}"]`).waitFor();
      const picker = page.getByTestId('namespace-select');
      await picker.locator(`option[value="${ns}"]`).waitFor({ state: 'attached' });
      expect(await picker.inputValue()).toBe('default');

      await picker.selectOption(ns);
      await page.waitForURL(`**/namespaces/${ns}/workflows`);
      await page.locator(`[data-testid=execution-row][data-workflow-id="${inOther}"]`).waitFor();
      expect(await page.locator(`[data-testid=execution-row][data-workflow-id="${inDefault}"]`).count()).toBe(0);

      // The other lists follow the namespace chosen.
      await page.getByTestId('nav-schedules').click();
      await page.waitForURL(`**/namespaces/${ns}/schedules`);
      await page.locator('[data-testid=schedule-row][data-schedule-id="only-there"]').waitFor();
      await picker.selectOption('default');
      await page.waitForURL('**/namespaces/default/schedules');
      await page.getByTestId('schedules-table').waitFor();
      await page.locator('[data-testid=schedule-row][data-schedule-id="only-there"]').waitFor({ state: 'detached' });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
