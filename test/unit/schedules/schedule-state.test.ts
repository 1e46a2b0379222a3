import { describe, expect, it } from 'vitest';
import type { ScheduleRecord } from '../../../src/common/schedule-types.ts';
import { actionIdempotencyKey, actionWorkflowId } from '../../../src/schedules/schedule-engine.ts';
import {
  initialState, overlapDecision, RECENT_ACTIONS, recordMissed, recordOutcome, recordPaused, recordUnpaused,
} from '../../../src/schedules/schedule-state.ts';

const T0 = Date.UTC(2030, 0, 1);
const record = (): ScheduleRecord => ({
  namespace: 'default', scheduleId: 's', spec: { interval: { every: '1m' }, timezone: 'UTC' },
  action: { workflowType: 'timer', workflowIdPrefix: 's' }, policies: { overlap: 'skip', catchupWindow: '1h' },
  state: initialState(false, undefined, T0), createdAt: T0, updatedAt: T0,
});
const started = (n: number) => ({ kind: 'started' as const, result: { nominalTime: n, actualTime: n, workflowId: `s-${n}`, runId: `r-${n}` } });

describe('schedule state', () => {
  it('decides overlap by policy: skip, bufferOne (one waits), allowAll', () => {
    expect(overlapDecision('skip', false, true)).toBe('start');
    expect(overlapDecision('skip', true, true)).toBe('skip');
    expect(overlapDecision('bufferOne', true, true)).toBe('buffer');
    expect(overlapDecision('bufferOne', true, false)).toBe('skip');
    expect(overlapDecision('bufferOne', false, false)).toBe('start');
    expect(overlapDecision('allowAll', true, false)).toBe('start');
  });

  it('writes the action taken and the next time together, keeping the last actions only', () => {
    let r = record();
    for (let n = 1; n <= RECENT_ACTIONS + 2; n++) r = recordOutcome(r, started(T0 + n), { from: 'spec', next: T0 + n + 1 });
    expect(r.state.nextActionAt).toBe(T0 + RECENT_ACTIONS + 3);
    expect(r.state.counts.taken).toBe(RECENT_ACTIONS + 2);
    expect(r.state.recentActions.map((a) => a.nominalTime)).toEqual(Array.from({ length: RECENT_ACTIONS }, (_, i) => T0 + 3 + i));
    // a start already recorded (found again after a crash) is not counted twice
    expect(recordOutcome(r, { ...started(T0 + 12), known: true }, { from: 'trigger' }).state.counts.taken).toBe(RECENT_ACTIONS + 2);
  });

  it('buffers, releases the buffer, counts skips, failures and misses, and leaves the spec\'s next time alone for triggers', () => {
    let r = recordOutcome(record(), { kind: 'buffered', nominalTime: T0 }, { from: 'spec', next: T0 + 60_000 });
    expect(r.state).toMatchObject({ bufferedAt: T0, nextActionAt: T0 + 60_000 });
    r = recordOutcome(r, started(T0), { from: 'buffer' });
    expect(r.state.bufferedAt).toBeUndefined();
    r = recordOutcome(r, { kind: 'skipped' }, { from: 'trigger' });
    r = recordOutcome(r, { kind: 'failed', failure: { nominalTime: T0, at: T0, code: 'WORKFLOW_TYPE_NOT_FOUND', message: 'gone' } }, { from: 'spec', next: undefined });
    r = recordMissed(r, 7, T0 + 120_000);
    expect(r.state).toMatchObject({ nextActionAt: T0 + 120_000, counts: { taken: 1, skipped: 1, missed: 7, failed: 1 }, lastFailure: { code: 'WORKFLOW_TYPE_NOT_FOUND' } });
  });

  it('drops a buffered action on pause (counted as skipped) and sets the next time on unpause', () => {
    const buffered = recordOutcome(record(), { kind: 'buffered', nominalTime: T0 }, { from: 'trigger' });
    const paused = recordPaused(buffered, 'why', T0 + 5);
    expect(paused.state).toMatchObject({ paused: true, note: 'why', counts: { skipped: 1 } });
    expect(paused.state.bufferedAt).toBeUndefined();
    expect(paused.updatedAt).toBe(T0 + 5);
    const resumed = recordUnpaused(paused, undefined, T0 + 600_000, T0 + 9);
    expect(resumed.state).toMatchObject({ paused: false, nextActionAt: T0 + 600_000 });
    expect(resumed.state.note).toBeUndefined();
  });

  it('makes workflow ids and idempotency keys from the nominal time', () => {
    expect(actionWorkflowId('nightly', Date.UTC(2026, 0, 2, 2))).toBe('nightly-2026-01-02T02:00:00.000Z');
    expect(actionIdempotencyKey('nightly', Date.UTC(2026, 0, 2, 2))).toBe('schedule/nightly/2026-01-02T02:00:00.000Z');
  });
});
