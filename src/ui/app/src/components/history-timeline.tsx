import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import { eventFamily, eventPayload, summarizeEvent, type HistoryEvent } from '../lib/history-view.ts';
import { formatClock, formatDuration, stateText } from '../format.ts';
import { JsonView } from './json-view.tsx';
import { Link } from '../router.tsx';

export interface HistoryTimelineProps {
  events: readonly HistoryEvent[];
  /** State value after each delivered event, by seq (from the run's path). */
  stateAfter: ReadonlyMap<number, unknown>;
  selectedSeq: number | null;
  onSelect: (seq: number | null) => void;
  /** A page an event points to (a child workflow's), shown as a link on its row. */
  linkOf?: (e: HistoryEvent) => string | undefined;
}

/**
 * The event history as a virtualized timeline: only the rows in view are in the DOM, so 20,000
 * events scroll like 20. A row opens to show the event's payload and the state it led to;
 * selecting a row shows that state on the diagram.
 */
export function HistoryTimeline({ events, stateAfter, selectedSeq, onSelect, linkOf }: HistoryTimelineProps) {
  const [filter, setFilter] = useState('');
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const scrollRef = useRef<HTMLDivElement>(null);

  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    if (!f) return events;
    return events.filter((e) => e.kind.toLowerCase().includes(f) || summarizeEvent(e).toLowerCase().includes(f) || String(e.seq) === f);
  }, [events, filter]);

  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 30,
    overscan: 12,
    getItemKey: (i) => shown[i]!.seq,
  });
  const start = events[0]?.at ?? 0;

  const toggle = (seq: number) => {
    const next = new Set(open);
    if (next.has(seq)) next.delete(seq);
    else next.add(seq);
    setOpen(next);
  };

  return (
    <div className="timeline" data-testid="history">
      <div className="timeline-tools">
        <input type="search" placeholder="filter events (kind, text, #seq)" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="filter events" />
        <span className="muted">{shown.length === events.length ? `${events.length} events` : `${shown.length} of ${events.length} events`}</span>
        <button type="button" className="link" onClick={() => virtualizer.scrollToIndex(0)}>first</button>
        <button type="button" className="link" onClick={() => virtualizer.scrollToIndex(shown.length - 1, { align: 'end' })} data-testid="history-last">latest</button>
        {selectedSeq !== null ? <button type="button" className="link" onClick={() => onSelect(null)}>back to now</button> : null}
      </div>
      <div ref={scrollRef} className="timeline-scroll" data-testid="history-scroll">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const e = shown[item.index]!;
            const isOpen = open.has(e.seq);
            const after = stateAfter.get(e.seq);
            const link = linkOf?.(e);
            return (
              <div
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className={`event-row family-${eventFamily(e.kind)}${selectedSeq === e.seq ? ' selected' : ''}`}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}
                data-testid="history-row"
                data-seq={e.seq}
              >
                <div className="event-line" onClick={() => toggle(e.seq)}>
                  <span className="seq">#{e.seq}</span>
                  <span className="at" title={formatClock(e.at)}>+{formatDuration(e.at - start)}</span>
                  <span className="kind" title={e.kind}>{e.kind}</span>
                  <span className="summary">{summarizeEvent(e)}</span>
                  {link ? <Link to={link} className="event-link" onClick={(ev) => ev.stopPropagation()}>open ↗</Link> : null}
                  {after !== undefined ? (
                    <button type="button" className="link state-link" title="Show the state after this event on the diagram"
                      onClick={(ev) => { ev.stopPropagation(); onSelect(selectedSeq === e.seq ? null : e.seq); }}>
                      → {stateText(after)}
                    </button>
                  ) : null}
                </div>
                {isOpen ? (
                  <div className="event-detail">
                    <div className="muted" data-testid="event-time">{formatClock(e.at)}</div>
                    <JsonView value={eventPayload(e)} maxHeight={240} />
                  </div>
                ) : null}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

