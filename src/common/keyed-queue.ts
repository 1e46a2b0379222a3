/**
 * Jobs run one at a time per key, in the order given; jobs of different keys run concurrently.
 * A failed job does not stop the ones queued behind it. The one way Perdure serialises work per
 * thing: a workflow id's starts (RunStarter), each run's commits and deletes in every store
 * (CheckedStore), each schedule's work (ScheduleService). (A closed run's outbox removals are
 * serialised by its ClosedRun actor.)
 *
 * @example
 * const queue = new KeyedQueue();
 * void queue.run('default\u0000nightly', () => takeDueActions());
 * await queue.idle();
 */
export class KeyedQueue {
  /**
   * The key of a thing named by several parts (a namespace and a workflow id, say): joined by a
   * character no name can hold, so ('a', 'b/c') and ('a/b', 'c') stay two keys.
   */
  static key(...parts: string[]): string {
    return parts.join('\u0000');
  }

  /** Per key, the tail of its queue; removed once the queue is empty. */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `job` after every earlier job of `key`; resolves or rejects with it. */
  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(key) ?? Promise.resolve()).catch(() => {}).then(job);
    this.tails.set(key, run);
    void run.catch(() => {}).then(() => {
      if (this.tails.get(key) === run) this.tails.delete(key);
    });
    return run;
  }

  /** True while some key has a job running or queued. */
  get busy(): boolean {
    return this.tails.size > 0;
  }

  /** Resolves once no key has a job running or queued (including jobs queued meanwhile). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()]);
  }
}
