import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { Client } from '../../src/client/index.ts';
import type { ClusterStatus } from '../../src/hub/cluster-routes.ts';
import { createServer, type PerdureServer } from '../../src/server/create-server.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { eventually } from '../helpers/engine.ts';
import { freshSchema, PG_TEST_URL, probePostgres, type TestSchema } from '../helpers/postgres.ts';
import { sample, scrape } from '../helpers/prometheus.ts';

// The cluster's metrics on /metrics, per node: shards owned, lease takes, renewals, hand-overs,
// calls forwarded to a shard's owner, and the size of each commit transaction. LevelDB is a
// cluster of one node: one shard owned, nothing leased, nothing forwarded.

const postgres = await probePostgres();
const LEASE_MS = 1_500;
const SHARDS = 8;
const workflows = [approvalWorkflow];
const approval = { request: 'laptop', timeoutMs: 3_600_000 };

const servers: PerdureServer[] = [];
const clients: Client[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function connect(server: PerdureServer): Promise<Client> {
  const client = await Client.connect({ address: server.wsUrl });
  clients.push(client);
  return client;
}

describe('cluster metrics on LevelDB', () => {
  it('shows the one shard owned, no lease or forwarding figures, and commit batches with their operations', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'perdure-metrics-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const server = await createServer({ workflows, dataDir, durability: 'os', port: 0, logger: false });
    servers.push(server);
    await (await connect(server)).start('approval', { workflowId: 'm-level', input: approval });
    const samples = await eventually(async () => {
      const s = await scrape(server.url);
      return sample(s, 'perdure_commit_batch_operations_count') > 0 ? s : undefined;
    });
    expect(sample(samples, 'perdure_shards_owned')).toBe(1);
    expect(sample(samples, 'perdure_shards_total')).toBe(1);
    expect(sample(samples, 'perdure_shard_lease_renewals_total')).toBe(0);
    expect(sample(samples, 'perdure_shard_lease_takes_total')).toBe(0);
    expect([...samples.keys()].some((k) => k.startsWith('perdure_forwarded_requests_total'))).toBe(false);
    expect(sample(samples, 'perdure_commit_batch_operations_sum')).toBeGreaterThanOrEqual(sample(samples, 'perdure_commit_batch_size_sum'));
  });
});

describe.skipIf(!postgres.available)(`cluster metrics on PostgreSQL${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  let schema: TestSchema;

  async function node(name: string): Promise<PerdureServer> {
    const store = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, nodeId: name, leaseMs: LEASE_MS, shardCount: SHARDS, poolSize: 4 });
    const server = await createServer({ workflows, store, port: 0, logger: false });
    servers.push(server);
    return server;
  }

  async function fresh(): Promise<void> {
    schema = await freshSchema();
    cleanups.push(() => schema.drop());
  }

  it('shows one node owning every shard, its renewals growing, and commit transactions with their rows', async () => {
    await fresh();
    const a = await node('metrics-a');
    const first = await eventually(async () => {
      const s = await scrape(a.url);
      return sample(s, 'perdure_shards_owned') === SHARDS ? s : undefined;
    });
    expect(sample(first, 'perdure_shards_total')).toBe(SHARDS);
    // At least: a heartbeat late on a loaded machine may lose a lease and take the shard again.
    expect(sample(first, 'perdure_shard_lease_takes_total')).toBeGreaterThanOrEqual(SHARDS);
    // Renewals go on with the heartbeat (a third of the lease): wait for more, never for a time.
    const renewals = sample(first, 'perdure_shard_lease_renewals_total');
    await eventually(async () => (sample(await scrape(a.url), 'perdure_shard_lease_renewals_total') >= renewals + 2 ? true : undefined), 20_000);

    await (await connect(a)).start('approval', { workflowId: 'm-pg', input: approval });
    const after = await eventually(async () => {
      const s = await scrape(a.url);
      return sample(s, 'perdure_commit_batch_size_count') > 0 ? s : undefined;
    });
    // One transaction's rows: the run, its events, its timer: more rows than commits.
    expect(sample(after, 'perdure_commit_batch_operations_sum')).toBeGreaterThan(sample(after, 'perdure_commit_batch_size_sum'));
    expect(sample(after, 'perdure_commit_batch_seconds_count')).toBe(sample(after, 'perdure_commit_batch_size_count'));
  });

  it('counts a call through the node that does not own the execution as forwarded, and the shards handed over to a joining node', async () => {
    await fresh();
    const a = await node('metrics-a');
    const b = await node('metrics-b');
    const even = await eventually(async () => {
      const s = (await (await fetch(`${b.url}/api/v1/cluster`)).json()) as ClusterStatus;
      return s.nodes.length === 2 && s.unowned.length === 0 && s.nodes.every((n) => n.shards.length === SHARDS / 2) ? s : undefined;
    }, 20_000);
    const ofB = new Set(even.nodes.find((n) => n.nodeId === 'metrics-b')!.shards.map((s) => s.shard));
    expect(sample(await scrape(a.url), 'perdure_shard_lease_handovers_total')).toBeGreaterThanOrEqual(SHARDS / 2);
    await eventually(async () => (sample(await scrape(b.url), 'perdure_shards_owned') === SHARDS / 2 ? true : undefined));

    // A workflow id in one of B's shards, started and signalled through A.
    const shards = a.engine.store.shards();
    const workflowId = Array.from({ length: 200 }, (_, i) => `m-fwd-${i}`).find((id) => ofB.has(shards.shardOf('default', id)))!;
    const viaA = await connect(a);
    await viaA.start('approval', { workflowId, input: approval });
    await viaA.getHandle(workflowId).signal({ type: 'APPROVE', approver: 'ann' });
    // At least once each: a call refused by a node that just let the shard go is sent again.
    const forwarded = await scrape(a.url);
    expect(sample(forwarded, 'perdure_forwarded_requests_total', { op: 'start', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(forwarded, 'perdure_forwarded_requests_total', { op: 'signal', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(forwarded, 'perdure_forwarded_request_seconds_count', { op: 'start' })).toBeGreaterThanOrEqual(1);
    // B ran them itself: nothing forwarded there.
    expect(sample(await scrape(b.url), 'perdure_forwarded_requests_total', { op: 'start', outcome: 'ok' })).toBe(0);
  });
});
