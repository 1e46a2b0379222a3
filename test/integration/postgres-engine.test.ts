import { describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { counterWorkflow } from '../../machines/counter.ts';
import { fulfillmentWorkflow, shipmentWorkflow } from '../../machines/fulfillment.ts';
import { Engine } from '../../src/engine/engine.ts';
import { assertReplays } from '../../src/engine/core/replay.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { WorkflowDefinition } from '../../src/index.ts';
import { eventually } from '../helpers/engine.ts';
import { freshSchema, PG_TEST_URL, probePostgres } from '../helpers/postgres.ts';

// The engine on PostgreSQL beyond the order saga of postgres-server.test.ts: durable timers,
// child workflows (the outbox across two executions) and continue-as-new, each history then
// replayed against its machine.

const postgres = await probePostgres();

describe.skipIf(!postgres.available)(`the engine on PostgreSQL${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  it('runs durable timers, child workflows and continue-as-new, with histories that replay', async () => {
    const schema = await freshSchema();
    const workflows = [approvalWorkflow, fulfillmentWorkflow, shipmentWorkflow, counterWorkflow];
    const engine = await Engine.start({ workflows, store: new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 4 }) });
    try {
      // A durable timer: the approval expires unanswered.
      await engine.start('approval', { workflowId: 'pg-approval', input: { request: 'laptop', timeoutMs: 200 } });
      expect(await engine.result({ workflowId: 'pg-approval' }, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', output: { decision: 'expired' } });

      // A child workflow, started and reported back through the outbox.
      await engine.start('fulfillment', { workflowId: 'pg-f-1', input: { orderId: 'pg-1' } });
      await eventually(async () => ((await engine.list()).runs.find((r) => r.workflowId === 'shipment-pg-1' && r.status === 'running') ? true : undefined));
      await engine.signal({ workflowId: 'shipment-pg-1' }, { type: 'PICKED_UP', carrier: 'DHL' });
      await engine.signal({ workflowId: 'shipment-pg-1' }, { type: 'DELIVERED' });
      expect(await engine.result({ workflowId: 'pg-f-1' }, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', output: { orderId: 'pg-1', carrier: 'DHL' } });

      // Continue-as-new: the chain rolls over to a fresh run of the same workflow id.
      await engine.start('counter', { workflowId: 'pg-counter', input: { total: 0, rollAt: 4 } });
      for (let i = 0; i < 6; i++) await engine.signal({ workflowId: 'pg-counter' }, { type: 'ADD', amount: 1 });
      await engine.signal({ workflowId: 'pg-counter' }, { type: 'FINISH' });
      expect(await engine.result({ workflowId: 'pg-counter' }, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', output: { total: 6 } });
      const runs = (await engine.list()).runs.filter((r) => r.workflowId === 'pg-counter');
      expect(runs.length).toBeGreaterThan(1);
      expect(runs.filter((r) => r.status === 'continuedAsNew')).toHaveLength(runs.length - 1);

      const definitions: Record<string, WorkflowDefinition> = { approval: approvalWorkflow, fulfillment: fulfillmentWorkflow, shipment: shipmentWorkflow, counter: counterWorkflow };
      for (const run of (await engine.list()).runs) {
        const stored = (await engine.store.getRun(run.runId))!;
        assertReplays(definitions[run.type]!, await engine.store.readHistory(run.runId), { storedSnapshot: stored.snapshot, workflowId: run.workflowId });
      }
    } finally {
      await engine.stop();
      await schema.drop();
    }
  }, 60_000);
});
