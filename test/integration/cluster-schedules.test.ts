import { afterEach, describe, expect, it } from 'vitest';
import { timerWorkflow } from '../../machines/timer.ts';
import { Client, ScheduleNotFoundError } from '../../src/client/index.ts';
import { eventually } from '../helpers/engine.ts';
import { probePostgres } from '../helpers/postgres.ts';
import { clusterPerTest } from '../helpers/test-cluster.ts';

// Three servers on one PostgreSQL schema, each running the schedules of the shards it holds:
// schedules created through one node run on their shards' owners, each nominal time's action is
// taken once (one run per time, the record's count equal to the runs), every operation works
// through a node that does not own the schedule, and a node that stops hands its schedules over.

const postgres = await probePostgres();
const LEASE_MS = 1_500;
const PER_NODE = 4;
const SECOND = 1_000;

describe.skipIf(!postgres.available)(`schedules on a cluster of three nodes${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  const { start, node, stop, connect, status } = clusterPerTest(afterEach);

  /** Every run of a schedule's actions (its workflow ids start with `<scheduleId>-`), all pages. */
  async function runsOf(client: Client, scheduleId: string): Promise<string[]> {
    const ids: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await client.list({ workflowIdPrefix: `${scheduleId}-`, limit: 500, pageToken });
      ids.push(...page.executions.map((e) => e.workflowId));
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
    return ids;
  }

  it('runs each schedule once per nominal time on its shard\'s owner, serves it through any node, and hands a stopped node\'s schedules over', async () => {
    await start({ workflows: [timerWorkflow], leaseMs: LEASE_MS });
    const [a, b, c] = [await node('node-a'), await node('node-b'), await node('node-c')];
    await eventually(async () => {
      const s = await status(a);
      // Settled: none above its fair share, ⌈64 / 3⌉ = 22, so none hands shards over while all three live.
      return s.nodes.length === 3 && s.unowned.length === 0 && s.nodes.every((n) => n.shards.length <= 22) ? s : undefined;
    }, 30_000);
    const shards = a.engine.store.shards();
    const ownerOf = async (scheduleId: string) => (await shards.ownerOf(shards.shardOf('default', scheduleId)))?.nodeId ?? 'none';

    // Ids chosen so that each node owns PER_NODE of them; all are created through A.
    const byOwner = new Map<string, string[]>([['node-a', []], ['node-b', []], ['node-c', []]]);
    for (let i = 0; [...byOwner.values()].some((ids) => ids.length < PER_NODE); i++) {
      const ids = byOwner.get(await ownerOf(`cs-${i}`));
      if (ids && ids.length < PER_NODE) ids.push(`cs-${i}`);
    }
    const all = [...byOwner.values()].flat();
    const [viaA, viaC] = [await connect(a), await connect(c)];
    for (const scheduleId of all) {
      await viaA.schedules.create({
        scheduleId, spec: { interval: { every: '1s' } }, action: { workflowType: 'timer', input: { ms: 10 } }, policies: { overlap: 'allowAll' },
      });
    }
    // Each runs on its owner, and only there.
    for (const [owner, ids] of byOwner) {
      const server = { 'node-a': a, 'node-b': b, 'node-c': c }[owner]!;
      for (const scheduleId of ids) {
        await eventually(async () => ((await server.schedules.describe({ scheduleId }).catch(() => undefined)) ? true : undefined), 30_000);
        for (const other of [a, b, c].filter((s) => s !== server)) {
          await expect(other.schedules.describe({ scheduleId })).rejects.toMatchObject({ code: 'SHARD_NOT_HELD' });
        }
      }
    }
    // Every schedule takes actions (read through C, which owns only a third of them).
    await eventually(async () => {
      for (const scheduleId of all) if ((await viaC.schedules.getHandle(scheduleId).describe()).state.counts.taken < 3) return undefined;
      return true;
    }, 60_000);

    // Describe, pause, trigger, unpause and delete through nodes that do not own the schedule.
    let opsOnB = 'ops-0';
    for (let i = 1; (await ownerOf(opsOnB)) !== 'node-b'; i++) opsOnB = `ops-${i}`;
    await viaA.schedules.create({ scheduleId: opsOnB, spec: { interval: { every: '1h' } }, action: { workflowType: 'timer', input: { ms: 10 } } });
    const opsViaA = viaA.schedules.getHandle(opsOnB);
    const opsViaC = viaC.schedules.getHandle(opsOnB);
    await opsViaA.pause('through A');
    expect((await opsViaC.describe()).state).toMatchObject({ paused: true, note: 'through A' });
    const triggered = await opsViaC.trigger();
    expect(triggered).toMatchObject({ outcome: 'started' });
    expect((await opsViaA.describe()).state.counts.taken).toBe(1);
    await opsViaC.unpause();
    expect((await opsViaA.describe()).state.paused).toBe(false);
    await opsViaA.update({ spec: { interval: { every: '2h' } } });
    expect((await opsViaC.describe()).spec).toMatchObject({ interval: { every: '2h' } });
    expect((await viaC.schedules.list({ limit: 100 })).schedules.map((s) => s.scheduleId).sort()).toEqual([...all, opsOnB].sort());
    await opsViaC.delete();
    await expect(opsViaA.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

    // B stops: its shards are handed over, and its schedules go on at their new owners.
    const ofB = byOwner.get('node-b')!;
    const before = new Map<string, number>();
    for (const scheduleId of ofB) before.set(scheduleId, (await viaA.schedules.getHandle(scheduleId).describe()).state.counts.taken);
    await stop(b);
    await eventually(async () => {
      for (const scheduleId of ofB) {
        if ((await viaA.schedules.getHandle(scheduleId).describe()).state.counts.taken < before.get(scheduleId)! + 3) return undefined;
      }
      return true;
    }, 60_000);
    for (const scheduleId of ofB) expect(['node-a', 'node-c']).toContain(await ownerOf(scheduleId));

    // Paused (each pause waits for the action under way), each schedule's record matches its
    // runs: one run per nominal time, a second apart from the first to the last, none missed.
    for (const scheduleId of all) await viaC.schedules.getHandle(scheduleId).pause('checked');
    for (const scheduleId of all) {
      const { state } = await viaA.schedules.getHandle(scheduleId).describe();
      const runs = await runsOf(viaA, scheduleId);
      expect(new Set(runs).size, `${scheduleId}: one run per workflow id`).toBe(runs.length);
      expect(runs.length, `${scheduleId}: the record counts every run, once`).toBe(state.counts.taken);
      expect(state.counts).toMatchObject({ skipped: 0, missed: 0, failed: 0 });
      const times = runs.map((id) => Date.parse(id.slice(scheduleId.length + 1))).sort((x, y) => x - y);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `${scheduleId}: no nominal time left out`).toBe(SECOND);
    }
  }, 240_000);
});
