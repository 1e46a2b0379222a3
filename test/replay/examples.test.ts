import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as examples from '../../machines/index.ts';
import { orderMachine } from '../../machines/order.ts';
import { activity, workflow, type WorkflowDefinition } from '../../src/index.ts';
import { replayHistory } from '../../src/testing/index.ts';
import type { HistoryFixture } from '../../scripts/record-histories.ts';

// Every recorded history of an example machine must replay against today's machine: a change
// that breaks it would break executions running on the old machine. If the change is meant,
// re-record with `npx tsx scripts/record-histories.ts` (and keep the old version registered
// wherever old executions still run).

const dir = new URL('./histories/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as HistoryFixture) }));
const byType = new Map<string, WorkflowDefinition>(Object.values(examples).map((d) => [d.type, d]));

describe('recorded histories of the example machines', () => {
  it('has at least one history for every example machine', () => {
    expect(fixtures.length).toBeGreaterThan(0);
    expect([...byType.keys()].filter((type) => !fixtures.some((f) => f.workflowType === type))).toEqual([]);
  });

  it.each(fixtures)('$file replays against today\'s machine', ({ workflowType, history }) => {
    const definition = byType.get(workflowType);
    expect(definition, `no example machine of type "${workflowType}" in machines/index.ts`).toBeDefined();
    expect(history.at(-1)!.kind).toMatch(/^Workflow(Completed|Failed|Canceled|ContinuedAsNew)$/);
    const result = replayHistory(definition!, history);
    expect(result.divergence).toBeUndefined();
    expect(result.ok).toBe(true);
  });

  it('notices a changed machine: an order saga that reserves with another activity does not replay', () => {
    const changed = workflow(orderMachine.provide({ actors: { reserveInventory: activity('holdStock', { taskQueue: 'orders' }) } }));
    const shipped = fixtures.find((f) => f.file === 'order-shipped.json')!;
    expect(replayHistory(changed, shipped.history).divergence).toMatchObject({ seq: 4, actual: 'ActivityScheduled("holdStock" as "reserve")' });
  });
});
