import type { Pool, PoolClient } from 'pg';
import { decode } from '../../common/codec.ts';
import { PerdureError, StoreFailedError } from '../../common/errors.ts';
import type { ShardFence } from './shard-fence.ts';
import type { PostgresShards } from './postgres-shards.ts';

/** What the parts of the PostgreSQL store share: the pool, the shard count and the fence. */
export interface StoreContext {
  pool: Pool;
  shardCount: number;
  fence: ShardFence;
  ownership: PostgresShards;
  /** Where the store is, for messages: the URL without its password, and the schema. */
  label: string;
  decode<T>(stored: Buffer, what: string): T;
}

/**
 * Decodes a stored value. Values other than history have no checksum of their own; one that does
 * not decode means the database holds damaged data (not that this process failed).
 */
export function decodeStored<T>(stored: Buffer, what: string, label: string): T {
  try {
    return decode(stored) as T;
  } catch (cause) {
    throw new StoreFailedError(
      `the stored ${what} in ${label} cannot be decoded (${cause instanceof Error ? cause.message : String(cause)}). ` +
        'The database holds damaged data: restore it from a backup.',
      { cause },
    );
  }
}

/**
 * Runs `work` in a transaction that first passes the fence of `shards` (shard-fence.ts):
 * ShardOwnershipLostError, and nothing written, when this node no longer holds one of them.
 * For the writes outside group commit (retention deletes, schedules).
 */
export async function inFencedTransaction<T>(context: StoreContext, shards: number[], work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await context.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const lost = await context.fence.check(client, shards);
    const [first] = lost.values();
    if (first) {
      await client.query('ROLLBACK');
      throw first;
    }
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (error instanceof PerdureError && error.code === 'SHARD_OWNERSHIP_LOST') throw error; // rolled back above
    broken = error instanceof Error ? error : new Error(String(error));
    await client.query('ROLLBACK').catch(() => {});
    throw asStoreError(error, context.label);
  } finally {
    client.release(broken);
  }
}

/**
 * A Perdure error as it is; anything else (a PostgreSQL error, a broken connection) as
 * StoreFailedError naming the database, so callers match on codes, never on pg's messages.
 */
export function asStoreError(error: unknown, label: string): Error {
  if (error instanceof PerdureError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreFailedError(`a call to ${label} failed (${message}). Check that the database is reachable and healthy.`, { cause: error });
}
