import { CommitConflictError } from '../common/errors.ts';
import type { ExecutionStatus } from '../common/history.ts';

/**
 * The error of a commit that does not continue its run as stored, said the same way by every
 * backend: where the commit meant to continue from, so the message shows which writer was late.
 * A backend's `_commit` rejects with it (checked-store.ts); it is a conflict (COMMIT_CONFLICT),
 * never INVALID_ARGUMENT: the commit was well formed, only overtaken.
 *
 * @example
 * if (storedLastSeq !== commit.previousLastSeq) throw staleCommit(commit.run.runId, commit)
 */
export function staleCommit(runId: string, commit: { previousLastSeq: number; previousStatus?: ExecutionStatus }): CommitConflictError {
  if (commit.previousLastSeq === 0) return new CommitConflictError(runId, 'it is a first commit, but the run already exists');
  const from = commit.previousStatus === undefined ? '' : ` from status "${commit.previousStatus}"`;
  return new CommitConflictError(runId, `it continues the run after event #${commit.previousLastSeq}${from}, but the stored run does not end there`);
}
