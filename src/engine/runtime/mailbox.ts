/**
 * A FIFO of async jobs run strictly one at a time: an execution's events are applied in order,
 * never concurrently, whatever the callers do.
 */
export class Mailbox {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Runs `job` after every job enqueued before it; resolves or rejects with its result. */
  enqueue<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.tail.then(job);
    this.tail = run.then(() => this.pending--, () => this.pending--);
    return run;
  }

  get idle(): boolean {
    return this.pending === 0;
  }
}
