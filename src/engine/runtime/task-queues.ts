/**
 * The attempts waiting for a worker, per task queue, in arrival order (a Map keeps insertion
 * order), by task key: adding one, and taking it out when it is cancelled, rescheduled or
 * started, is O(1) whatever the backlog.
 *
 * @example
 * const queues = new TaskQueues<Waiting>();
 * queues.add('default\0orders', 'run-1/charge', waiting);
 * for (const [key, w] of queues.in('default\0orders')) if (canStart(w)) queues.take(key);
 */
export class TaskQueues<Waiting> {
  private readonly queues = new Map<string, Map<string, Waiting>>();
  /** The queue each waiting attempt is in, by task key. */
  private readonly queueOf = new Map<string, string>();

  add(queue: string, key: string, waiting: Waiting): void {
    const list = this.queues.get(queue) ?? new Map<string, Waiting>();
    list.set(key, waiting);
    this.queues.set(queue, list);
    this.queueOf.set(key, queue);
  }

  /** Takes the attempt of `key` out of its queue; undefined when none waits. */
  take(key: string): Waiting | undefined {
    const queue = this.queueOf.get(key);
    if (queue === undefined) return undefined;
    const list = this.queues.get(queue)!;
    const waiting = list.get(key);
    list.delete(key);
    this.queueOf.delete(key);
    return waiting;
  }

  /** One queue's waiting attempts, oldest first; taking the one being visited is safe. */
  in(queue: string): ReadonlyMap<string, Waiting> {
    return this.queues.get(queue) ?? EMPTY;
  }

  /** The keys of every waiting attempt. */
  keys(): IterableIterator<string> {
    return this.queueOf.keys();
  }

  /** How many wait, per queue. */
  sizes(): Record<string, number> {
    return Object.fromEntries([...this.queues].map(([queue, list]) => [queue, list.size]));
  }

  /** Empties every queue, answering what waited. */
  clear(): Waiting[] {
    const all = [...this.queues.values()].flatMap((list) => [...list.values()]);
    this.queues.clear();
    this.queueOf.clear();
    return all;
  }
}

const EMPTY = new Map<string, never>();
