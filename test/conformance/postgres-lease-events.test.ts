import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import type { LeaseEvent, LeaseLossReason } from '../../src/store/lease-events.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { PostgresShards } from '../../src/store/postgres/postgres-shards.ts';
import { fixtureRun, startRun } from '../../src/testing/store-fixtures.ts';
import { freshSchema, PG_TEST_URL, probePostgres } from '../helpers/postgres.ts';

// What a PostgreSQL store tells its lease observers (Store.observeLeases, read by the server's
// metrics): takes, renewals, hand-overs and losses by reason, on two nodes of one schema in this
// process with a short lease. The waits are for convergence, never timing assertions.

const postgres = await probePostgres();
const SHORT = { leaseMs: 1500, renewMs: 100 };
const wait = { timeout: 15_000, interval: 50 };

interface Observed {
  store: PostgresStore;
  shards(): PostgresShards;
  events: LeaseEvent[];
  /** Shards told for events of `kind` (and, for losses, `reason`). */
  count(kind: LeaseEvent['kind'], reason?: LeaseLossReason): number;
}

async function observed(schema: string, nodeId: string, stores: PostgresStore[]): Promise<Observed> {
  const store = new PostgresStore({ url: PG_TEST_URL, schema, poolSize: 3, nodeId, ...SHORT });
  stores.push(store);
  const events: LeaseEvent[] = [];
  store.observeLeases((event) => events.push(event)); // before open: the first take is told too
  store.observeLeases(() => {
    throw new Error('an observer that throws'); // ignored: the heartbeat goes on
  });
  await store.open();
  return {
    store, events,
    shards: () => store.shards() as PostgresShards,
    count: (kind, reason) => events.reduce((n, e) => {
      if (e.kind !== kind || (reason && e.kind === 'lost' && e.reason !== reason)) return n;
      return n + ('shards' in e ? e.shards : 1);
    }, 0),
  };
}

async function withSchema(body: (schema: string, stores: PostgresStore[]) => Promise<void>): Promise<void> {
  const schema = await freshSchema();
  const stores: PostgresStore[] = [];
  try {
    await body(schema.schema, stores);
  } finally {
    await Promise.all(stores.map((s) => s.close().catch(() => {})));
    await schema.drop();
  }
}

describe.skipIf(!postgres.available)(`PostgresStore lease events${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  it('tells the first take, the renewals, a hand-over to a joining node, and the losses of a node paused past its lease', () => withSchema(async (schema, stores) => {
    const a = await observed(schema, 'events-a', stores);
    expect(a.count('taken')).toBe(64);
    await vi.waitFor(() => expect(a.events.filter((e) => e.kind === 'renewed').length).toBeGreaterThanOrEqual(3), wait);

    const b = await observed(schema, 'events-b', stores);
    await vi.waitFor(() => expect([a.shards().held().size, b.shards().held().size]).toEqual([32, 32]), wait);
    expect(a.count('handedOver')).toBeGreaterThanOrEqual(32);
    expect(b.count('taken')).toBeGreaterThanOrEqual(32);

    // Paused past its lease (as SIGSTOP would): B takes everything; A's next commit to one of
    // those shards is refused by the fence, and once resumed it finds the rest lost.
    a.shards().pauseHeartbeat();
    await vi.waitFor(() => expect(b.shards().held().size).toBe(64), wait);
    const [shard] = a.shards().held().keys();
    const run = Array.from({ length: 1000 }, (_, i) => fixtureRun(`run-events-${i}`, { workflowId: `events-${i}` }))
      .find((r) => a.shards().shardOf('default', r.workflowId) === shard)!;
    await expect(startRun(a.store, run, 1)).rejects.toMatchObject({ code: 'SHARD_OWNERSHIP_LOST' });
    expect(a.count('lost', 'fence')).toBe(1);
    a.shards().resumeHeartbeat();
    await vi.waitFor(() => expect(a.count('lost', 'expired') + a.count('lost', 'renewal')).toBeGreaterThanOrEqual(31), wait);
    await vi.waitFor(() => expect([a.shards().held().size, b.shards().held().size]).toEqual([32, 32]), wait);
  }));

  it('tells renewals that fail, the shards lost when the lease is surely over, and stops telling when asked', () => withSchema(async (schema, stores) => {
    const a = await observed(schema, 'events-a', stores);
    const client = new pg.Client({ connectionString: PG_TEST_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query('ALTER TABLE nodes RENAME TO nodes_away'); // every heartbeat now fails
      await vi.waitFor(() => expect(a.count('lost', 'expired')).toBeGreaterThanOrEqual(64), wait);
      expect(a.count('renewalFailed')).toBeGreaterThan(0);
      await client.query('ALTER TABLE nodes_away RENAME TO nodes');
      await vi.waitFor(() => expect(a.count('taken')).toBeGreaterThanOrEqual(128), wait);
    } finally {
      await client.end();
    }
    const seen: LeaseEvent[] = [];
    const stop = a.store.observeLeases((event) => seen.push(event));
    await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0), wait);
    stop();
    const told = seen.length;
    const renewals = a.events.length;
    await vi.waitFor(() => expect(a.events.length).toBeGreaterThan(renewals + 2), wait);
    expect(seen.length).toBe(told);
  }));
});
