/**
 * Records the replay fixtures in test/replay/histories/ (Temporal's `history_files` idea): runs
 * each example machine of machines/ on a temporary engine through representative paths and
 * writes each execution's history as pretty JSON. test/replay/examples.test.ts replays every
 * file against today's machines, so a change to an example that would break running executions
 * fails the tests.
 *
 * Re-record only when a machine changed on purpose and old executions need not replay:
 *
 *   npx tsx scripts/record-histories.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { approvalWorkflow } from '../machines/approval.ts';
import { flakyActivities, flakyWorkflow } from '../machines/flaky.ts';
import { orderActivityImplementations } from '../machines/order-activities.ts';
import { orderWorkflow } from '../machines/order.ts';
import { threeStepActivities, threeStepWorkflow } from '../machines/three-step.ts';
import { cartWorkflow } from '../machines/cart.ts';
import { counterWorkflow } from '../machines/counter.ts';
import { customerOrderWorkflow } from '../machines/customer-order.ts';
import { fulfillmentWorkflow, shipmentWorkflow } from '../machines/fulfillment.ts';
import type { HistoryEvent } from '../src/index.ts';
import { createTestEngine } from '../src/testing/index.ts';
import { Worker, type ActivityFunction } from '../src/worker/index.ts';

/** What one fixture file holds. */
export interface HistoryFixture {
  /** What path through the machine this execution took. */
  description: string;
  workflowType: string;
  /** The machine version the history was recorded on (for reading; replay ignores it). */
  recordedOnVersion: string;
  history: HistoryEvent[];
}

type Engine = Awaited<ReturnType<typeof createTestEngine>>['engine'];

interface Scenario {
  name: string;
  description: string;
  type: string;
  /** Starts the execution (and signals it, if the path needs it). */
  drive(engine: Engine, workflowId: string): Promise<void>;
  /** Record the chain's first run (one that continued as new), not the run result() ends at. */
  firstRun?: boolean;
}

const scenarios: Scenario[] = [
  {
    name: 'order-shipped', type: 'order', description: 'charge, reserve and ship succeed; the order completes shipped',
    drive: async (engine, workflowId) => void (await engine.start('order', { workflowId, input: { orderId: 'o-1', amount: 42, items: ['book', 'pen'] } })),
  },
  {
    name: 'order-compensated', type: 'order', description: 'shipping fails for good; the reservation is released and the card refunded',
    drive: async (engine, workflowId) => void (await engine.start('order', { workflowId, input: { orderId: 'o-2', amount: 10, items: ['lamp'], failAt: 'ship' } })),
  },
  {
    name: 'approval-approved', type: 'approval', description: 'APPROVE arrives before the timeout; both timers are cancelled',
    drive: async (engine, workflowId) => {
      await engine.start('approval', { workflowId, input: { request: 'laptop', timeoutMs: 60_000 } });
      await engine.signal({ workflowId }, { type: 'APPROVE', approver: 'ana' });
    },
  },
  {
    name: 'approval-expired', type: 'approval', description: 'nobody decides: the reminder timer fires, then the timeout expires the request',
    drive: async (engine, workflowId) => void (await engine.start('approval', { workflowId, input: { request: 'desk', timeoutMs: 200 } })),
  },
  {
    name: 'flaky-retried', type: 'flaky', description: 'the activity fails twice, is retried with backoff, then answers',
    drive: async (engine, workflowId) => void (await engine.start('flaky', { workflowId, input: { key: 'k', failTimes: 2 } })),
  },
  {
    name: 'three-step', type: 'threeStep', description: 'three activities in sequence',
    drive: async (engine, workflowId) => void (await engine.start('threeStep', { workflowId, input: { n: 7 } })),
  },
  {
    name: 'shipment-delivered', type: 'shipment', description: 'picked up by a carrier, then delivered',
    drive: async (engine, workflowId) => {
      await engine.start('shipment', { workflowId, input: { orderId: 's-1' } });
      await engine.signal({ workflowId }, { type: 'PICKED_UP', carrier: 'DHL' });
      await engine.signal({ workflowId }, { type: 'DELIVERED' });
    },
  },
  {
    name: 'fulfillment-delivered', type: 'fulfillment', description: 'the shipment child workflow is started, delivered, and its output handed to the parent',
    drive: async (engine, workflowId) => {
      await engine.start('fulfillment', { workflowId, input: { orderId: 'f-1' } });
      const child = { workflowId: 'shipment-f-1' };
      while ((await engine.list({ type: 'shipment', status: 'running' })).runs.every((r) => r.workflowId !== child.workflowId)) await new Promise((r) => setTimeout(r, 5));
      await engine.signal(child, { type: 'PICKED_UP', carrier: 'UPS' });
      await engine.signal(child, { type: 'DELIVERED' });
    },
  },
  {
    name: 'counter-continued', type: 'counter', description: 'the history reaches rollAt: the run continues as new with its total',
    drive: async (engine, workflowId) => {
      await engine.start('counter', { workflowId, input: { rollAt: 4 } });
      for (let i = 0; i < 3; i++) await engine.signal({ workflowId }, { type: 'ADD', amount: 5 });
    },
    firstRun: true,
  },
  {
    name: 'customer-order-submitted', type: 'customerOrder', description: 'items added, expedited, then submitted (search attributes follow the context)',
    drive: async (engine, workflowId) => {
      await engine.start('customerOrder', { workflowId, input: { customerId: 'c-42' } });
      await engine.signal({ workflowId }, { type: 'ADD_ITEM', sku: 'tea', price: 12 });
      await engine.signal({ workflowId }, { type: 'EXPEDITE' });
      await engine.signal({ workflowId }, { type: 'SUBMIT' });
    },
  },
  {
    name: 'cart-checked-out', type: 'cart', description: 'two items added by validated updates, then checkout',
    drive: async (engine, workflowId) => {
      await engine.start('cart', { workflowId });
      await engine.update({ workflowId }, { type: 'ADD_ITEM', sku: 'tea', quantity: 2 });
      await engine.update({ workflowId }, { type: 'ADD_ITEM', sku: 'cup', quantity: 1 });
      await engine.signal({ workflowId }, { type: 'CHECKOUT' });
    },
  },
];

const workers: [taskQueue: string, activities: Record<string, ActivityFunction>][] = [
  ['orders', orderActivityImplementations()],
  ['flaky', flakyActivities as Record<string, ActivityFunction>],
  ['bench', threeStepActivities as Record<string, ActivityFunction>],
];

const outDir = new URL('../test/replay/histories/', import.meta.url);
await mkdir(outDir, { recursive: true });
const definitions = [orderWorkflow, approvalWorkflow, flakyWorkflow, threeStepWorkflow, fulfillmentWorkflow, shipmentWorkflow, counterWorkflow, cartWorkflow, customerOrderWorkflow];
const t = await createTestEngine({ workflows: definitions });
const running = workers.map(([taskQueue, activities]) => Worker.create({ connection: t.engine, taskQueue, activities }));
for (const worker of running) void worker.run();
try {
  for (const scenario of scenarios) {
    const workflowId = scenario.name;
    await scenario.drive(t.engine, workflowId);
    const first = (await t.engine.list({ workflowIdPrefix: workflowId, limit: 1000 })).runs.at(-1)!; // newest first
    const result = scenario.firstRun ? await t.engine.describe({ workflowId }) : await t.engine.result({ workflowId }, { timeoutMs: 10_000 });
    const fixture: HistoryFixture = {
      description: scenario.description,
      workflowType: scenario.type,
      recordedOnVersion: definitions.find((d) => d.type === scenario.type)!.version,
      history: scenario.firstRun ? await t.engine.store.readHistory(first.runId) : await t.engine.history({ workflowId }),
    };
    const file = new URL(`${scenario.name}.json`, outDir);
    await writeFile(file, JSON.stringify(fixture, null, 2) + '\n');
    console.log(`${scenario.name}: ${result.status}, ${fixture.history.length} events → ${file.pathname}`);
  }
} finally {
  for (const worker of running) await worker.shutdown();
  await t.cleanup();
}
