import { describe, expect, it } from 'vitest';
import { keys } from '../../../src/store/keys.ts';
import { continueRange, pageTokenOf, planListing } from '../../../src/store/listing-plan.ts';

const T = 1_700_000_000_000;
/** A listing key of a run started at `startedAt` in the `vis/default/` index. */
const keyAt = (startedAt: number) => keys.vis({ namespace: 'default', status: 'running', type: 't', startedAt, runId: 'r' })[0]!;
const inRange = (key: string, range: { gte: string; lt: string }) => key >= range.gte && key < range.lt;

describe('planListing', () => {
  it('makes a start window a key range: lower bound inclusive, upper bound exclusive', () => {
    const { range, filter } = planListing({ namespace: 'default', startedAfter: T, startedBefore: T + 10 }, 'listRuns');
    expect(filter).toBeUndefined();
    expect(inRange(keyAt(T - 1), range)).toBe(false);
    expect(inRange(keyAt(T), range)).toBe(true);
    expect(inRange(keyAt(T + 9), range)).toBe(true);
    expect(inRange(keyAt(T + 10), range)).toBe(false);
  });

  it('bounds the start range by closedBefore, since a run starts before it closes', () => {
    const { range, filter } = planListing({ namespace: 'default', closedBefore: T }, 'listRuns');
    expect(inRange(keyAt(T - 1), range)).toBe(true);
    expect(inRange(keyAt(T), range)).toBe(false);
    expect(filter?.({ runId: 'r', workflowId: 'w', type: 't', version: 'v', status: 'completed', startedAt: T - 5, closedAt: T - 1 })).toBe(true);
    expect(filter?.({ runId: 'r', workflowId: 'w', type: 't', version: 'v', status: 'running', startedAt: T - 5 })).toBe(false);
  });

  it('clamps windows outside representable times, and makes "before 0" empty', () => {
    const wide = planListing({ namespace: 'default', startedAfter: -5, startedBefore: Number.MAX_SAFE_INTEGER * 2 }, 'x').range;
    expect(inRange(keyAt(0), wide) && inRange(keyAt(T), wide) && inRange(keyAt(Number.MAX_SAFE_INTEGER), wide)).toBe(true);
    const empty = planListing({ namespace: 'default', startedBefore: 0 }, 'x').range;
    expect(inRange(keyAt(0), empty)).toBe(false);
  });

  it('continues after the token, never before the window', () => {
    const plan = planListing({ namespace: 'default', startedBefore: T }, 'listRuns');
    expect(continueRange(plan, pageTokenOf(keyAt(T - 1)))).toEqual({ gt: keyAt(T - 1), lt: plan.range.lt });
    expect(continueRange(plan, pageTokenOf(keyAt(T + 100)))).toEqual(plan.range);
  });
});
