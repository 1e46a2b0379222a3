import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { freshSchema, PG_TEST_URL, probePostgres } from '../helpers/postgres.ts';

// The split brain of issue 10 at the store's level, with a real stopped process: a node (a child
// process, test/fixtures/lease-node-main.ts) is SIGSTOPped past its lease, another node takes its
// shards at higher epochs; after SIGCONT its commit to such a shard is refused, it reports the
// shard lost, and it then rejoins for its fair share.

const postgres = await probePostgres();
const MAIN = fileURLToPath(new URL('../fixtures/lease-node-main.ts', import.meta.url));
const LEASE = { leaseMs: 1500, renewMs: 100 };
const wait = { timeout: 15_000, interval: 50 };

interface Line { event: string; held?: [number, number][]; gained?: number[]; lost?: number[]; workflowId?: string; ok?: boolean; code?: string }

function startNode(args: object): { child: ChildProcess; lines: Line[]; send(command: object): void; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as Line);
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then((code) => { if (code !== 0 && code !== null) console.error(`lease node exited ${code}: ${err}`); });
  return { child, lines, send: (command) => child.stdin!.write(`${JSON.stringify(command)}\n`), exited };
}

describe.skipIf(!postgres.available)(`PostgreSQL cluster leases across processes${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  it('fences a SIGSTOPped node past its lease: another takes its shards at higher epochs, its commit after SIGCONT is refused, and it rejoins', async () => {
    const schema = await freshSchema();
    const node = startNode({ url: PG_TEST_URL, schema: schema.schema, nodeId: 'node-stopped', ...LEASE });
    let other: PostgresStore | undefined;
    try {
      await vi.waitFor(() => expect(node.lines.find((l) => l.event === 'open')?.held).toHaveLength(64), wait);
      other = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 3, nodeId: 'node-other', ...LEASE });
      await other.open();
      const shards = other.shards();
      await vi.waitFor(() => expect(shards.held().size).toBe(32), wait);

      node.send({ cmd: 'held' });
      await vi.waitFor(() => expect(node.lines.some((l) => l.event === 'held')).toBe(true), wait);
      const held = new Map(node.lines.find((l) => l.event === 'held')!.held!);
      const [shard, epoch] = [...held].find(([s]) => !shards.held().has(s))!;
      let workflowId = '';
      for (let i = 0; shards.shardOf('default', workflowId) !== shard || workflowId === ''; i++) workflowId = `stopped-${i}`;

      node.child.kill('SIGSTOP');
      await vi.waitFor(() => expect(shards.held().size).toBe(64), wait);
      expect(shards.held().get(shard)).toBeGreaterThan(epoch);

      node.child.kill('SIGCONT');
      node.send({ cmd: 'commit', workflowId });
      await vi.waitFor(() => expect(node.lines.find((l) => l.event === 'commit')).toBeDefined(), wait);
      expect(node.lines.find((l) => l.event === 'commit')).toMatchObject({ ok: false, code: 'SHARD_OWNERSHIP_LOST' });
      expect(node.lines.filter((l) => l.event === 'change').flatMap((l) => l.lost!)).toContain(shard);
      expect(await other.getRun(`run-${workflowId}`)).toBeUndefined(); // nothing of the refused commit was written

      await vi.waitFor(() => expect(shards.held().size).toBe(32), wait); // rejoined for its fair share
      node.send({ cmd: 'close' });
      expect(await node.exited).toBe(0);
      await vi.waitFor(() => expect(shards.held().size).toBe(64), wait);
    } finally {
      if (node.child.exitCode === null) {
        node.child.kill('SIGKILL');
        await node.exited;
      }
      await other?.close();
      await schema.drop();
    }
  }, 60_000);

  it('takes every shard of a SIGKILLed node after its lease, at higher epochs, and drops it from the live nodes', async () => {
    const schema = await freshSchema();
    const node = startNode({ url: PG_TEST_URL, schema: schema.schema, nodeId: 'node-killed', ...LEASE });
    let other: PostgresStore | undefined;
    try {
      await vi.waitFor(() => expect(node.lines.find((l) => l.event === 'open')?.held).toHaveLength(64), wait);
      other = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 3, nodeId: 'node-other', ...LEASE });
      await other.open();
      const shards = other.shards();
      await vi.waitFor(() => expect(shards.held().size).toBe(32), wait);
      node.send({ cmd: 'held' });
      await vi.waitFor(() => expect(node.lines.some((l) => l.event === 'held')).toBe(true), wait);
      const held = new Map(node.lines.find((l) => l.event === 'held')!.held!);

      node.child.kill('SIGKILL');
      await node.exited;
      await vi.waitFor(() => expect(shards.held().size).toBe(64), wait);
      for (const [shard, epoch] of held) expect(shards.held().get(shard)).toBeGreaterThan(epoch);
      await vi.waitFor(async () => expect((await shards.nodes()).map((n) => n.nodeId)).toEqual(['node-other']), wait);
    } finally {
      if (node.child.exitCode === null && node.child.signalCode === null) {
        node.child.kill('SIGKILL');
        await node.exited;
      }
      await other?.close();
      await schema.drop();
    }
  }, 60_000);
});
