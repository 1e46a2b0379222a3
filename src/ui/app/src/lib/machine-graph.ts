/**
 * A machine's definition (the JSON of an XState v5 machine, as `GET /api/v1/workflow-types`
 * returns it) read as a graph: state nodes nested in their parents, and transitions labelled
 * with their events. Pure (no DOM): the diagram lays it out, the tests read it directly.
 */
import type { StateJson } from '../../../../definition/machine-json.ts';
import { formatDuration } from './formatters.ts';

// The machine JSON types live beside the Stately export in src/definition, which reads them too.
export type { StateJson };

export type ChartNodeType = StateJson['type'];

export interface ChartNode {
  /** The state node's id (`approval.waiting`), as `#id` targets name it. */
  id: string;
  key: string;
  type: ChartNodeType;
  parentId: string | null;
  children: string[];
  /** Child id the state enters first (compound states). */
  initial: string | null;
  /** Actors invoked while in this state: activities, local activities, child workflows. */
  invokes: { id: string; src: string }[];
  /** Transitions with no target: they run actions and stay (`after` reminders, counters). */
  internal: ChartEdge[];
  tags: string[];
  depth: number;
}

export type EdgeKind = 'event' | 'after' | 'done' | 'error' | 'cancel' | 'always';

export interface ChartEdge {
  /** Unique in the graph: `${source}:${eventType}:${index}`. */
  id: string;
  source: string;
  /** null for a targetless (internal) transition. */
  target: string | null;
  eventType: string;
  kind: EdgeKind;
  /** What the diagram writes on the edge: `APPROVE`, `after approvalTimeout`, `done: charge`. */
  label: string;
  guard: string | null;
}

export interface MachineGraph {
  rootId: string;
  nodes: Map<string, ChartNode>;
  /** Transitions with a target, in document order. */
  edges: ChartEdge[];
}

/** Builds the graph of a machine definition. */
export function machineGraph(definition: StateJson): MachineGraph {
  const nodes = new Map<string, ChartNode>();
  const edges: ChartEdge[] = [];
  const visit = (state: StateJson, parentId: string | null, depth: number) => {
    const children = Object.values(state.states ?? {});
    const node: ChartNode = {
      id: state.id, key: state.key, type: state.type, parentId, depth,
      children: children.map((c) => c.id),
      initial: state.type === 'compound' ? stripHash(state.initial?.target?.[0]) : null,
      invokes: (state.invoke ?? []).map((i) => ({ id: i.id, src: typeof i.src === 'string' ? i.src : i.id })),
      internal: [], tags: state.tags ?? [],
    };
    nodes.set(node.id, node);
    for (const [eventType, transitions] of Object.entries(state.on ?? {})) {
      transitions.forEach((t, index) => {
        const targets = (t.target ?? []).map(stripHash).filter((x): x is string => x !== null);
        const base = { source: state.id, eventType, kind: edgeKind(eventType), label: eventLabel(eventType, t.delay), guard: guardName(t.guard) };
        if (targets.length === 0) {
          node.internal.push({ ...base, id: `${state.id}:${eventType}:${index}`, target: null });
          return;
        }
        targets.forEach((target, k) => edges.push({ ...base, id: `${state.id}:${eventType}:${index}${k ? `:${k}` : ''}`, target }));
      });
    }
    for (const child of children) visit(child, state.id, depth + 1);
  };
  visit(definition, null, 0);
  return { rootId: definition.id, nodes, edges };
}

/**
 * The ids of the state nodes a state value names, with every ancestor (root included):
 * `'waiting'` → {approval, approval.waiting}; `{ a: 'x', b: { c: 'y' } }` → a, a.x, b, b.c, b.c.y.
 * Keys are followed through the graph (not joined into ids), so custom state ids work.
 */
export function activeStateIds(graph: MachineGraph, value: unknown): Set<string> {
  const active = new Set<string>();
  const root = graph.nodes.get(graph.rootId);
  if (!root || value === null || value === undefined) return active;
  active.add(root.id);
  const walk = (parent: ChartNode, v: unknown) => {
    if (typeof v === 'string') {
      const child = childByKey(graph, parent, v);
      if (child) active.add(child.id);
      return;
    }
    if (typeof v === 'object' && v !== null) {
      for (const [key, sub] of Object.entries(v)) {
        const child = childByKey(graph, parent, key);
        if (!child) continue;
        active.add(child.id);
        walk(child, sub);
      }
    }
  };
  walk(root, value);
  return active;
}

function childByKey(graph: MachineGraph, parent: ChartNode, key: string): ChartNode | undefined {
  for (const id of parent.children) {
    const child = graph.nodes.get(id);
    if (child?.key === key) return child;
  }
  return undefined;
}

/**
 * The events the active states take, as the engine's `accepts` lists them: every `on` event of
 * an active state node or its ancestors, without XState's and Perdure's internal ones (timers,
 * actor completions, cancellation). For when the server does not say.
 */
export function acceptedEvents(graph: MachineGraph, active: ReadonlySet<string>): string[] {
  const events = new Set<string>();
  for (const edge of [...graph.edges, ...[...graph.nodes.values()].flatMap((n) => n.internal)]) {
    if (active.has(edge.source) && edge.kind === 'event') events.add(edge.eventType);
  }
  return [...events].sort();
}

/** The events a person can send: drops internal ones the server lists too (`xstate.*`, `perdure.*`). */
export function userEvents(events: readonly string[]): string[] {
  return events.filter((e) => !e.startsWith('xstate.') && !e.startsWith('perdure.') && e !== '*' && e !== '');
}

export function edgeKind(eventType: string): EdgeKind {
  if (eventType.startsWith('xstate.after.')) return 'after';
  if (eventType.startsWith('xstate.done.')) return 'done';
  if (eventType.startsWith('xstate.error.')) return 'error';
  if (eventType === 'perdure.cancel') return 'cancel';
  if (eventType === '') return 'always';
  return 'event';
}

/** How an event type reads on the diagram. */
export function eventLabel(eventType: string, delay?: string | number): string {
  if (eventType.startsWith('xstate.after.')) {
    const d = delay ?? eventType.slice('xstate.after.'.length).split('.')[0];
    return `after ${typeof d === 'number' || /^\d+$/.test(String(d)) ? formatDuration(Number(d)) : d}`;
  }
  if (eventType.startsWith('xstate.done.actor.')) return `done: ${eventType.slice('xstate.done.actor.'.length)}`;
  if (eventType.startsWith('xstate.error.actor.')) return `error: ${eventType.slice('xstate.error.actor.'.length)}`;
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  if (eventType === 'perdure.cancel') return 'cancel';
  if (eventType === '') return 'always';
  return eventType;
}

function guardName(guard: unknown): string | null {
  if (typeof guard === 'string') return guard;
  if (guard && typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  return null;
}

function stripHash(target: string | undefined): string | null {
  if (target === undefined) return null;
  return target.startsWith('#') ? target.slice(1) : target;
}

/** One step of a run's path, as `GET …/path` returns it. */
export interface PathStep {
  seq: number;
  at: number;
  event: string;
  value: unknown;
}

export interface PathSummary {
  /** How many times each state node was entered (visited at least once if present). */
  visits: Map<string, number>;
  /** How many times each edge was taken. */
  taken: Map<string, number>;
  /** The edge of the last step that changed state, for emphasis. */
  lastEdge: string | null;
}

/**
 * What the path taken so far looks like on the diagram: states visited and transitions taken.
 * An edge counts as taken by a step when its event is the step's event, its source was active
 * before the step and its target is active after it.
 */
export function summarizePath(graph: MachineGraph, steps: readonly PathStep[]): PathSummary {
  const visits = new Map<string, number>();
  const taken = new Map<string, number>();
  let lastEdge: string | null = null;
  let before = new Set<string>();
  const byEvent = new Map<string, ChartEdge[]>();
  for (const e of graph.edges) byEvent.set(e.eventType, [...(byEvent.get(e.eventType) ?? []), e]);
  for (const step of steps) {
    const after = activeStateIds(graph, step.value);
    for (const id of after) if (!before.has(id)) visits.set(id, (visits.get(id) ?? 0) + 1);
    for (const edge of byEvent.get(step.event) ?? []) {
      if (before.has(edge.source) && edge.target !== null && after.has(edge.target)) {
        taken.set(edge.id, (taken.get(edge.id) ?? 0) + 1);
        lastEdge = edge.id;
      }
    }
    before = after;
  }
  return { visits, taken, lastEdge };
}
