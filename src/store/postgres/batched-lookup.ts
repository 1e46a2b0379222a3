/**
 * Point reads that share one query, as commits share one transaction (pg-group-commit.ts): the
 * first lookup goes at once; those asked for while `maxInFlight` queries are out wait, and go
 * together in the next one. Alone, a lookup costs one round trip as before; under load, a
 * hundred starts that each ask "is this workflow id taken?" cost a few queries instead of a
 * hundred round trips (each of which wakes a database backend: on the 2-core machine of
 * docs/cluster.md, sending them was a fifth of the server's time).
 *
 * A lookup is answered by a query that starts after it was asked, so it never sees older data
 * than a query of its own would have.
 *
 * @example
 * const runs = new BatchedLookup<string, Row>((ids) => pool.query(…ANY($1)…), (row) => row.id, 2)
 * await runs.get('r-1') // the row, or undefined
 */
export class BatchedLookup<K, V> {
  private queue: Array<{ key: K; resolve(value: V | undefined): void; reject(error: unknown): void }> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Reads the rows of `keys` (in any order; missing keys have no row). */
    private readonly read: (keys: K[]) => Promise<V[]>,
    /** The key a row answers, compared as a string. */
    private readonly keyOf: (row: V) => string,
    /** How a key is compared with `keyOf`'s. */
    private readonly keyString: (key: K) => string,
    private readonly maxInFlight: number,
    /** Keys per query, at most. */
    private readonly maxBatch = 500,
  ) {}

  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // On a microtask, so that the lookups of the same tick share the first query.
      queueMicrotask(() => {
        this.scheduled = false;
        this.pump();
      });
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.read(group.map((w) => w.key)).then(
        (rows) => {
          const byKey = new Map(rows.map((row) => [this.keyOf(row), row]));
          for (const waiter of group) waiter.resolve(byKey.get(this.keyString(waiter.key)));
        },
        (error: unknown) => {
          for (const waiter of group) waiter.reject(error);
        },
      ).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}
