import { InvalidArgumentError } from '../common/errors.ts';
import { MAX_KEYWORD_LENGTH, SEARCH_ATTRIBUTE_NAME } from '../common/search-attributes.ts';
import type { RunCommit } from './store.ts';

/**
 * Checks what a commit says about itself, before the store looks at what is stored:
 * the events continue `previousLastSeq` without a gap, `run.lastSeq` is the last of them, and its
 * search attributes can be indexed.
 * (The store then checks `previousLastSeq` against the stored history.)
 *
 * @throws InvalidArgumentError naming the run and the first thing that is wrong.
 * @example
 * validateCommit({ run, previousLastSeq: 0, events: [{ seq: 1, at, kind: 'WorkflowStarted', … }] })
 */
export function validateCommit(commit: RunCommit): void {
  const { run, previousLastSeq, events } = commit;
  const refuse = (why: string): never => {
    throw new InvalidArgumentError(`commit of run "${run?.runId}" refused: ${why}`);
  };
  if (!run || typeof run.runId !== 'string' || run.runId === '') refuse('run.runId must be a non-empty string.');
  if (typeof run.namespace !== 'string' || typeof run.workflowId !== 'string') {
    refuse('run.namespace and run.workflowId must be strings.');
  }
  if (!Number.isSafeInteger(previousLastSeq) || previousLastSeq < 0) {
    refuse(`previousLastSeq must be a non-negative integer, got ${previousLastSeq}.`);
  }
  if (!Array.isArray(events)) refuse('events must be an array.');
  // A run begins with its first event; later commits may only update the record.
  if (previousLastSeq === 0 && events.length === 0) refuse('the first commit of a run must append its first event.');
  events.forEach((event, i) => {
    const expected = previousLastSeq + 1 + i;
    if (event?.seq !== expected) {
      refuse(`event #${i} has seq ${event?.seq}, expected ${expected} (history must continue without a gap).`);
    }
  });
  const lastSeq = previousLastSeq + events.length;
  if (run.lastSeq !== lastSeq) refuse(`run.lastSeq is ${run.lastSeq}, but its last event is #${lastSeq}.`);
  const attributes: unknown = run.searchAttributes;
  if (attributes === undefined) return;
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) refuse('run.searchAttributes must be an object.');
  for (const [name, value] of Object.entries(attributes as object)) {
    if (!SEARCH_ATTRIBUTE_NAME.test(name)) refuse(`search attribute name ${JSON.stringify(name)} is not an identifier of at most 64 characters.`);
    const ok = typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
      || (typeof value === 'string' && value.length <= MAX_KEYWORD_LENGTH);
    if (!ok) refuse(`search attribute "${name}" must be a string of at most ${MAX_KEYWORD_LENGTH} characters, a finite number or a boolean, got ${JSON.stringify(value)}.`);
  }
}
