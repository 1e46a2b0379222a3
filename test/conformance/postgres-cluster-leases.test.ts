import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { PostgresShards } from '../../src/store/postgres/postgres-shards.ts';
import { resolvePostgresOptions } from '../../src/store/postgres/postgres-options.ts';
import { openSchema, SCHEMA_VERSION } from '../../src/store/postgres/schema.ts';
import type { ShardChange } from '../../src/store/shard-ownership.ts';
import { fixtureRun, startRun } from '../../src/testing/store-fixtures.ts';
import { freshSchema, PG_TEST_URL, probePostgres } from '../helpers/postgres.ts';

// Several PostgresStore nodes on one schema, in one process, with short leases: how shards are
// shared, handed over on close, taken from a node that stopped renewing (fenced by epoch), and
// kept through broken connections and a failing heartbeat. The waits are for convergence
// (vi.waitFor), never timing assertions.

const postgres = await probePostgres();

/** A short lease, so takeovers happen within a test, long enough that a loaded machine does not lapse it; renewed often, so shards settle fast. */
const SHORT = { leaseMs: 1500, renewMs: 100 };
const wait = { timeout: 10_000, interval: 50 };

interface Node {
  store: PostgresStore;
  shards: PostgresShards;
  /** What it held when open() resolved (gains of the first heartbeat are not told: no listener yet). */
  initial: ReadonlySet<number>;
  changes: ShardChange[];
  lost(): number[];
}

interface Cluster {
  schema: string;
  /** Opens a node: its store, its ownership and every change its listeners were told. */
  open(nodeId: string, options?: object): Promise<Node>;
  sql<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
}

async function withCluster(body: (cluster: Cluster) => Promise<void>): Promise<void> {
  const schema = await freshSchema();
  const stores: PostgresStore[] = [];
  const client = new pg.Client({ connectionString: PG_TEST_URL, options: `-c search_path=${schema.schema}` });
  await client.connect();
  try {
    await body({
      schema: schema.schema,
      async open(nodeId, options = {}) {
        const store = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 3, nodeId, ...SHORT, ...options });
        stores.push(store);
        await store.open();
        const shards = store.shards() as PostgresShards;
        const changes: ShardChange[] = [];
        shards.subscribe((change) => changes.push(change));
        return { store, shards, initial: new Set(shards.held().keys()), changes, lost: () => changes.flatMap((c) => c.lost) };
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

const sizes = (nodes: Node[]) => nodes.map((n) => n.shards.held().size);

/** Every shard held by exactly one of `nodes`, none twice, with the fair split of 64. */
function expectFairSplit(nodes: Node[], expected: number[]): void {
  expect([...sizes(nodes)].sort((a, b) => b - a)).toEqual(expected);
  const all = nodes.flatMap((n) => [...n.shards.held().keys()]);
  expect(new Set(all).size).toBe(64);
}

/** A run whose workflow id falls in `shard`. */
function runInShard(node: Node, shard: number, tag: string) {
  for (let i = 0; ; i++) {
    const workflowId = `${tag}-${i}`;
    if (node.shards.shardOf('default', workflowId) === shard) return fixtureRun(`run-${workflowId}`, { workflowId });
  }
}

async function epochs(cluster: Cluster): Promise<Map<number, number>> {
  const rows = await cluster.sql<{ shard: number; epoch: string }>('SELECT shard, epoch FROM shards');
  return new Map(rows.map((r) => [r.shard, Number(r.epoch)]));
}

describe('PostgresStore lease options', () => {
  it('defaults the lease to 10 s renewed every third of it, reads lease_ms and node_id from the URL, and refuses a renewal no shorter than the lease', () => {
    expect(resolvePostgresOptions({ url: 'postgres://h/db' })).toMatchObject({ leaseMs: 10_000, renewMs: 3333, nodeId: undefined });
    const fromUrl = resolvePostgresOptions({ url: 'postgres://h/db?lease_ms=3000&node_id=node-7' });
    expect(fromUrl).toMatchObject({ leaseMs: 3000, renewMs: 1000, nodeId: 'node-7' });
    expect(fromUrl.pool.connectionString).not.toMatch(/lease_ms|node_id/);
    expect(() => resolvePostgresOptions({ url: 'postgres://h/db', leaseMs: 1000, renewMs: 1000 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolvePostgresOptions({ url: 'postgres://h/db', leaseMs: 50 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe.skipIf(!postgres.available)(`PostgreSQL cluster leases${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  it('splits the shards fairly between two nodes, then three, and lists each node with its address and shards', () => withCluster(async (cluster) => {
    const a = await cluster.open('node-a', { address: '10.0.0.1:7001' });
    expect(a.shards.held().size).toBe(64); // alone: every shard right after open
    const b = await cluster.open('node-b');
    await b.store.setAddress('10.0.0.2:7002'); // the server knows its port once it listens
    await vi.waitFor(() => expectFairSplit([a, b], [32, 32]), wait);
    expect(a.lost()).toHaveLength(32); // what it handed over, told as lost
    // What it holds is what it had on open plus what it was told it gained (it lost none).
    expect([...b.initial, ...b.changes.flatMap((c) => c.gained)].sort((x, y) => x - y)).toEqual([...b.shards.held().keys()].sort((x, y) => x - y));
    expect(b.lost()).toEqual([]);

    const c = await cluster.open('node-c', { address: '10.0.0.3:7003' });
    await vi.waitFor(() => expectFairSplit([a, b, c], [22, 22, 20]), wait);

    const nodes = await c.shards.nodes();
    expect(nodes.map((n) => [n.nodeId, n.address])).toEqual([['node-a', '10.0.0.1:7001'], ['node-b', '10.0.0.2:7002'], ['node-c', '10.0.0.3:7003']]);
    for (const [node, info] of [[a, nodes[0]!], [b, nodes[1]!], [c, nodes[2]!]] as const) {
      expect(new Map(info.shards.map((s) => [s.shard, s.epoch]))).toEqual(new Map(node.shards.held()));
      expect(info.heartbeatAt).toBeGreaterThan(0);
    }
    const [shard] = b.shards.held().keys();
    expect(await a.shards.ownerOf(shard!)).toMatchObject({ nodeId: 'node-b', address: '10.0.0.2:7002' });
  }));

  it('gives shards up to a new node only after beforeRelease, while it still holds them, then tells them lost', () => withCluster(async (cluster) => {
    const drained: Array<{ shards: number[]; stillHeld: boolean }> = [];
    let a: Node | undefined;
    a = await cluster.open('node-a', {
      beforeRelease: async (shards: number[]) => {
        await new Promise((resolve) => setTimeout(resolve, 50)); // the engine draining
        drained.push({ shards, stillHeld: shards.every((s) => a!.shards.held().has(s)) });
      },
    });
    const b = await cluster.open('node-b');
    await vi.waitFor(() => expectFairSplit([a, b], [32, 32]), wait);
    expect(drained.flatMap((d) => d.shards).sort((x, y) => x - y)).toEqual(a.lost().sort((x, y) => x - y));
    expect(drained.every((d) => d.stillHeld)).toBe(true);
  }));

  it('hands a closed node\'s shards to the others at once, without waiting out its lease', () => withCluster(async (cluster) => {
    // A lease of a minute: a takeover within the wait below can only be the hand-over.
    const long = { leaseMs: 60_000, renewMs: 100 };
    const a = await cluster.open('node-a', long);
    const b = await cluster.open('node-b', long);
    const c = await cluster.open('node-c', long);
    await vi.waitFor(() => expectFairSplit([a, b, c], [22, 22, 20]), wait);
    const before = await epochs(cluster);
    const leaving = [...c.shards.held().keys()];
    await c.store.close();
    expect(c.lost().sort((x, y) => x - y)).toEqual(expect.arrayContaining(leaving)); // told on close
    expect(await cluster.sql('SELECT node_id FROM nodes ORDER BY node_id')).toEqual([{ node_id: 'node-a' }, { node_id: 'node-b' }]);
    await vi.waitFor(() => expectFairSplit([a, b], [32, 32]), wait);
    const after = await epochs(cluster);
    for (const shard of leaving) expect(after.get(shard)).toBeGreaterThan(before.get(shard)!);
  }));

  it('takes the shards of a node that stopped renewing after its lease, at a higher epoch, and refuses that node\'s commits to them', () => withCluster(async (cluster) => {
    const a = await cluster.open('node-a');
    const b = await cluster.open('node-b');
    await vi.waitFor(() => expectFairSplit([a, b], [32, 32]), wait);
    const [shard, epoch] = [...a.shards.held()][0]!;
    const run = await startRun(a.store, runInShard(a, shard, 'paused'), 1);
    const before = await epochs(cluster);

    a.shards.pauseHeartbeat(); // as SIGSTOP would: no renewal, no local lease timer
    await vi.waitFor(() => expect(b.shards.held().size).toBe(64), wait);
    expect(b.shards.held().get(shard)).toBeGreaterThan(epoch);
    expect(a.shards.held().get(shard)).toBe(epoch); // the paused node does not know yet

    const refused = { code: 'SHARD_OWNERSHIP_LOST', shard, owner: 'node-b' };
    await expect(startRun(a.store, runInShard(a, shard, 'after'), 1)).rejects.toMatchObject(refused);
    expect(a.lost()).toContain(shard); // the fence check told the listeners
    expect(a.shards.held().has(shard)).toBe(false);
    expect(await b.store.getRun(run.runId)).toEqual(run); // what it wrote before the pause stays

    a.shards.resumeHeartbeat(); // SIGCONT: its renewals fail, it drops the rest, then takes its share again
    await vi.waitFor(() => expectFairSplit([a, b], [32, 32]), wait);
    const after = await epochs(cluster);
    for (const [s, e] of before) expect(after.get(s)).toBeGreaterThanOrEqual(e); // epochs only grow
    expect([...after].filter(([s, e]) => e > before.get(s)!).length).toBeGreaterThanOrEqual(32);
  }));

  it('keeps or takes back its shards when its connections are terminated, and commits again', () => withCluster(async (cluster) => {
    const a = await cluster.open('node-a', { url: `${PG_TEST_URL}?application_name=perdure_node_a` });
    const b = await cluster.open('node-b');
    await vi.waitFor(() => expectFairSplit([a, b], [32, 32]), wait);
    let terminated = 0;
    for (let i = 0; i < 8; i++) {
      terminated += (await cluster.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'perdure_node_a'")).length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(terminated).toBeGreaterThan(0);
    await vi.waitFor(() => {
      expect(a.shards.leases.lastError).toBeUndefined();
      expectFairSplit([a, b], [32, 32]);
    }, wait);
    const [shard] = a.shards.held().keys();
    await startRun(a.store, runInShard(a, shard!, 'again'), 1);
  }));

  it('reports every shard lost once its lease is surely over while the heartbeat fails, and takes them back when it works again', () => withCluster(async (cluster) => {
    const a = await cluster.open('node-a');
    const held = new Map(a.shards.held());
    await cluster.sql('ALTER TABLE nodes RENAME TO nodes_away'); // every heartbeat now fails
    await vi.waitFor(() => expect(a.shards.held().size).toBe(0), wait);
    expect(a.shards.leases.lastError).toBeDefined();
    expect(a.lost().sort((x, y) => x - y)).toEqual([...held.keys()]);
    await cluster.sql('ALTER TABLE nodes_away RENAME TO nodes');
    await vi.waitFor(() => expect(a.shards.held().size).toBe(64), wait);
    for (const [shard, epoch] of a.shards.held()) expect(epoch).toBeGreaterThan(held.get(shard)!); // fenced the old epochs
  }));

  it('migrates a version-1 database: adds the nodes table and ends the infinite leases, whose epochs it bumps', async () => {
    const schema = await freshSchema();
    const pool = new pg.Pool({ connectionString: PG_TEST_URL, options: `-c search_path=${schema.schema}`, max: 1 });
    try {
      const client = await pool.connect();
      try {
        await openSchema(client, schema.schema, 8, 'test', 1);
        await client.query("UPDATE shards SET owner = 'v1-node', epoch = 3, lease_until = 'infinity'");
      } finally {
        client.release();
      }
      const store = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 2, nodeId: 'v2-node' });
      await store.open();
      try {
        const { rows } = await pool.query<{ version: number }>('SELECT version FROM schema_version ORDER BY version');
        expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
        expect(new Set(store.shards().held().values())).toEqual(new Set([4]));
        expect((await store.shards().nodes()).map((n) => n.nodeId)).toEqual(['v2-node']);
      } finally {
        await store.close();
      }
    } finally {
      await pool.end();
      await schema.drop();
    }
  });
});
