/**
 * The last few entries set, by key, in the order they were last set: the oldest leaves when a
 * new one would exceed the capacity. LevelStore keeps where each recently committed run's
 * history ends in one, so a commit of a busy run needs no read; the bound keeps an open run the
 * engine passivated (idle for hours, waiting on a signal) from holding memory here for ever.
 *
 * @example
 * const tails = new TailCache<number>(2);
 * tails.set('a', 1); tails.set('b', 2); tails.set('c', 3);
 * tails.get('a'); // undefined: the least recently set left
 */
export class TailCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`TailCache capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: T): void {
    // Deleted first, so that the key moves to the end of the Map's insertion order.
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
