import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../../src/common/history.ts';
import { formatClock, formatDuration, shortVersion } from '../../../src/ui/app/src/lib/formatters.ts';
import { summarizeEvent, timerName } from '../../../src/ui/app/src/lib/history-view.ts';
import { machineGraph } from '../../../src/ui/app/src/lib/machine-graph.ts';
import { customerOrderMachine } from '../../../machines/customer-order.ts';
import { definitionOf } from './fixtures.ts';

function recorded(name: string): HistoryEvent[] {
  const file = new URL(`../../replay/histories/${name}.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { history: HistoryEvent[] }).history;
}

describe('formatDuration', () => {
  it('writes a duration in at most two units, largest first, without zero parts', () => {
    expect(formatDuration(350)).toBe('350ms');
    expect(formatDuration(1_500)).toBe('1.5s');
    expect(formatDuration(5_000)).toBe('5s');
    expect(formatDuration(12_400)).toBe('12s');
    expect(formatDuration(90_000)).toBe('1m 30s');
    expect(formatDuration(59_600)).toBe('1m');
    expect(formatDuration(43_200_000)).toBe('12h');
    expect(formatDuration(5_430_000)).toBe('1h 31m');
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(30 * 86_400_000 + 4 * 3_600_000)).toBe('30d 4h');
    expect(formatDuration(-2_000)).toBe('-2s');
    expect(formatDuration(Number.NaN)).toBe('—');
  });

  it('is the one form of a delay: the diagram, the timers panel and the history write 30 days alike', () => {
    // customerOrder's `after: { [30 days]: 'closed' }`: the timer id carries the number of ms.
    const timerId = `xstate.after.${30 * 86_400_000}.customerOrder.open`;
    const edge = machineGraph(definitionOf(customerOrderMachine)).edges.find((e) => e.kind === 'after')!;
    expect(edge.label).toBe('after 30d');
    expect(timerName(timerId)).toBe('after 30d (in open)');
    const started = { seq: 2, at: 0, kind: 'TimerStarted', timerId, dueAt: 30 * 86_400_000, delayMs: 30 * 86_400_000, event: { type: timerId } } as HistoryEvent;
    expect(summarizeEvent(started)).toBe('timer after 30d (in open) for 30d');
  });
});

describe('formatClock', () => {
  it('writes local date and time to the millisecond, as the CLI prints history times', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    expect(formatClock(at)).toBe('2026-01-02 03:04:05.006');
    expect(formatClock(Number.NaN)).toBe('—');
  });

  it('is the form of every clock time in a history summary (a retry time too)', () => {
    const failed = recorded('flaky-retried').find((e) => e.kind === 'ActivityAttemptFailed') as HistoryEvent & { nextAttemptAt: number };
    expect(summarizeEvent(failed)).toContain(`retry at ${formatClock(failed.nextAttemptAt)}`);
  });
});

describe('shortVersion', () => {
  it('shows a version hash by its first 8 characters, in the history as on the pages', () => {
    expect(shortVersion('c6030a8c33f3')).toBe('c6030a8c');
    const started = recorded('approval-expired')[0]!;
    expect(summarizeEvent(started)).toBe(`approval@${shortVersion((started as { version: string }).version)} started as "approval-expired"`);
  });
});
