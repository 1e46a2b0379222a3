import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { PostgresShards } from '../../src/store/postgres/postgres-shards.ts';
import { resolvePostgresOptions } from '../../src/store/postgres/postgres-options.ts';
import { SCHEMA_VERSION } from '../../src/store/postgres/schema.ts';
import type { BatchObserver } from '../../src/store/store.ts';
import { fixtureSchedule } from '../../src/testing/schedule-store-conformance.ts';
import { appendRun, fixtureEvents, fixtureRun, startRun, T0 } from '../../src/testing/store-fixtures.ts';
import { freshSchema, PG_TEST_URL, probePostgres, type TestSchema } from '../helpers/postgres.ts';

// What only the PostgreSQL store has to say: its schema and its version, the shard fence,
// corruption of one row, and group commit.
// The behaviour it shares with LevelDB is in the conformance suite (postgres-store.test.ts).

const postgres = await probePostgres();

/** A fresh schema, a store open on it, and SQL on that schema; all dropped after `body`. */
async function withSchema(body: (ctx: { schema: TestSchema; open(options?: object): Promise<PostgresStore>; sql<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> }) => Promise<void>): Promise<void> {
  const schema = await freshSchema();
  const stores: PostgresStore[] = [];
  const client = new pg.Client({ connectionString: PG_TEST_URL, options: `-c search_path=${schema.schema}` });
  await client.connect();
  try {
    await body({
      schema,
      async open(options = {}) {
        const store = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 3, ...options });
        stores.push(store);
        await store.open();
        return store;
      },
      async sql(text, values) {
        return (await client.query(text, values)).rows;
      },
    });
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await client.end();
    await schema.drop();
  }
}

describe('PostgresStore options', () => {
  it('reads schema, pool size and statement timeout from the URL, and keeps the password out of its label', () => {
    const resolved = resolvePostgresOptions({ url: 'postgres://perdure:s3cret@db.internal:5433/app?schema=tenant_a&pool_size=4&statement_timeout=2500&sslmode=require' });
    expect(resolved.schema).toBe('tenant_a');
    expect(resolved.pool).toMatchObject({ max: 4, statement_timeout: 2500, options: '-c search_path=tenant_a' });
    expect(resolved.pool.connectionString).toContain('sslmode=require');
    expect(resolved.pool.connectionString).not.toContain('schema=');
    expect(resolved.label).not.toContain('s3cret');
    expect(resolvePostgresOptions({ url: 'postgres://h/db?pool_size=4', poolSize: 9 }).pool.max).toBe(9); // options win over the URL
    expect(resolvePostgresOptions({ url: 'postgres://h/db', ssl: { rejectUnauthorized: false } }).pool.ssl).toEqual({ rejectUnauthorized: false });
  });

  it('refuses a URL that is not PostgreSQL\'s, a schema that is not a plain identifier, and a pool of none', () => {
    const refused = { code: 'INVALID_ARGUMENT' };
    expect(() => resolvePostgresOptions({ url: 'mysql://h/db' })).toThrow(expect.objectContaining(refused));
    expect(() => resolvePostgresOptions({ url: 'postgres://h/db', schema: 'x; DROP TABLE runs' })).toThrow(expect.objectContaining(refused));
    expect(() => resolvePostgresOptions({ url: 'postgres://h/db', poolSize: 0 })).toThrow(expect.objectContaining(refused));
  });
});

describe.skipIf(!postgres.available)(`PostgresStore on a real database${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  it('creates its schema on first open at the current version, with 64 shards all taken by this node', () => withSchema(async ({ open, sql }) => {
    const store = await open();
    const versions = Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 }));
    expect(await sql('SELECT version FROM schema_version ORDER BY version')).toEqual(versions);
    expect(store.shardCount).toBe(64);
    const shards = await sql<{ owner: string; epoch: string }>('SELECT owner, epoch FROM shards ORDER BY shard');
    expect(shards).toHaveLength(64);
    expect(new Set(shards.map((s) => `${s.owner}@${s.epoch}`))).toEqual(new Set([`${store.nodeId}@1`]));
    await store.close();
    // A clean close gives the shards up; the next open takes them at the next epoch.
    expect(new Set((await sql<{ owner: string | null }>('SELECT owner FROM shards')).map((s) => s.owner))).toEqual(new Set([null]));
    const again = await open();
    expect(new Set((await sql<{ epoch: string }>('SELECT epoch FROM shards')).map((s) => Number(s.epoch)))).toEqual(new Set([2]));
    expect(await sql('SELECT version FROM schema_version ORDER BY version')).toEqual(versions); // migrated once
    await again.close();
  }));

  it('refuses a database of a newer schema version with STORE_SCHEMA_TOO_NEW, and another shard count with INVALID_ARGUMENT', () => withSchema(async ({ open, sql }) => {
    await (await open({ shardCount: 8 })).close();
    await expect(open({ shardCount: 16 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/initialised with 8 shards/) });
    const store = await open(); // without a shard count: the database's
    expect(store.shardCount).toBe(8);
    await store.close();
    await sql('INSERT INTO schema_version (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
    await expect(open()).rejects.toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW', found: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION });
  }));

  it('fences a node whose shards another took: its writes are refused with SHARD_OWNERSHIP_LOST and leave nothing', () => withSchema(async ({ open }) => {
    const lease = { leaseMs: 1000, renewMs: 100 };
    const first = await open({ nodeId: 'node-a', ...lease });
    const run = await startRun(first, fixtureRun('r-1'), 1);
    await first.putSchedule(fixtureSchedule('default', 'nightly'));
    (first.shards() as PostgresShards).pauseHeartbeat(); // as if stopped: its leases run out
    const second = await open({ nodeId: 'node-b', ...lease });
    await vi.waitFor(() => expect(second.shards().held().size).toBe(64), { timeout: 5000, interval: 50 }); // every epoch bumped
    const lost = { code: 'SHARD_OWNERSHIP_LOST', owner: 'node-b' };
    await expect(appendRun(first, run, 1)).rejects.toMatchObject(lost);
    await expect(startRun(first, fixtureRun('r-2'), 1)).rejects.toMatchObject({ code: 'SHARD_OWNERSHIP_LOST' });
    await expect(first.putSchedule(fixtureSchedule('default', 'nightly', { updatedAt: T0 + 99 }))).rejects.toMatchObject({ code: 'SHARD_OWNERSHIP_LOST' });
    await expect(first.deleteSchedule('default', 'nightly')).rejects.toMatchObject({ code: 'SHARD_OWNERSHIP_LOST' });
    expect(await second.getRun('r-1')).toEqual(run);
    expect((await second.readHistory('r-1')).map((e) => e.seq)).toEqual([1]);
    expect(await second.getRun('r-2')).toBeUndefined();
    expect(await second.getSchedule('default', 'nightly')).toEqual(fixtureSchedule('default', 'nightly'));
    // The new owner goes on from where the run really is.
    await appendRun(second, run, 1);
    expect((await second.readHistory('r-1')).map((e) => e.seq)).toEqual([1, 2]);
  }));

  it('reports a corrupted or missing history row for its execution alone', () => withSchema(async ({ open, sql }) => {
    const store = await open();
    await startRun(store, fixtureRun('r-1'), 3);
    const healthy = await startRun(store, fixtureRun('r-2'), 3);
    await sql("UPDATE history SET event = overlay(event placing '\\xff'::bytea from 8 for 1) WHERE run_id = 'r-1' AND seq = 2");
    await expect(store.readHistory('r-1')).rejects.toMatchObject({ code: 'HISTORY_CORRUPTED', runId: 'r-1', seq: 2 });
    expect(await store.readHistory('r-1', { fromSeq: 3 })).toHaveLength(1);
    expect(await store.readHistory('r-2')).toEqual(fixtureEvents(1, 3, healthy));
    await sql("DELETE FROM history WHERE run_id = 'r-2' AND seq = 2");
    await expect(store.readHistory('r-2')).rejects.toMatchObject({ code: 'HISTORY_CORRUPTED', runId: 'r-2', seq: 2 });
  }));

  it('writes the commits of many runs that arrive together in one transaction, refusing a stale one alone', () => withSchema(async ({ open }) => {
    const batches: Array<Parameters<BatchObserver>[0]> = [];
    const store = await open({ onBatch: (batch: Parameters<BatchObserver>[0]) => batches.push(batch) });
    const first = await startRun(store, fixtureRun('r-stale'), 2);
    batches.length = 0;
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 50 }, (_, i) => startRun(store, fixtureRun(`r-${i}`, { startedAt: T0 + i }), 2, { timers: { put: [{ runId: `r-${i}`, id: 't', dueAt: T0 + i, kind: 'timer' }] } })),
      store.commit({ run: { ...first, lastSeq: 2 }, previousLastSeq: 1, previousStatus: 'running', events: fixtureEvents(2, 1) }), // stale: history ends at #2
    ]);
    expect(outcomes.slice(0, 50).every((o) => o.status === 'fulfilled')).toBe(true);
    expect(outcomes[50]).toMatchObject({ status: 'rejected', reason: { code: 'COMMIT_CONFLICT' } });
    expect(batches.length).toBeLessThan(51);
    expect(Math.max(...batches.map((b) => b.commits))).toBeGreaterThan(1);
    expect(await store.countRuns({ namespace: 'default' })).toEqual({ count: 51 });
    expect(await store.listDueTimers(T0 + 100, 100)).toHaveLength(50);
    expect((await store.readHistory('r-stale')).map((e) => e.seq)).toEqual([1, 2]);
  }));
});
