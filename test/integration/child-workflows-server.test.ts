import { describe, expect, it } from 'vitest';
import { TerminatedFailure } from '../../src/client/index.ts';
import { serverWithClient } from '../helpers/server-client.ts';
import { eventually } from '../helpers/engine.ts';
import { perdure } from '../helpers/cli.ts';

/** Child workflows and continue-as-new against a real server process, across a SIGKILL. */
describe('child workflows and continue-as-new over the server', () => {
  const ctx = serverWithClient();

  const running = (workflowId: string) => eventually(async () => {
    const { executions: runs } = await ctx.client.list({ type: 'shipment', status: 'running' });
    return runs.some((r) => r.workflowId === workflowId) ? true : undefined;
  });
  /**
   * Waits until the child runs and its parent has recorded that it started: two executions'
   * commits, the child's a moment before the parent's (issue 13).
   */
  const childStarted = async (parentId: string, childId: string) => {
    await running(childId);
    await eventually(async () => {
      const detail = await (await fetch(`${ctx.server.url}/api/v1/namespaces/default/workflows/${parentId}`)).json() as { pendingChildren?: Array<{ workflowId: string; started: boolean }> };
      return detail.pendingChildren?.some((c) => c.workflowId === childId && c.started) ? true : undefined;
    });
  };

  it('a parent and its child survive a SIGKILL of the server, and the child is not started twice', async () => {
    const parent = await ctx.client.start('fulfillment', { workflowId: 'f-kill', input: { orderId: 'kill' } });
    await childStarted('f-kill', 'shipment-kill');
    const detail = await (await fetch(`${ctx.server.url}/api/v1/namespaces/default/workflows/f-kill`)).json() as { pendingChildren: unknown[] };
    expect(detail.pendingChildren).toEqual([expect.objectContaining({ childId: 'shipment', workflowId: 'shipment-kill', started: true })]);

    await ctx.killAndRestart();

    const child = ctx.client.getHandle('shipment-kill');
    await child.signal({ type: 'PICKED_UP', carrier: 'FedEx' });
    await child.signal({ type: 'DELIVERED' });
    expect(await ctx.client.getHandle('f-kill').result({ timeoutMs: 10_000 })).toMatchObject({ orderId: 'kill', carrier: 'FedEx' });
    expect((await ctx.client.list({ type: 'shipment' })).executions.filter((r) => r.workflowId === 'shipment-kill')).toHaveLength(1);
    void parent;
  });

  it('terminating the parent terminates its child (default parent close policy)', async () => {
    const parent = await ctx.client.start('fulfillment', { workflowId: 'f-term', input: { orderId: 'term' } });
    await childStarted('f-term', 'shipment-term');
    const described = await perdure(['workflow', 'describe', 'shipment-term', '--address', ctx.server.url]);
    expect(described.stdout).toMatch(/^parent:\s+f-term \(run [0-9a-f-]+, as shipment\)$/m);
    expect((await perdure(['workflow', 'describe', 'f-term', '--address', ctx.server.url])).stdout).toMatch(/^children:\s+shipment: shipment shipment-term$/m);
    await parent.terminate('order withdrawn');
    await expect(ctx.client.getHandle('shipment-term').result({ timeoutMs: 10_000 })).rejects.toBeInstanceOf(TerminatedFailure);
  });

  it('a counter that continues as new answers result() with the end of its chain', async () => {
    const counter = await ctx.client.start('counter', { workflowId: 'counter-s', input: { rollAt: 5 } });
    // Signals sent while a run hands over to its successor go to the successor.
    for (let i = 0; i < 12; i++) await ctx.client.getHandle('counter-s').signal({ type: 'ADD', amount: 2 });
    await ctx.client.getHandle('counter-s').signal({ type: 'FINISH' });
    expect(await counter.result({ timeoutMs: 10_000 })).toEqual({ total: 24 });
    const runs = (await ctx.client.list({ type: 'counter' })).executions.filter((r) => r.workflowId === 'counter-s');
    expect(runs.filter((r) => r.status === 'continuedAsNew').length).toBeGreaterThanOrEqual(3);
    expect((await ctx.client.list({ type: 'counter', status: 'continuedAsNew' })).executions.length).toBeGreaterThanOrEqual(3);

    // Over HTTP, `?runId=` reads one run of the chain: its description, history and path.
    const oldest = runs.at(-1)!;
    const base = `${ctx.server.url}/api/v1/namespaces/default/workflows/counter-s`;
    expect(await (await fetch(`${base}?runId=${oldest.runId}`)).json()).toMatchObject({ runId: oldest.runId, status: 'continuedAsNew' });
    const { events } = await (await fetch(`${base}/history?runId=${oldest.runId}`)).json() as { events: { kind: string }[] };
    expect(events.at(-1)!.kind).toBe('WorkflowContinuedAsNew');
    expect(await (await fetch(`${base}/path?runId=${oldest.runId}`)).json()).toMatchObject({ runId: oldest.runId });
    const missing = await fetch(`${base}?runId=00000000-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);
  });
});
