/**
 * What a start does when its workflow id is taken. Two questions, asked in this order after an
 * idempotency key has had its say (a repeated key always returns the run it made):
 *
 * ```
 *  latest run of the id │ policy asked          │ default
 * ──────────────────────┼───────────────────────┼──────────────────────────────────────────
 *  none                 │ —                     │ start
 *  open (or blocked)    │ conflictPolicy        │ 'fail'  → EXECUTION_ALREADY_STARTED
 *  closed               │ idReusePolicy         │ 'allow' → start a new run
 * ```
 *
 * @example
 * await engine.start('approval', { workflowId: 'a-1', idReusePolicy: 'allowIfFailed', conflictPolicy: 'useExisting' });
 */
export const ID_REUSE_POLICIES = ['allow', 'allowIfFailed', 'reject'] as const;

/**
 * For a workflow id whose latest run is closed: `allow` (default) starts a new run;
 * `allowIfFailed` only when that run failed, was canceled or was terminated (not completed);
 * `reject` never (WORKFLOW_ID_REUSE_REJECTED).
 */
export type IdReusePolicy = (typeof ID_REUSE_POLICIES)[number];

export const CONFLICT_POLICIES = ['fail', 'useExisting', 'terminateExisting'] as const;

/**
 * For a workflow id with an open run: `fail` (default) rejects with EXECUTION_ALREADY_STARTED;
 * `useExisting` returns the open run (`started: false`); `terminateExisting` terminates it, with
 * a reason naming the new run, then starts.
 */
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
