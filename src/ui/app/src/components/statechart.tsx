import { useEffect, useMemo, useState } from 'react';
import { layoutChart, edgeText, titleOf, type ChartLayout, type Direction, type Elk, type LayoutEdge, type LayoutNode, type Measure } from '../lib/chart-layout.ts';
import type { MachineGraph, PathSummary } from '../lib/machine-graph.ts';

export interface StatechartProps {
  graph: MachineGraph;
  /** State node ids active now (with ancestors); empty for a type's diagram. */
  active?: ReadonlySet<string>;
  /** Visited states and taken transitions, from the run's path. */
  path?: PathSummary;
  /** Activity ids in flight: their ⚙ rows in active states show as running. */
  runningInvokes?: ReadonlySet<string>;
  /** When the run is closed, the active states are where it ended, not where it waits. */
  closed?: boolean;
  /** A caption over the diagram (e.g. "state after event #12"). */
  caption?: string;
  testId?: string;
}

let elkPromise: Promise<Elk> | undefined;
/** elkjs is big: loaded on first use, in its own chunk. */
function loadElk(): Promise<Elk> {
  elkPromise ??= import('elkjs/lib/elk.bundled.js').then((m) => new m.default() as unknown as Elk);
  return elkPromise;
}

const FONTS = { title: '600 13px system-ui, sans-serif', row: '12px system-ui, sans-serif', label: '12px system-ui, sans-serif' } as const;
let canvas: CanvasRenderingContext2D | null | undefined;
const measure: Measure = (text, font) => {
  canvas ??= document.createElement('canvas').getContext('2d');
  if (!canvas) return text.length * 7;
  canvas.font = FONTS[font];
  return canvas.measureText(text).width;
};

/**
 * The machine as a statechart, laid out by ELK: states nested in their parents (parallel regions
 * dashed, final states double-bordered), transitions labelled with their events, ⚙ for invoked
 * activities, ◷ for timers (`after`), ↻ for transitions that stay in the state. Active states
 * are filled; states visited and transitions taken so far are drawn in the path colour, the
 * latest one emphasised.
 */
export function Statechart({ graph, active, path, runningInvokes, closed, caption, testId = 'statechart' }: StatechartProps) {
  const [direction, setDirection] = useState<Direction>('DOWN');
  const [layout, setLayout] = useState<ChartLayout>();
  const [error, setError] = useState<string>();
  const [fit, setFit] = useState(true);

  useEffect(() => {
    let cancelled = false;
    setError(undefined);
    loadElk()
      .then((elk) => layoutChart(graph, elk, measure, direction))
      .then((l) => !cancelled && setLayout(l))
      .catch((e: unknown) => !cancelled && setError(`the diagram could not be laid out: ${(e as Error).message}`));
    return () => {
      cancelled = true;
    };
  }, [graph, direction]);

  const availableEdges = useMemo(() => {
    const set = new Set<string>();
    if (!active || closed) return set;
    for (const e of graph.edges) if (active.has(e.source)) set.add(e.id);
    return set;
  }, [graph, active, closed]);

  if (error) return <div className="error-note">{error}</div>;
  if (!layout) return <div className="chart-loading" data-testid={`${testId}-loading`}>Laying out the diagram…</div>;

  const leafActive = (n: LayoutNode) => active?.has(n.id) && n.state !== null && n.state.children.length === 0;

  return (
    <div className="statechart" data-testid={testId}>
      <div className="chart-tools">
        {caption ? <span className="chart-caption">{caption}</span> : <span />}
        <span>
          <button type="button" className="link" onClick={() => setDirection(direction === 'DOWN' ? 'RIGHT' : 'DOWN')} title="Lay out top-down or left-to-right">
            {direction === 'DOWN' ? '↓ top-down' : '→ left-right'}
          </button>
          <button type="button" className="link" onClick={() => setFit(!fit)}>{fit ? 'actual size' : 'fit'}</button>
        </span>
      </div>
      <div className={fit ? 'chart-scroll fit' : 'chart-scroll'}>
        <svg
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          width={fit ? '100%' : layout.width}
          height={fit ? undefined : layout.height}
          style={fit ? { maxHeight: Math.max(280, Math.min(layout.height, 640)), maxWidth: layout.width * 1.25 } : undefined}
          role="img"
          aria-label={`statechart of ${graph.rootId}`}
        >
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" className="arrow-head" />
            </marker>
            <marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" className="arrow-head taken" />
            </marker>
            <marker id="arrow-available" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" className="arrow-head available" />
            </marker>
          </defs>
          {layout.nodes.map((n) => (
            <StateBox key={n.id} node={n} graph={graph} active={!!active?.has(n.id)} leaf={!!leafActive(n)} closed={!!closed}
              visited={(path?.visits.get(n.id) ?? 0) > 0} runningInvokes={runningInvokes} />
          ))}
          {layout.edges.map((e) => (
            <Edge key={e.id} edge={e} taken={e.edge ? path?.taken.get(e.edge.id) ?? 0 : 0} last={!!e.edge && path?.lastEdge === e.edge.id}
              available={!!e.edge && availableEdges.has(e.edge.id)} />
          ))}
        </svg>
      </div>
      {active || path ? <div className="chart-legend">
        <span><i className="swatch active" /> current</span>
        <span><i className="swatch visited" /> visited</span>
        <span><i className="line taken" /> taken</span>
        <span><i className="line available" /> can happen now</span>
        <span>⚙ activity · ◷ timer · ↻ stays in state</span>
      </div> : <div className="chart-legend"><span>⚙ activity · ◷ timer · ↻ stays in state · ∥ parallel · double border: final</span></div>}
    </div>
  );
}

function StateBox({ node, graph, active, leaf, closed, visited, runningInvokes }: {
  node: LayoutNode; graph: MachineGraph; active: boolean; leaf: boolean; closed: boolean; visited: boolean; runningInvokes?: ReadonlySet<string>;
}) {
  if (!node.state) {
    return <circle className="initial-dot" cx={node.x + node.width / 2} cy={node.y + node.height / 2} r={node.width / 2} />;
  }
  const s = node.state;
  const parent = s.parentId ? graph.nodes.get(s.parentId) : undefined;
  const region = parent?.type === 'parallel';
  const isRoot = s.parentId === null;
  const classes = ['state', `type-${s.type}`, region ? 'region' : '', isRoot ? 'root' : '', active ? 'active' : '', leaf ? 'leaf-active' : '',
    leaf && closed ? 'ended' : '', visited && !active ? 'visited' : ''].filter(Boolean).join(' ');
  return (
    <g className={classes} data-testid="state-node" data-state-id={s.id} data-state-key={s.key} data-active={active ? 'true' : 'false'}
      data-leaf-active={leaf ? 'true' : 'false'} data-visited={visited ? 'true' : 'false'}>
      <title>{`${s.id} (${s.type})${s.tags.length ? ` tags: ${s.tags.join(', ')}` : ''}`}</title>
      <rect x={node.x} y={node.y} width={node.width} height={node.height} rx={isRoot ? 10 : 8} />
      {s.type === 'final' ? <rect className="final-inner" x={node.x + 3} y={node.y + 3} width={node.width - 6} height={node.height - 6} rx={6} /> : null}
      <text className="state-title" x={node.x + 12} y={node.y + 19}>{titleOf(s)}</text>
      {node.rows.map((r, i) => {
        const running = active && r.invokeId !== undefined && !!runningInvokes?.has(r.invokeId);
        const y = node.y + 19 + 17 * (i + 1);
        return (
          <g key={i}>
            <text className={`state-row ${r.kind}${running ? ' running' : ''}`} x={node.x + 12} y={y}>{r.text}</text>
            {running ? <circle className="running-dot" cx={node.x + node.width - 7} cy={y - 4} r={3.5}><title>running now</title></circle> : null}
          </g>
        );
      })}
    </g>
  );
}

function Edge({ edge, taken, last, available }: { edge: LayoutEdge; taken: number; last: boolean; available: boolean }) {
  const d = edge.points.map((p, i) => `${i ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ');
  const kind = edge.edge?.kind ?? 'initial';
  const cls = ['edge', `kind-${kind}`, taken ? 'taken' : '', last ? 'last' : '', available ? 'available' : ''].filter(Boolean).join(' ');
  const marker = taken ? 'url(#arrow-taken)' : available ? 'url(#arrow-available)' : 'url(#arrow)';
  const text = edge.edge ? edgeText(edge.edge) : '';
  return (
    <g className={cls} data-testid={edge.edge ? 'transition' : undefined} data-event={edge.edge?.eventType} data-taken={taken || undefined}>
      <path d={d} markerEnd={marker} />
      {edge.label ? (
        <g className="edge-label">
          <rect x={edge.label.x - 2} y={edge.label.y} width={edge.label.width + 4 + (taken > 1 ? 24 : 0)} height={edge.label.height} rx={4} />
          <text x={edge.label.x + 3} y={edge.label.y + 13}>{text}{taken > 1 ? <tspan className="count"> ×{taken}</tspan> : null}</text>
        </g>
      ) : null}
    </g>
  );
}
