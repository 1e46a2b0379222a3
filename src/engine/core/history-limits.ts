import type { RunRecord } from '../../common/run-model.ts';

/**
 * How long a run's history may grow. Temporal's defaults: a warning at 10,000 events, the run
 * terminated past 51,200 events or 50 MiB. A machine that lives long continues as new before
 * that (events carry `historyLength` and `historyBytes`).
 */
export interface HistoryLimits {
  /** The server logs a warning when a run's history reaches this many events. Default 10,000. */
  warnEvents: number;
  /** A run whose history grows past this many events is terminated (HISTORY_LIMIT_EXCEEDED). Default 51,200. */
  maxEvents: number;
  /** …or past this size, in JSON characters. Default 50 MiB. */
  maxBytes: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { warnEvents: 10_000, maxEvents: 51_200, maxBytes: 50 * 1024 * 1024 };

/** Why the run's history is over its limits, or undefined while it is not. */
export function historyOverLimit(run: RunRecord, limits: HistoryLimits): string | undefined {
  if (run.lastSeq > limits.maxEvents) {
    return `history limit exceeded: ${run.lastSeq} events, more than the limit of ${limits.maxEvents}; continue as new before that`;
  }
  const bytes = run.historyBytes ?? 0;
  if (bytes > limits.maxBytes) {
    return `history limit exceeded: ${bytes} bytes, more than the limit of ${limits.maxBytes}; continue as new before that`;
  }
  return undefined;
}

/** Whether the commit that took the history from `previousLastSeq` to `run.lastSeq` crossed the warning mark. */
export function crossedHistoryWarning(previousLastSeq: number, run: RunRecord, limits: HistoryLimits): boolean {
  return previousLastSeq < limits.warnEvents && run.lastSeq >= limits.warnEvents;
}
