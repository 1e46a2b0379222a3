import { useEffect, useState } from 'react';
import { api, type ExecutionDetail } from '../api.ts';
import { usePoll } from '../hooks.ts';

/** How often the open current run is read again. History and path are read only when it grew. */
const POLL_MS = 1000;
/** A closed current run changes no more (short of a reset or a new start): read it rarely. */
const CLOSED_POLL_MS = 15_000;
/** While an older run is shown, the current run is read only to keep the banner's link right. */
const BEHIND_OLDER_POLL_MS = 10_000;

export interface ShownRun {
  /** The run the page shows (undefined while loading). */
  detail: ExecutionDetail | undefined;
  /** Why it cannot be shown: the current run's read failed, or the run named has no such run id (404 EXECUTION_NOT_FOUND). */
  error: Error | undefined;
  /** The workflow id's current run as last read: the open one, else the latest. */
  current: ExecutionDetail | undefined;
  /**
   * The page shows a run that is not the current one: it is closed (a workflow id has at most
   * one open run, and it is the current one), so it is read once and takes no action.
   */
  older: boolean;
  /** Read again now (after an action). */
  refresh: () => void;
}

/**
 * Which run of a workflow id the execution page shows. Without `requested` (`?run=`), the
 * current run, followed when it continues as new or is reset. With it, that run: when it is the
 * current one the page is the same as without, and once it is not (named as an older run, or a
 * continue-as-new while the page is open) it is read by its run id.
 *
 * @example
 * const { detail, older, current } = useShownRun('default', 'counter-1', params.get('run') ?? undefined);
 */
export function useShownRun(namespace: string, workflowId: string, requested: string | undefined): ShownRun {
  // The current run is always read: it decides whether the run named is older, and the banner links to it.
  const [intervalMs, setIntervalMs] = useState(POLL_MS);
  const latest = usePoll((signal) => api.describe(namespace, workflowId, undefined, signal), [namespace, workflowId], intervalMs);
  const current = latest.data;
  const older = requested !== undefined && current !== undefined && current.runId !== requested;
  const wanted = older ? BEHIND_OLDER_POLL_MS : current && !isOpen(current) ? CLOSED_POLL_MS : POLL_MS;
  useEffect(() => setIntervalMs(wanted), [wanted]);
  // An older run is closed and final: read once when it becomes the one shown.
  const named = usePoll(
    (signal) => (older ? api.describe(namespace, workflowId, requested, signal) : Promise.resolve(undefined)),
    [namespace, workflowId, requested, older], 0,
  );

  if (!older) return { detail: current, error: latest.error, current, older, refresh: latest.refresh };
  return { detail: named.data, error: named.error, current, older, refresh: named.refresh };
}

/** An open run: the one that takes signals, updates, cancel and terminate. */
export function isOpen(d: ExecutionDetail): boolean {
  return d.status === 'running' || d.status === 'blocked';
}
