/**
 * Child workflows, continue-as-new, schedules and namespaces in the web UI, in real headless
 * Chromium against a real server process with the example machines (fulfillment + shipment,
 * counter, approval). PERDURE_SKIP_BROWSER=1 skips it on a machine without Chromium.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutionDetail } from '../../src/common/execution-types.ts';
import type { ScheduleDescription } from '../../src/common/schedule-types.ts';
import { SKIP_BROWSER } from './browser.ts';
import { uiHarness } from './ui-harness.ts';
import { api } from './ui-helpers.ts';

const WORKFLOWS = '/api/v1/namespaces/default/workflows';
const SCHEDULES = '/api/v1/namespaces/default/schedules';

// Skipped only when PERDURE_SKIP_BROWSER=1, on a machine without Chromium; CI installs it and runs these.
describe.skipIf(SKIP_BROWSER)('workflow features in the web UI', () => {
  const ui = uiHarness();
  const newPage = () => ui.newPage();
  const describeRun = async (workflowId: string, namespace = 'default') =>
    await api(ui.server.url, 'GET', `/api/v1/namespaces/${namespace}/workflows/${workflowId}`) as ExecutionDetail;
  /** Sends ADD to a counter (rollAt 4) until its run `runId` has continued as new; answers the new current run. */
  async function addUntilContinued(workflowId: string, runId: string): Promise<ExecutionDetail> {
    for (let i = 0; i < 3; i++) await api(ui.server.url, 'POST', `${WORKFLOWS}/${workflowId}/signal`, { event: { type: 'ADD', amount: 1 } });
    let current = await describeRun(workflowId);
    for (let i = 0; i < 50 && current.continuedFrom !== runId; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await describeRun(workflowId);
    }
    expect(current.continuedFrom).toBe(runId);
    return current;
  }

  it('lists a parent\'s child workflow with a link to it, links the child back to its parent, and shows the child completing', async () => {
    const suffix = Date.now();
    const parentId = `ui-fulfillment-${suffix}`;
    const childId = `shipment-ui-${suffix}`;
    await api(ui.server.url, 'POST', WORKFLOWS, { type: 'fulfillment', workflowId: parentId, input: { orderId: `ui-${suffix}` } });
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${parentId}`);
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
      // The run a link named is the current one: shown like the workflow id's page, no banner.
      expect(await page.getByTestId('older-run-banner').count()).toBe(0);

      await parentLink.click();
      await page.waitForURL(new RegExp(`/namespaces/default/workflows/${parentId}(\\?run=.+)?$`));
      await page.getByTestId('child-workflows').waitFor();

      // The carrier delivers: the child completes, and so does the parent, which still lists it.
      await api(ui.server.url, 'POST', `${WORKFLOWS}/${childId}/signal`, { event: { type: 'PICKED_UP', carrier: 'ups' } });
      await api(ui.server.url, 'POST', `${WORKFLOWS}/${childId}/signal`, { event: { type: 'DELIVERED' } });
      await page.locator('[data-testid=execution-page][data-status=completed]').waitFor();
      await page.locator(`[data-testid=child-row][data-workflow-id="${childId}"][data-status=completed]`).waitFor();
      const parent = await describeRun(parentId);
      expect(await page.getByTestId('history-size').textContent()).toContain(`history ${parent.historyLength} events`);
      expect(page.problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('opens an older run of a continued-as-new workflow from the runs panel: its own history, state and context, a banner, no actions', async () => {
    const workflowId = `ui-counter-${Date.now()}`;
    await api(ui.server.url, 'POST', WORKFLOWS, { type: 'counter', workflowId, input: { rollAt: 4 } });
    const first = await describeRun(workflowId);
    const current = await addUntilContinued(workflowId, first.runId);
    const oldHistory = await api(ui.server.url, 'GET', `${WORKFLOWS}/${workflowId}/history?runId=${first.runId}`) as { events: { kind: string }[] };
    const oldLength = oldHistory.events.length;
    expect(oldHistory.events.at(-1)!.kind).toBe('WorkflowContinuedAsNew');
    expect(current.historyLength).not.toBe(oldLength);
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${workflowId}`);
      await page.locator(`[data-testid=execution-page][data-run-id="${current.runId}"][data-older=false]`).waitFor();
      await page.locator(`[data-testid=run-row][data-run-id="${current.runId}"][data-shown=true][data-current=true]`).waitFor();
      const oldRow = page.locator(`[data-testid=run-row][data-run-id="${first.runId}"]`);
      expect(await oldRow.textContent()).toContain('previous');
      await oldRow.getByTestId('run-link').click();
      await page.waitForURL(`**/namespaces/default/workflows/${workflowId}?run=${first.runId}`);

      // The first run, read by its run id: its history ends by continuing as new, its diagram in the final state.
      await page.locator(`[data-testid=execution-page][data-run-id="${first.runId}"][data-older=true][data-status=continuedAsNew]`).waitFor();
      const banner = page.getByTestId('older-run-banner');
      expect(await banner.textContent()).toMatch(new RegExp(`^Run ${first.runId.slice(0, 8)}.* of ${workflowId} — continued as new; the current run is ${current.runId.slice(0, 8)}`));
      await page.getByTestId('history').getByText(`${oldLength} events`, { exact: true }).waitFor();
      await page.getByTestId('history-last').click();
      const last = page.locator(`[data-testid=history-row][data-seq="${oldLength}"]`);
      expect(await last.locator('.kind').textContent()).toBe('WorkflowContinuedAsNew');
      await page.locator('[data-testid=state-node][data-state-key=done][data-leaf-active=true]').waitFor();
      expect(JSON.parse(await page.getByTestId('context').locator('pre').textContent() ?? '')).toMatchObject({ total: 3, rolling: true });
      // The actions of the open run are not offered (the server would refuse them).
      await page.getByTestId('actions-older').waitFor();
      for (const action of ['send-signal', 'cancel-execution', 'terminate-execution', 'reset-execution']) expect(await page.getByTestId(action).count()).toBe(0);
      await page.locator(`[data-testid=run-row][data-run-id="${first.runId}"][data-shown=true][data-current=false]`).waitFor();
      await page.getByTestId('continued-as').waitFor();

      await banner.getByTestId('current-run-link').click();
      await page.waitForURL((url) => url.pathname === `/namespaces/default/workflows/${workflowId}` && url.search === '');
      await page.locator(`[data-testid=execution-page][data-run-id="${current.runId}"][data-older=false][data-status=running]`).waitFor();
      await page.getByTestId('send-signal').waitFor();
      expect(await page.getByTestId('older-run-banner').count()).toBe(0);
      expect(page.problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows ?run= of the current run like the workflow id\'s page until it continues as new, and says when a run id is not the workflow\'s', async () => {
    const workflowId = `ui-counter-run-${Date.now()}`;
    await api(ui.server.url, 'POST', WORKFLOWS, { type: 'counter', workflowId, input: { rollAt: 4 } });
    const first = await describeRun(workflowId);
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${workflowId}?run=${first.runId}`);
      await page.locator(`[data-testid=execution-page][data-run-id="${first.runId}"][data-older=false]`).waitFor();
      await page.getByTestId('send-signal').waitFor();
      expect(await page.getByTestId('older-run-banner').count()).toBe(0);

      // It continues as new while open: the page keeps the run its link named, now an older one.
      const current = await addUntilContinued(workflowId, first.runId);
      await page.locator(`[data-testid=older-run-banner][data-run-id="${first.runId}"]`).waitFor();
      await page.locator(`[data-testid=execution-page][data-run-id="${first.runId}"][data-status=continuedAsNew]`).waitFor();
      expect(await page.getByTestId('current-run-link').getAttribute('title')).toBe(current.runId);
      expect(await page.getByTestId('send-signal').count()).toBe(0);

      // The listing's row of the first run leads to the same page.
      await page.goto(`${ui.server.url}/namespaces/default/workflows?q=${workflowId}`);
      await page.locator(`[data-testid=execution-row][data-run-id="${first.runId}"]`).getByRole('link', { name: workflowId }).click();
      await page.waitForURL(`**/namespaces/default/workflows/${workflowId}?run=${first.runId}`);
      await page.locator(`[data-testid=older-run-banner][data-run-id="${first.runId}"]`).waitFor();

      // A run id of another workflow id is not found; the note leads to this one's current run.
      const other = await describeRun((await api(ui.server.url, 'POST', WORKFLOWS, { type: 'counter', workflowId: `${workflowId}-other` }) as { workflowId: string }).workflowId);
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${workflowId}?run=${other.runId}`);
      await page.getByRole('alert').getByText(`run "${other.runId}"`).waitFor();
      await page.getByTestId('run-not-found').getByTestId('current-run-link').click();
      await page.locator(`[data-testid=execution-page][data-run-id="${current.runId}"][data-older=false]`).waitFor();
      expect(page.problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('says an older run was reset, and links the run the reset started', async () => {
    const workflowId = `ui-counter-reset-${Date.now()}`;
    await api(ui.server.url, 'POST', WORKFLOWS, { type: 'counter', workflowId });
    const first = await describeRun(workflowId);
    await api(ui.server.url, 'POST', `${WORKFLOWS}/${workflowId}/signal`, { event: { type: 'ADD', amount: 5 } });
    const { runId: resetRun } = await api(ui.server.url, 'POST', `${WORKFLOWS}/${workflowId}/reset`, { eventSeq: 1 }) as { runId: string };
    await api(ui.server.url, 'POST', `${WORKFLOWS}/${workflowId}/signal`, { event: { type: 'FINISH' } });
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows/${workflowId}?run=${first.runId}`);
      const banner = page.locator(`[data-testid=older-run-banner][data-run-id="${first.runId}"]`);
      await banner.waitFor();
      expect(await page.getByTestId('execution-page').getAttribute('data-status')).toBe('terminated');
      // The run the reset started is the current one here: the banner names it once, as the current run.
      expect(await banner.textContent()).toContain(`— reset; the current run is ${resetRun.slice(0, 8)}`);
      expect(JSON.parse(await page.getByTestId('context').locator('pre').textContent() ?? '')).toMatchObject({ total: 5 });
      await banner.getByTestId('current-run-link').click();
      await page.locator(`[data-testid=execution-page][data-run-id="${resetRun}"][data-status=completed]`).waitFor();
      await page.getByTestId('history').getByText(`reset from run ${first.runId.slice(0, 8)} after event #1`).waitFor();
      expect(page.problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows a schedule created over HTTP, pauses it from the UI, triggers it and opens the workflow it started, then deletes it', async () => {
    const scheduleId = `ui-hourly-${Date.now()}`;
    await api(ui.server.url, 'POST', SCHEDULES, {
      scheduleId, spec: { interval: { every: '1h' } },
      action: { workflowType: 'approval', input: { request: 'from a schedule', timeoutMs: 3_600_000 } },
    });
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/`);
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
      const paused = await api(ui.server.url, 'GET', `${SCHEDULES}/${scheduleId}`) as ScheduleDescription;
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
      await page.goto(`${ui.server.url}/namespaces/default/schedules`);
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
      const list = await api(ui.server.url, 'GET', SCHEDULES) as { schedules: { scheduleId: string }[] };
      expect(list.schedules.map((s) => s.scheduleId)).not.toContain(scheduleId);
      expect(page.problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('creates a schedule from the form, and a bad cron expression is refused with the server\'s message', async () => {
    const scheduleId = `ui-form-${Date.now()}`;
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/schedules`);
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
      const created = await api(ui.server.url, 'GET', `${SCHEDULES}/${scheduleId}`) as ScheduleDescription;
      expect(created.action).toMatchObject({ workflowType: 'approval', input: { request: 'weekly', timeoutMs: 60000 } });
    } finally {
      await page.close();
    }
  });

  it('switches the executions and schedules lists to another namespace with the picker', async () => {
    const ns = `ui-ns-${Date.now()}`;
    await api(ui.server.url, 'POST', '/api/v1/namespaces', { name: ns, description: 'for the picker' });
    const inDefault = `ui-in-default-${Date.now()}`;
    const inOther = `ui-in-other-${Date.now()}`;
    await api(ui.server.url, 'POST', WORKFLOWS, { type: 'approval', workflowId: inDefault, input: { request: 'here', timeoutMs: 3_600_000 } });
    await api(ui.server.url, 'POST', `/api/v1/namespaces/${ns}/workflows`, { type: 'approval', workflowId: inOther, input: { request: 'there', timeoutMs: 3_600_000 } });
    await api(ui.server.url, 'POST', `/api/v1/namespaces/${ns}/schedules`, {
      scheduleId: 'only-there', spec: { cron: '0 3 * * *' }, action: { workflowType: 'approval', input: { request: 'x', timeoutMs: 1000 } }, paused: true,
    });
    const page = await newPage();
    try {
      await page.goto(`${ui.server.url}/namespaces/default/workflows`);
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
      expect(page.problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
