/**
 * Runs `count` workflows, `width` at a time, each by `one(id, n)` (which answers its latency in
 * ms), ids `<prefix>-<n>`: the load of the end-to-end benches. Answers every latency.
 *
 * @example
 * const latencies = await inPool(2000, 100, 'wf', (id, n) => startAndAwait(id, n));
 */
export async function inPool(count: number, width: number, prefix: string, one: (id: string, n: number) => Promise<number>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) {
      const n = next++;
      latencies.push(await one(`${prefix}-${n}`, n));
    }
  }));
  return latencies;
}
