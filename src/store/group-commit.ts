import { StoreFailedError } from '../common/errors.ts';
import type { BatchObserver } from './store.ts';

// Re-exported for the backends' options; the type lives with the Store interface.
export type { BatchObserver };

/** One put or delete of a batch, as `db.batch()` takes it. */
export type BatchOperation =
  | { type: 'put'; key: string; value: Buffer }
  | { type: 'del'; key: string };

/** What the committer writes to: a ClassicLevel database fits. */
export interface BatchTarget {
  batch(operations: BatchOperation[], options: { sync: boolean }): Promise<void>;
}

interface Waiter {
  operations: BatchOperation[];
  resolve(): void;
  reject(error: StoreFailedError): void;
}

/**
 * Group commit: many callers share one durable write.
 *
 * ```
 * submit(A) ──► batch([A])            ── fsync ──► A resolves
 * submit(B) ─┐  (write in flight: queue)
 * submit(C) ─┴────────────────────────► batch([B, C]) ── fsync ──► B, C resolve
 * ```
 *
 * Each caller's operations stay together in one batch, so each caller's write is atomic; a
 * caller's promise resolves only once the batch holding it is durable (with `sync: true`).
 * Batches are written one at a time, in submission order, because LevelDB gives concurrent
 * batches no defined order.
 *
 * Fail-stop: after one failed write, that batch's callers and every later `submit` reject with
 * StoreFailedError. LevelDB keeps failing after a failed synced write anyway; refusing at once
 * says so clearly, and nothing is auto-repaired (`repair()` may drop data).
 *
 * @example
 * const committer = new GroupCommitter(db, { sync: true, label: '/var/lib/perdure' })
 * await committer.submit([{ type: 'put', key: 'run/r-1', value: bytes }])
 */
export class GroupCommitter {
  private queue: Waiter[] = [];
  private writing: Promise<void> | undefined;
  private failure: StoreFailedError | undefined;

  constructor(
    private readonly target: BatchTarget,
    private readonly options: { sync: boolean; label: string; onBatch?: BatchObserver },
  ) {}

  /** The failure that stopped this committer, if any. */
  get failed(): StoreFailedError | undefined {
    return this.failure;
  }

  /** Resolves when `operations` are durable, as one atomic part of a batch. */
  submit(operations: BatchOperation[]): Promise<void> {
    if (this.failure) return Promise.reject(this.stoppedError());
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ operations, resolve, reject });
      // Started on a microtask so submissions of the same tick share the first batch too.
      this.writing ??= Promise.resolve().then(() => this.writeAll());
    });
  }

  /** Resolves once everything submitted so far has been written (or refused). */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeAll(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const group = this.queue;
        this.queue = [];
        const operations = group.length === 1 ? group[0]!.operations : group.flatMap((w) => w.operations);
        try {
          const began = performance.now();
          await this.target.batch(operations, { sync: this.options.sync });
          this.options.onBatch?.({ commits: group.length, operations: operations.length, ms: performance.now() - began });
        } catch (cause) {
          this.failure = new StoreFailedError(
            `a write to the data directory "${this.options.label}" failed (${describe(cause)}). ` +
              'The store refuses every later write until the server restarts (fail-stop: freeing disk space is not enough, ' +
              'LevelDB writes again only once reopened), and /healthz answers 503 so an orchestrator can restart it. ' +
              'Everything acknowledged before is intact.',
            { cause },
          );
          for (const waiter of group) waiter.reject(this.failure);
          break;
        }
        for (const waiter of group) waiter.resolve();
      }
      if (this.failure) {
        for (const waiter of this.queue) waiter.reject(this.stoppedError());
        this.queue = [];
      }
    } finally {
      this.writing = undefined;
    }
  }

  private stoppedError(): StoreFailedError {
    return new StoreFailedError(
      `the store of "${this.options.label}" stopped after a failed write and takes no more writes until the server restarts ` +
        '(fail-stop: freeing disk space is not enough). Check disk space and permissions, then restart the server; ' +
        'everything acknowledged before is intact.',
      { cause: this.failure },
    );
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
