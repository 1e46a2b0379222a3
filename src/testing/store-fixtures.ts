import type { ExecutionStatus, HistoryEvent } from '../common/history.ts';
import type { RunCommit, Store } from '../store/store.ts';
import type { RunRecord } from '../common/run-model.ts';

/** Start time of the first fixture run; fixture times are fixed so tests never read a clock. */
export const T0 = 1_700_000_000_000;

/**
 * A run record for store tests, with everything optional except the run id.
 *
 * @example
 * const run = fixtureRun('r-1', { type: 'order', startedAt: T0 + 5 })
 */
export function fixtureRun(runId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    namespace: 'default',
    workflowId: `wf-${runId}`,
    type: 'order',
    version: 'v1',
    status: 'running',
    startedAt: T0,
    lastSeq: 0,
    snapshot: { value: 'waiting', context: { items: [1, 2, 3], note: 'naïve ✓' }, status: 'active' },
    activities: {},
    timers: {},
    ...overrides,
  };
}

/**
 * History events `from..from+count-1`: a WorkflowStarted first when `from` is 1, then signals.
 *
 * @example
 * fixtureEvents(1, 3) // WorkflowStarted #1, SignalReceived #2, #3
 */
export function fixtureEvents(from: number, count: number, run?: RunRecord): HistoryEvent[] {
  return Array.from({ length: count }, (_, i): HistoryEvent => {
    const seq = from + i;
    const at = T0 + seq;
    if (seq === 1) {
      return {
        seq, at, kind: 'WorkflowStarted', type: run?.type ?? 'order', version: run?.version ?? 'v1',
        namespace: run?.namespace ?? 'default', workflowId: run?.workflowId ?? 'wf', input: { amount: 42 },
      };
    }
    return { seq, at, kind: 'SignalReceived', event: { type: 'PING', n: seq, payload: { nested: [seq, 'x'] } } };
  });
}

/** Changes to carry in a fixture commit besides the run record and its events. */
export type FixtureChanges = Partial<Pick<RunCommit, 'timers' | 'tasks'>> & {
  status?: ExecutionStatus;
  run?: Partial<RunRecord>;
};

/**
 * Commits the first `count` events of a new run and returns the record as committed.
 *
 * @example
 * const run = await startRun(store, fixtureRun('r-1'), 2)
 */
export async function startRun(store: Store, run: RunRecord, count = 1, changes: FixtureChanges = {}): Promise<RunRecord> {
  const next: RunRecord = { ...run, ...changes.run, status: changes.status ?? run.status, lastSeq: count };
  await store.commit({ run: next, previousLastSeq: 0, events: fixtureEvents(1, count, next), timers: changes.timers, tasks: changes.tasks });
  return next;
}

/**
 * Appends `count` events to a committed run (as the engine would) and returns the new record.
 *
 * @example
 * const done = await appendRun(store, run, 1, { status: 'completed', run: { closedAt: T0 + 9 } })
 */
export async function appendRun(store: Store, run: RunRecord, count = 1, changes: FixtureChanges = {}): Promise<RunRecord> {
  const next: RunRecord = { ...run, ...changes.run, status: changes.status ?? run.status, lastSeq: run.lastSeq + count };
  await store.commit({
    run: next, previousLastSeq: run.lastSeq, previousStatus: run.status,
    events: fixtureEvents(run.lastSeq + 1, count, next), timers: changes.timers, tasks: changes.tasks,
  });
  return next;
}
