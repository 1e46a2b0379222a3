import type { OverlapPolicy, ScheduleActionResult, ScheduleFailure, ScheduleRecord, ScheduleState } from '../common/schedule-types.ts';

/**
 * How a schedule's record changes, as pure functions: the service decides with the engine's
 * answers, then writes the record one of these returns — one atomic write that holds both what
 * happened to an action and where the schedule goes next.
 */

/** Actions kept in `recentActions` (and looked at by the overlap check). */
export const RECENT_ACTIONS = 10;

/** What became of one action. */
export type ActionOutcome =
  /** A workflow was started; `known` when it was already in `recentActions` (nothing to count again). */
  | { kind: 'started'; result: ScheduleActionResult; known?: boolean }
  | { kind: 'skipped' }
  | { kind: 'buffered'; nominalTime: number }
  | { kind: 'failed'; failure: ScheduleFailure };

/** Where the action came from: one of the spec's times (the schedule moves on to `next`), the buffer, or a trigger. */
export type ActionSource = { from: 'spec'; next: number | undefined } | { from: 'buffer' } | { from: 'trigger' };

/**
 * The overlap policy's answer when an earlier action's workflow may be open.
 *
 * ```
 *  open workflow? │ skip    │ bufferOne                          │ allowAll
 * ────────────────┼─────────┼────────────────────────────────────┼─────────
 *  no             │ start   │ start                              │ start
 *  yes            │ skip    │ buffer (if none waits), else skip  │ start
 * ```
 */
export function overlapDecision(policy: OverlapPolicy, open: boolean, bufferFree: boolean): 'start' | 'skip' | 'buffer' {
  if (!open || policy === 'allowAll') return 'start';
  return policy === 'bufferOne' && bufferFree ? 'buffer' : 'skip';
}

/** The state of a new schedule. */
export function initialState(paused: boolean, note: string | undefined, nextActionAt: number | undefined): ScheduleState {
  const state: ScheduleState = { paused, recentActions: [], counts: { taken: 0, skipped: 0, missed: 0, failed: 0 } };
  if (note !== undefined) state.note = note;
  if (nextActionAt !== undefined) state.nextActionAt = nextActionAt;
  return state;
}

/** The record after one action's outcome. */
export function recordOutcome(record: ScheduleRecord, outcome: ActionOutcome, source: ActionSource): ScheduleRecord {
  const state = copyState(record.state);
  if (source.from === 'spec') setNext(state, source.next);
  if (source.from === 'buffer') delete state.bufferedAt;
  switch (outcome.kind) {
    case 'started':
      if (!outcome.known) {
        state.counts.taken++;
        state.recentActions = [...state.recentActions, outcome.result].slice(-RECENT_ACTIONS);
      }
      break;
    case 'skipped':
      state.counts.skipped++;
      break;
    case 'buffered':
      state.bufferedAt = outcome.nominalTime;
      break;
    case 'failed':
      state.counts.failed++;
      state.lastFailure = outcome.failure;
      break;
  }
  return { ...record, state };
}

/** The record after `count` actions fell outside the catch-up window; the schedule moves on to `next`. */
export function recordMissed(record: ScheduleRecord, count: number, next: number | undefined): ScheduleRecord {
  const state = copyState(record.state);
  state.counts.missed += count;
  setNext(state, next);
  return { ...record, state };
}

/** Paused: no action until unpaused. A buffered action is dropped (counted as skipped): pausing means "start nothing". */
export function recordPaused(record: ScheduleRecord, note: string | undefined, now: number): ScheduleRecord {
  const state = copyState(record.state);
  state.paused = true;
  setNote(state, note);
  if (state.bufferedAt !== undefined) {
    delete state.bufferedAt;
    state.counts.skipped++;
  }
  return { ...record, state, updatedAt: now };
}

/**
 * Unpaused: the schedule goes on from `next` (the first time after now, unless the next time is
 * still ahead). Times that passed while it was paused are neither taken nor counted.
 */
export function recordUnpaused(record: ScheduleRecord, note: string | undefined, next: number | undefined, now: number): ScheduleRecord {
  const state = copyState(record.state);
  state.paused = false;
  setNote(state, note);
  setNext(state, next);
  return { ...record, state, updatedAt: now };
}

/** A new spec: the schedule moves on to its first time after now (`next`). */
export function recordSpecChanged(record: ScheduleRecord, spec: ScheduleRecord['spec'], next: number | undefined): ScheduleRecord {
  const state = copyState(record.state);
  setNext(state, next);
  return { ...record, spec, state };
}

function copyState(state: ScheduleState): ScheduleState {
  return { ...state, counts: { ...state.counts }, recentActions: [...state.recentActions] };
}

function setNext(state: ScheduleState, next: number | undefined): void {
  if (next === undefined) delete state.nextActionAt;
  else state.nextActionAt = next;
}

function setNote(state: ScheduleState, note: string | undefined): void {
  if (note === undefined || note === '') delete state.note;
  else state.note = note;
}
