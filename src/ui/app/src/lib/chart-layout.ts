import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { ChartEdge, ChartNode, MachineGraph } from './machine-graph.ts';

/**
 * The statechart laid out by ELK (elkjs, the Eclipse Layout Kernel's layered algorithm): nested
 * and parallel states as compound nodes, every transition an edge with its event as a label.
 * Pure: give it an ELK instance and a text measure, get coordinates (all absolute).
 */

export type Direction = 'DOWN' | 'RIGHT';

/** Width in px of a text in the diagram's font (canvas `measureText` in the browser). */
export type Measure = (text: string, font: 'title' | 'row' | 'label') => number;

export interface Elk {
  layout(graph: ElkNode): Promise<ElkNode>;
}

export interface LayoutNode {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The state, or null for an initial-state dot. */
  state: ChartNode | null;
  /** Lines under the title: invoked actors (⚙) and targetless transitions (↻). */
  rows: { text: string; kind: 'invoke' | 'internal'; invokeId?: string; edge?: ChartEdge }[];
}

export interface LayoutEdge {
  id: string;
  /** Null for the arrow from an initial dot. */
  edge: ChartEdge | null;
  points: { x: number; y: number }[];
  label: { x: number; y: number; width: number; height: number; text: string } | null;
}

export interface ChartLayout {
  width: number;
  height: number;
  /** Parents before their children, so drawing in order nests correctly. */
  nodes: LayoutNode[];
  edges: LayoutEdge[];
}

const TITLE_H = 28;
const ROW_H = 17;
const PAD = 12;
const INITIAL = 12;

/** A rough measure for tests and for before fonts load: average glyph widths of system-ui. */
export const estimateText: Measure = (text, font) => text.length * (font === 'title' ? 7.6 : 6.6);

function rowsOf(node: ChartNode): LayoutNode['rows'] {
  return [
    ...node.invokes.map((i) => ({ text: `⚙ ${i.src}${i.id !== i.src ? ` (${i.id})` : ''}`, kind: 'invoke' as const, invokeId: i.id })),
    ...node.internal.map((e) => ({ text: `↻ ${edgeText(e)}`, kind: 'internal' as const, edge: e })),
  ];
}

/** A state's title as drawn: its key, ∥ for a parallel state. */
export function titleOf(node: ChartNode): string {
  return node.type === 'parallel' ? `${node.key} ∥` : node.key;
}

/** The ELK graph of a machine (exported for tests). */
export function elkGraph(graph: MachineGraph, measure: Measure, direction: Direction = 'DOWN'): ElkNode {
  const toElk = (node: ChartNode): ElkNode => {
    const rows = rowsOf(node);
    // An invoke row leaves room for the "running" dot drawn after it.
    const contentW = Math.max(measure(titleOf(node), 'title'), ...rows.map((r) => measure(r.text, 'row') + (r.kind === 'invoke' ? 10 : 0))) + 2 * PAD;
    const headerH = TITLE_H + rows.length * ROW_H + (rows.length ? 4 : 0);
    const children = node.children.map((id) => graph.nodes.get(id)!).filter(Boolean);
    if (children.length === 0) {
      return { id: node.id, width: Math.max(80, Math.ceil(contentW)), height: Math.max(40, headerH + 8) };
    }
    const kids: ElkNode[] = children.map(toElk);
    if (node.initial && node.type === 'compound') kids.unshift({ id: initialId(node.id), width: INITIAL, height: INITIAL });
    return {
      id: node.id,
      children: kids,
      layoutOptions: {
        'elk.padding': `[top=${headerH + 8},left=${PAD},bottom=${PAD},right=${PAD}]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${Math.ceil(contentW)}, ${headerH + 20})`,
        // Regions of a parallel state sit side by side, as in Stately's editor.
        ...(node.type === 'parallel' ? { 'elk.direction': 'RIGHT' } : {}),
      },
    };
  };

  const edges: ElkExtendedEdge[] = graph.edges.map((e) => ({
    id: e.id, sources: [e.source], targets: [e.target!],
    labels: [{ id: `${e.id}#label`, text: edgeText(e), width: Math.ceil(measure(edgeText(e), 'label')) + 10, height: 18 }],
  }));
  for (const node of graph.nodes.values()) {
    if (node.initial && node.type === 'compound' && node.children.length) {
      edges.push({ id: initialEdgeId(node.id), sources: [initialId(node.id)], targets: [node.initial] });
    }
  }
  const root = graph.nodes.get(graph.rootId)!;
  return {
    id: '__graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '44',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.edgeLabel': '4',
      'elk.spacing.edgeNode': '16',
      'elk.layered.spacing.edgeNodeBetweenLayers': '16',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: [toElk(root)],
    edges,
  };
}

/** An edge's label as drawn: ◷ for timers, the guard in brackets. */
export function edgeText(e: ChartEdge): string {
  return `${e.kind === 'after' ? '◷ ' : ''}${e.label}${e.guard ? ` [${e.guard}]` : ''}`;
}

const initialId = (parentId: string) => `__initial:${parentId}`;
const initialEdgeId = (parentId: string) => `__initial-edge:${parentId}`;

/** Lays the machine out. */
export async function layoutChart(graph: MachineGraph, elk: Elk, measure: Measure = estimateText, direction: Direction = 'DOWN'): Promise<ChartLayout> {
  const laid = await elk.layout(elkGraph(graph, measure, direction));
  const nodes: LayoutNode[] = [];
  const visit = (n: ElkNode) => {
    const state = graph.nodes.get(n.id) ?? null;
    nodes.push({ id: n.id, x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0, state, rows: state ? rowsOf(state) : [] });
    for (const c of n.children ?? []) visit(c);
  };
  for (const c of laid.children ?? []) visit(c);
  const byId = new Map(graph.edges.map((e) => [e.id, e]));
  const edges: LayoutEdge[] = [];
  const collect = (n: ElkNode) => {
    for (const e of n.edges ?? []) {
      const section = e.sections?.[0];
      if (!section) continue;
      const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      const l = e.labels?.[0];
      edges.push({
        id: e.id, edge: byId.get(e.id) ?? null, points,
        label: l && l.text ? { x: l.x ?? 0, y: l.y ?? 0, width: l.width ?? 0, height: l.height ?? 0, text: l.text } : null,
      });
    }
    for (const c of n.children ?? []) collect(c);
  };
  collect(laid);
  return { width: laid.width ?? 0, height: laid.height ?? 0, nodes, edges };
}
