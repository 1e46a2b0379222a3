import { afterEach, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { counterWorkflow } from '../../machines/counter.ts';
import { fulfillmentWorkflow, shipmentWorkflow } from '../../machines/fulfillment.ts';
import { eventually } from '../helpers/engine.ts';
import { probePostgres } from '../helpers/postgres.ts';
import { startRawWorker } from '../helpers/raw-worker.ts';
import { clusterPerTest } from '../helpers/test-cluster.ts';

// Three servers on one PostgreSQL schema, in this process, each holding a third of the shards:
// a client of any one of them reaches every execution (the node forwards to the shard's owner),
// children started in another node's shard report back to their parent (node operations), and a
// node that stops hands its shards over to the others at once.

const postgres = await probePostgres();
const LEASE_MS = 1_500;
const workflows = [approvalWorkflow, fulfillmentWorkflow, shipmentWorkflow, counterWorkflow];

describe.skipIf(!postgres.available)(`a cluster of three nodes${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  const { start, node, stop, connect, status } = clusterPerTest(afterEach);

  it('serves every execution from every node, children across shards included, and hands a stopped node\'s shards over', async () => {
    await start({ workflows, leaseMs: LEASE_MS });
    const [a, b, c] = [await node('node-a'), await node('node-b'), await node('node-c')];
    // The three even out: each holds some shards, every shard is held once.
    const even = await eventually(async () => {
      const s = await status(c);
      const counts = s.nodes.map((n) => n.shards.length);
      return s.nodes.length === 3 && s.unowned.length === 0 && counts.every((n) => n >= 20) ? s : undefined;
    }, 20_000);
    expect(even.nodes.map((n) => n.nodeId).sort()).toEqual(['node-a', 'node-b', 'node-c']);
    expect(even.nodes.every((n) => n.address?.startsWith('127.0.0.1:'))).toBe(true);

    const [viaA, viaB, viaC] = [await connect(a), await connect(b), await connect(c)];
    // Approvals started through A: most live in B's and C's shards. Signalled through B, read through C.
    const ids = Array.from({ length: 12 }, (_, i) => `cluster-approval-${i}`);
    for (const workflowId of ids) await viaA.start('approval', { workflowId, input: { request: 'laptop', timeoutMs: 60_000 } });
    const owners = new Set<string>();
    for (const workflowId of ids) {
      await viaB.getHandle(workflowId).signal({ type: 'APPROVE', approver: 'ann' });
      expect(await viaC.getHandle(workflowId).result({ timeoutMs: 10_000 })).toMatchObject({ decision: 'approved' });
      owners.add(String((await a.engine.store.shards().ownerOf(a.engine.store.shards().shardOf('default', workflowId)))?.nodeId));
    }
    expect(owners.size, 'the approvals are spread over the nodes').toBeGreaterThan(1);
    expect((await viaB.list({ workflowIdPrefix: 'cluster-approval-' })).executions).toHaveLength(ids.length);

    // Parents and children in different shards: the child's start and its report back cross nodes.
    for (let i = 0; i < 6; i++) await viaC.start('fulfillment', { workflowId: `cluster-f-${i}`, input: { orderId: `cf-${i}` } });
    for (let i = 0; i < 6; i++) {
      const child = viaA.getHandle(`shipment-cf-${i}`);
      await eventually(async () => ((await child.describe().catch(() => undefined))?.status === 'running' ? true : undefined));
      await child.signal({ type: 'PICKED_UP', carrier: 'DHL' });
      await child.signal({ type: 'DELIVERED' });
      expect(await viaB.getHandle(`cluster-f-${i}`).result({ timeoutMs: 10_000 })).toMatchObject({ orderId: `cf-${i}`, carrier: 'DHL' });
    }

    // B stops: it hands its shards over, and its executions answer through the others at once.
    await viaB.close();
    await stop(b);
    await viaA.start('counter', { workflowId: 'cluster-counter', input: { total: 0, rollAt: 3 } });
    for (let i = 0; i < 5; i++) await viaC.getHandle('cluster-counter').signal({ type: 'ADD', amount: 1 });
    await viaA.getHandle('cluster-counter').signal({ type: 'FINISH' });
    expect(await viaC.getHandle('cluster-counter').result({ timeoutMs: 10_000 })).toMatchObject({ total: 5 });
    const after = await eventually(async () => {
      const s = await status(a);
      return s.nodes.length === 2 && s.unowned.length === 0 ? s : undefined;
    }, 10_000);
    expect(after.nodes.map((n) => n.nodeId).sort()).toEqual(['node-a', 'node-c']);
    for (const workflowId of ids) expect((await viaA.getHandle(workflowId).describe()).status).toBe('completed');
  }, 90_000);

  it('knows a namespace made or changed on another node at once: a worker\'s registration, starts, lists, describes and a second create', async () => {
    await start({ workflows, leaseMs: LEASE_MS });
    const [a, b] = [await node('node-a'), await node('node-b')];
    const [viaA, viaB] = [await connect(a), await connect(b)];
    await viaA.namespaces.create('billing', { description: 'invoices', retention: '7d' });
    // Through the other node at once, before its periodic read of the namespaces.
    const billingOnB = await connect(b, 'billing');
    expect(b.engine.namespaces.list().map((n) => n.name)).not.toContain('billing'); // not read by B yet
    // A worker of the new namespace registers on B as soon as it is made on A (B's hub reads it).
    const worker = await startRawWorker({ wsUrl: b.wsUrl, namespace: 'billing', taskQueue: 'invoices', activityTypes: ['send'], run: async () => ({ output: null }) });
    await worker.close();
    const ids = Array.from({ length: 8 }, (_, i) => `invoice-${i}`);
    for (const workflowId of ids) await billingOnB.start('counter', { workflowId });
    expect((await billingOnB.list({})).executions.map((e) => e.workflowId).sort()).toEqual(ids);
    await expect(viaB.namespaces.create('billing')).rejects.toMatchObject({ code: 'NAMESPACE_ALREADY_EXISTS' });
    await viaB.namespaces.update('billing', { retention: '90d' });
    expect((await viaA.namespaces.describe('billing')).retention).toBe(90 * 24 * 3_600_000);
    expect((await viaA.namespaces.list()).find((n) => n.name === 'billing')?.retention).toBe(90 * 24 * 3_600_000);
  }, 60_000);
});
