import { crc32 } from './checksum.ts';

/** Shards of a database initialised without saying otherwise (docs/cluster.md: sizing). */
export const DEFAULT_SHARD_COUNT = 64;

/**
 * The shard an execution (or a schedule) belongs to: `crc32(namespace, id) mod shardCount`.
 * Stable across processes, versions and machines — it decides where rows live, so it must never
 * change for a database once written. The two parts are length-prefixed, so `("a", "b/c")` and
 * `("a/b", "c")` hash apart.
 *
 * @example
 * shardOf('default', 'order-42', 64) // an integer in 0..63
 */
export function shardOf(namespace: string, id: string, shardCount: number): number {
  const bytes = Buffer.from(`${namespace.length}:${namespace}${id}`, 'utf8');
  return crc32(bytes) % shardCount;
}
