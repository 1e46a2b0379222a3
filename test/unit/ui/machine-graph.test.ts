import elkModule from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import { approvalMachine } from '../../../machines/approval.ts';
import { orderWorkflow } from '../../../machines/order.ts';
import { layoutChart, type Elk } from '../../../src/ui/app/src/lib/chart-layout.ts';
import { acceptedEvents, activeStateIds, machineGraph, summarizePath, userEvents } from '../../../src/ui/app/src/lib/machine-graph.ts';
import { definitionOf, nestedMachine } from './fixtures.ts';

// elkjs is CommonJS: under Node's ESM its default export is module.exports, the ELK class.
const ELK = ((elkModule as unknown as { default?: unknown }).default ?? elkModule) as new () => Elk;

describe('machineGraph', () => {
  it('reads states, nesting, initial states and labelled transitions of a machine definition', () => {
    const g = machineGraph(definitionOf(approvalMachine));
    expect(g.rootId).toBe('approval');
    expect(g.nodes.get('approval')!.children).toEqual(['approval.waiting', 'approval.approved', 'approval.rejected', 'approval.expired']);
    expect(g.nodes.get('approval')!.initial).toBe('approval.waiting');
    expect(g.nodes.get('approval.approved')!.type).toBe('final');
    expect(g.edges.map((e) => [e.source, e.label, e.target])).toEqual([
      ['approval.waiting', 'APPROVE', 'approval.approved'],
      ['approval.waiting', 'REJECT', 'approval.rejected'],
      ['approval.waiting', 'after approvalTimeout', 'approval.expired'],
    ]);
    // The reminder has no target: it stays in the state, and is listed inside it.
    expect(g.nodes.get('approval.waiting')!.internal.map((e) => e.label)).toEqual(['after reminderDelay']);
  });

  it('marks invoked activities and labels their completion and failure events', () => {
    const g = machineGraph(definitionOf(orderWorkflow.machine));
    expect(g.nodes.get('order.charging')!.invokes).toEqual([{ id: 'charge', src: 'chargeCard' }]);
    const labels = g.edges.filter((e) => e.source === 'order.charging').map((e) => `${e.kind}:${e.label}`);
    expect(labels).toEqual(['done:done: charge', 'error:error: charge']);
  });

  it('reads nested and parallel states, guards, numeric delays and transitions out of a child', () => {
    const g = machineGraph(definitionOf(nestedMachine));
    expect(g.nodes.get('nested.working')!.type).toBe('parallel');
    expect(g.nodes.get('nested.working.upload')!.initial).toBe('nested.working.upload.sending');
    expect(g.nodes.get('nested.working.upload.sending')!.depth).toBe(3);
    const byLabel = Object.fromEntries(g.edges.map((e) => [e.label, e]));
    expect(byLabel.GO).toMatchObject({ guard: 'isReady', target: 'nested.working' });
    expect(byLabel['after 5s']).toMatchObject({ kind: 'after', target: 'nested.working.upload.stalled' });
    expect(byLabel.FIX).toMatchObject({ source: 'nested.working.upload.stalled', target: 'nested.done' });
  });
});

describe('activeStateIds and acceptedEvents', () => {
  it('turns a state value into the active state nodes with their ancestors', () => {
    const g = machineGraph(definitionOf(nestedMachine));
    const active = activeStateIds(g, { working: { upload: 'paused', progress: 'counting' } });
    expect([...active].sort()).toEqual([
      'nested', 'nested.working', 'nested.working.progress', 'nested.working.progress.counting', 'nested.working.upload', 'nested.working.upload.paused',
    ]);
    expect([...activeStateIds(g, 'idle')]).toEqual(['nested', 'nested.idle']);
    expect(activeStateIds(g, null).size).toBe(0);
  });

  it('lists the events the active states and their ancestors take, without internal ones', () => {
    const g = machineGraph(definitionOf(nestedMachine));
    const active = activeStateIds(g, { working: { upload: 'sending', progress: 'counting' } });
    // ABORT from the parallel parent, PAUSE from upload.sending, TICK (targetless) from progress.counting; not the `after`.
    expect(acceptedEvents(g, active)).toEqual(['ABORT', 'PAUSE', 'TICK']);
    expect(userEvents(['APPROVE', 'xstate.after.x', 'perdure.cancel', 'REJECT'])).toEqual(['APPROVE', 'REJECT']);
  });
});

describe('summarizePath', () => {
  it('counts the states visited and the transitions taken by a run', () => {
    const g = machineGraph(definitionOf(nestedMachine));
    const steps = [
      { seq: 1, at: 0, event: 'xstate.init', value: 'idle' },
      { seq: 2, at: 0, event: 'GO', value: { working: { upload: 'sending', progress: 'counting' } } },
      { seq: 3, at: 0, event: 'PAUSE', value: { working: { upload: 'paused', progress: 'counting' } } },
      { seq: 4, at: 0, event: 'RESUME', value: { working: { upload: 'sending', progress: 'counting' } } },
      { seq: 5, at: 0, event: 'PAUSE', value: { working: { upload: 'paused', progress: 'counting' } } },
    ];
    const summary = summarizePath(g, steps);
    expect(summary.visits.get('nested.working.upload.paused')).toBe(2);
    expect(summary.visits.get('nested.working.upload.stalled')).toBeUndefined();
    expect(summary.taken.get('nested.working.upload.sending:PAUSE:0')).toBe(2);
    expect(summary.taken.get('nested.idle:GO:0')).toBe(1);
    expect(summary.lastEdge).toBe('nested.working.upload.sending:PAUSE:0');
  });
});

describe('layoutChart (elkjs)', () => {
  it('lays out nested and parallel states with every child inside its parent and every transition routed', async () => {
    const g = machineGraph(definitionOf(nestedMachine));
    const layout = await layoutChart(g, new ELK());
    const box = new Map(layout.nodes.map((n) => [n.id, n]));
    for (const node of g.nodes.values()) {
      const b = box.get(node.id)!;
      expect(b, node.id).toBeDefined();
      if (!node.parentId) continue;
      const p = box.get(node.parentId)!;
      expect(b.x >= p.x && b.y >= p.y && b.x + b.width <= p.x + p.width + 0.5 && b.y + b.height <= p.y + p.height + 0.5, `${node.id} inside ${node.parentId}`).toBe(true);
    }
    const routed = layout.edges.filter((e) => e.edge).map((e) => e.edge!.id).sort();
    expect(routed).toEqual(g.edges.map((e) => e.id).sort());
    for (const e of layout.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    // Parents are listed before their children, so they are drawn underneath.
    const order = layout.nodes.map((n) => n.id);
    expect(order.indexOf('nested.working')).toBeLessThan(order.indexOf('nested.working.upload.sending'));
  });
});
