import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../../src/common/history.ts';
import { childWorkflows, summarizeEvent } from '../../../src/ui/app/src/lib/history-view.ts';
import { countsText, specText } from '../../../src/ui/app/src/lib/schedule-view.ts';

/** A history recorded from the example machines (test/replay/histories). */
function recorded(name: string): HistoryEvent[] {
  const file = new URL(`../../replay/histories/${name}.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { history: HistoryEvent[] }).history;
}

describe('childWorkflows', () => {
  it('follows a child from its scheduling to its completion, with its workflow and run ids', () => {
    const history = recorded('fulfillment-delivered');
    const started = history.find((e) => e.kind === 'ChildWorkflowStarted')!;
    expect(childWorkflows(history)).toEqual([{
      childId: 'shipment', workflowType: 'shipment', workflowId: 'shipment-f-1', parentClosePolicy: 'terminate',
      status: 'completed', cancelRequested: false, runId: (started as { runId: string }).runId,
    }]);
    // Before the completion was recorded, the same child is running.
    expect(childWorkflows(history.slice(0, 3))[0]).toMatchObject({ status: 'running' });
    const scheduled = childWorkflows(history.slice(0, 2))[0]!;
    expect([scheduled.status, scheduled.runId]).toEqual(['scheduled', undefined]);
  });

  it('counts an invoke id entered again as a new child, and a start that failed as failed without a run', () => {
    const at = 0;
    const history: HistoryEvent[] = [
      { seq: 1, at, kind: 'ChildWorkflowScheduled', childId: 'c', workflowType: 'shipment', workflowId: 's-1', input: {}, parentClosePolicy: 'abandon' },
      { seq: 2, at, kind: 'ChildWorkflowStarted', childId: 'c', workflowId: 's-1', runId: 'r1' },
      { seq: 3, at, kind: 'ChildWorkflowCancelRequested', childId: 'c' },
      { seq: 4, at, kind: 'ChildWorkflowScheduled', childId: 'c', workflowType: 'shipment', workflowId: 's-2', input: {}, parentClosePolicy: 'terminate' },
      { seq: 5, at, kind: 'ChildWorkflowFailed', childId: 'c', workflowId: 's-2', failure: { code: 'CHILD_WORKFLOW_FAILURE', message: 'the workflow id is taken' } },
    ];
    expect(childWorkflows(history).map((c) => [c.workflowId, c.status, c.runId, c.cancelRequested])).toEqual([
      ['s-1', 'running', 'r1', true],
      ['s-2', 'failed', undefined, false],
    ]);
  });
});

describe('summarizeEvent for children and continue-as-new', () => {
  it('names the child workflow and its id, and what a continued run handed over', () => {
    const [, scheduled, started, completed] = recorded('fulfillment-delivered');
    expect(summarizeEvent(scheduled!)).toBe('start child shipment "shipment-f-1"');
    expect(summarizeEvent(started!)).toMatch(/^child shipment started: "shipment-f-1" run [0-9a-f]{8}$/);
    expect(summarizeEvent(completed!)).toBe('child shipment ("shipment-f-1") completed {"orderId":"f-1","carrier":"UPS"}');
    const continued = recorded('counter-continued').find((e) => e.kind === 'WorkflowContinuedAsNew')!;
    expect(summarizeEvent(continued)).toMatch(/^continued as new with \{"total":\d+/);
  });
});

describe('schedule text', () => {
  it('says when a schedule acts, its time zone only when not UTC', () => {
    expect(specText({ cron: ['0 9 * * MON'], timezone: 'Europe/Paris' })).toBe('cron 0 9 * * MON (Europe/Paris)');
    expect(specText({ interval: { every: '1h', offset: '15m' }, timezone: 'UTC' })).toBe('every 1h (offset 15m)');
    expect(specText({ cron: ['@daily'], interval: { every: 90_000 }, timezone: 'UTC' })).toBe('cron @daily and every 1m 30s');
    expect(countsText({ taken: 3, skipped: 1, missed: 0, failed: 2 })).toBe('3 taken · 1 skipped · 2 failed');
  });
});
