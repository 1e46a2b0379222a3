import { describe, expect, it } from 'vitest';
import { BatchedLookup } from '../../../src/store/postgres/batched-lookup.ts';

/** A table of rows read by key, recording the keys of each query and answering when released. */
function table(rows: Record<string, number>) {
  const queries: string[][] = [];
  const pending: Array<() => void> = [];
  const read = (keys: string[]) => {
    queries.push(keys);
    return new Promise<Array<{ key: string; value: number }>>((resolve, reject) => {
      pending.push(() => (keys.includes('boom') ? reject(new Error('connection lost')) : resolve(keys.filter((k) => k in rows).map((key) => ({ key, value: rows[key]! })))));
    });
  };
  const releaseAll = async () => {
    while (pending.length > 0) pending.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { read, queries, releaseAll };
}

describe('BatchedLookup', () => {
  it('sends a lone lookup at once, and the lookups asked while it is out together in the next query', async () => {
    const t = table({ a: 1, b: 2, c: 3 });
    const lookup = new BatchedLookup(t.read, (row) => row.key, (key: string) => key, 1);
    const first = lookup.get('a');
    await Promise.resolve();
    expect(t.queries).toEqual([['a']]);
    const later = ['b', 'c', 'missing'].map((key) => lookup.get(key));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(t.queries).toEqual([['a']]); // waiting for the first one
    await t.releaseAll();
    expect(t.queries).toEqual([['a'], ['b', 'c', 'missing']]);
    await t.releaseAll();
    expect((await first)?.value).toBe(1);
    expect((await Promise.all(later)).map((row) => row?.value)).toEqual([2, 3, undefined]);
  });

  it('fails only the lookups of the query that failed', async () => {
    const t = table({ a: 1 });
    const lookup = new BatchedLookup(t.read, (row) => row.key, (key: string) => key, 1);
    const failed = lookup.get('boom').catch((error: unknown) => error);
    await Promise.resolve();
    const next = lookup.get('a');
    await t.releaseAll();
    await t.releaseAll();
    expect(await failed).toMatchObject({ message: 'connection lost' });
    expect((await next)?.value).toBe(1);
  });

  it('splits a queue longer than maxBatch over several queries', async () => {
    const t = table({});
    const lookup = new BatchedLookup(t.read, (row) => row.key, (key: string) => key, 2, 3);
    const all = Array.from({ length: 7 }, (_, i) => lookup.get(`k${i}`));
    await Promise.resolve();
    expect(t.queries.map((q) => q.length)).toEqual([3, 3]); // two in flight at most
    await t.releaseAll();
    await t.releaseAll();
    expect(t.queries.map((q) => q.length)).toEqual([3, 3, 1]);
    expect(await Promise.all(all)).toEqual(Array(7).fill(undefined));
  });
});
