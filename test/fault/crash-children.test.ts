import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/index.ts';
import { derivedRunId } from '../../src/engine/core/derived-id.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import type { RunRecord } from '../../src/common/run-model.ts';
import { replayHistory } from '../../src/testing/index.ts';
import { startEngineChild, type EngineChild } from '../helpers/engine-child.ts';
import { batchChildren, batchMode, crashChildrenWorkflows, PLAN, type BatchContext } from './fixtures/crash-children-machines.ts';

const CHILD = fileURLToPath(new URL('./fixtures/children-engine-child.ts', import.meta.url));
const KILLS = 16;
/** How long the last generation may take to finish everything before the test says what is stuck. */
const SETTLE_MS = 30_000;

const startChild = (dataDir: string, logFile: string): EngineChild => startEngineChild(CHILD, [dataDir, logFile]);

describe('crash safety of child workflows, continue-as-new and the outbox', () => {
  it(`finishes parents with children, child chains and counter chains across ${KILLS} SIGKILLs: one run per child, unbroken chains, no signal lost or doubled, no outbox item left`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'perdure-crash-children-'));
    const dataDir = join(dir, 'data');
    const logFile = join(dir, 'events.log');
    try {
      let killsMidWork = 0;
      for (let generation = 0; generation < KILLS; generation++) {
        const child = startChild(dataDir, logFile);
        if (!(await child.waitFor('READY'))) throw new Error('the engine did not start');
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 500));
        if (child.child.exitCode !== null) throw new Error(`child exited by itself:\n${await child.exited}`);
        if (!(await child.stop('SIGKILL')).includes('SETTLED')) killsMidWork++;
      }
      // The last generation drives everything to its end, then stops cleanly.
      const last = startChild(dataDir, logFile);
      const settled = await last.waitFor('SETTLED', SETTLE_MS);
      const output = await last.stop('SIGTERM');
      if (last.child.exitCode !== 0) throw new Error(`child did not stop cleanly (${last.child.exitCode ?? last.child.signalCode}):\n${output}`);
      const store = new LevelStore({ directory: dataDir });
      await store.open();
      try {
        const log = await readFile(logFile, 'utf8');
        if (!settled) {
          const errors = log.split('\n').filter((l) => /^(LOST|BAD|ERROR) /.test(l)).slice(0, 10);
          throw new Error(`work did not settle:\n${await stuck(store)}\n${errors.join('\n')}\n${output}`);
        }
        await verify(store, log, killsMidWork);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

async function allRuns(store: LevelStore): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let pageToken: string | undefined;
  do {
    const page = await store.listRuns({ namespace: 'default', limit: 1000, pageToken });
    for (const summary of page.runs) runs.push((await store.getRun(summary.runId))!);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs;
}

/** What is still open or owed, and how it got there, to say why the last generation did not settle. */
async function stuck(store: LevelStore): Promise<string> {
  const runs = await allRuns(store);
  const byId = new Map(runs.map((r) => [r.runId, r]));
  const kinds = async (runId: string) => (await store.readHistory(runId)).map((e) => `${e.seq}:${e.kind}${'childId' in e ? `(${e.childId})` : ''}`).join(' ');
  const report: string[] = [];
  for (const run of runs.filter((r) => r.status === 'running').slice(0, 5)) {
    report.push(`${run.workflowId} ${run.runId} running: ${await kinds(run.runId)}`);
    let chain = 0;
    for (let from = byId.get(run.continuedFrom ?? ''); from; from = byId.get(from.continuedFrom ?? '')) chain++;
    if (chain > 0) report.push(`  the last of a chain of ${chain + 1} runs`);
    const parent = run.parent && byId.get(run.parent.runId);
    if (parent) report.push(`  parent ${parent.workflowId} (${parent.status}): ${await kinds(parent.runId)}; outbox ${JSON.stringify(parent.outbox)}`);
  }
  const owed = runs.filter((r) => Object.keys(r.outbox ?? {}).length > 0).slice(0, 10);
  for (const r of owed) report.push(`${r.workflowId} ${r.runId} ${r.status}: outbox ${JSON.stringify(r.outbox)}`);
  return report.join('\n');
}

type Event<K extends HistoryEvent['kind']> = Extract<HistoryEvent, { kind: K }>;

async function verify(store: LevelStore, log: string, killsMidWork: number): Promise<void> {
  const lines = log.trim().split('\n').map((l) => l.split(' '));
  expect(lines.filter(([kind]) => ['LOST', 'BAD', 'ERROR'].includes(kind!)).map((l) => l.join(' ')), 'the drivers saw no lost signal, no impossible total, no error').toEqual([]);

  const runs = await allRuns(store);
  const byId = new Map(runs.map((r) => [r.runId, r]));
  const byWorkflow = new Map<string, RunRecord[]>();
  for (const run of runs) byWorkflow.set(run.workflowId, [...(byWorkflow.get(run.workflowId) ?? []), run]);
  const histories = new Map<string, HistoryEvent[]>();
  const definitions = new Map(crashChildrenWorkflows.map((d) => [d.type, d]));
  const verified = new Set<string>();

  // Every run: closed, its history numbered 1..n and replaying to its stored snapshot, nothing owed.
  for (const run of runs) {
    const name = `${run.workflowId} (${run.type} run ${run.runId})`;
    expect(run.status, `${name} is closed`).not.toBe('running');
    const history = await store.readHistory(run.runId);
    histories.set(run.runId, history);
    expect(history.map((e) => e.seq), `${name}: history has no gap or repeat`).toEqual(history.map((_, k) => k + 1));
    expect(run.lastSeq, `${name}: lastSeq`).toBe(history.length);
    const replay = replayHistory(definitions.get(run.type)!, history, { storedSnapshot: run.snapshot });
    expect(replay.divergence, `${name} replays to its stored snapshot`).toBeUndefined();
    expect(run.outbox ?? {}, `${name}: no outbox item left`).toEqual({});
    expect([run.activities, run.timers, run.children ?? {}], `${name}: nothing pending`).toEqual([{}, {}, {}]);
  }
  expect(await store.listDueTimers(Number.MAX_SAFE_INTEGER, 1000), 'the timer index is empty (no outbox entry, no timer left)').toEqual([]);
  expect(await store.listTasks(), 'no activity task left').toEqual([]);

  const only = (workflowId: string): RunRecord => {
    const found = byWorkflow.get(workflowId) ?? [];
    expect(found.map((r) => r.runId), `${workflowId} has exactly one run`).toHaveLength(1);
    verified.add(found[0]!.runId);
    return found[0]!;
  };
  const events = <K extends HistoryEvent['kind']>(run: RunRecord, kind: K): Event<K>[] =>
    histories.get(run.runId)!.filter((e): e is Event<K> => e.kind === kind);

  /**
   * The runs of a chain from `first`: each continued run points at an existing run that points
   * back and started with the input it was handed; every run of the workflow id is in it.
   */
  const chainFrom = (first: RunRecord): RunRecord[] => {
    const chain = [first];
    for (let run = first; run.status === 'continuedAsNew'; ) {
      const next = byId.get(run.continuedAs ?? '');
      expect(next, `${run.workflowId}: run ${run.runId} continued as ${run.continuedAs}, which exists`).toBeDefined();
      expect(next!.continuedFrom, `${run.workflowId}: run ${next!.runId} points back`).toBe(run.runId);
      expect(next!.parent, `${run.workflowId}: a continued run keeps the parent`).toEqual(first.parent);
      expect(events(next!, 'WorkflowStarted')[0]!.input).toEqual(events(run, 'WorkflowContinuedAsNew')[0]!.input);
      chain.push(next!);
      run = next!;
    }
    expect(first.continuedFrom, `${first.workflowId}: the chain starts at ${first.runId}`).toBeUndefined();
    expect(new Set(chain.map((r) => r.runId)), `${first.workflowId}: every run is in the chain`).toEqual(new Set((byWorkflow.get(first.workflowId) ?? []).map((r) => r.runId)));
    for (const run of chain) verified.add(run.runId);
    return chain;
  };

  /**
   * The child `childId` of `parent`: scheduled exactly once, made (if at all) as exactly the run
   * derived from the schedule (and the runs it continued as), pointing back at the parent. A child
   * the parent heard of must exist. Returns its chain, empty if it was never started.
   */
  const childOf = (parent: RunRecord, childId: string): RunRecord[] => {
    const scheduled = events(parent, 'ChildWorkflowScheduled').filter((e) => e.childId === childId);
    expect(scheduled, `${parent.workflowId} scheduled child ${childId} once`).toHaveLength(1);
    const { workflowId, seq } = scheduled[0]!;
    const runId = derivedRunId(parent.runId, childId, seq);
    const heard = histories.get(parent.runId)!.some((e) => (e.kind === 'ChildWorkflowStarted' || e.kind === 'ChildWorkflowCompleted' || e.kind === 'ChildWorkflowFailed') && e.childId === childId);
    const first = byId.get(runId);
    if (!first) {
      expect(heard, `${parent.workflowId}: child ${childId} that the parent heard of exists (run ${runId})`).toBe(false);
      expect(byWorkflow.get(workflowId) ?? [], `${workflowId}: no run other than ${runId}`).toEqual([]);
      return [];
    }
    expect(first.workflowId).toBe(workflowId);
    const chain = chainFrom(first);
    for (const run of chain) expect(run.parent, `${workflowId}: run ${run.runId} names its parent`).toEqual({ namespace: 'default', workflowId: parent.workflowId, runId: parent.runId, childId });
    return chain;
  };

  for (let i = 0; i < PLAN.batches; i++) {
    const mode = batchMode(i);
    const parent = only(`batch-${i}`);
    const output = parent.output as BatchContext;
    const left = childOf(parent, 'left');
    const right = childOf(parent, 'right');
    const name = `batch-${i} (${mode})`;
    for (const c of [...left, ...right]) expect(c.type).toBe('job');
    expect([left.length, right.length], `${name}: no child continued as new`).toEqual([Math.min(left.length, 1), Math.min(right.length, 1)]);
    const expected = batchChildren(i, mode);
    switch (mode) {
      case 'ok':
        expect(parent.status, name).toBe('completed');
        expect([left[0]?.status, right[0]?.status], `${name}: both children completed`).toEqual(['completed', 'completed']);
        expect(output, `${name}: the output holds the children's`).toMatchObject({
          left: { n: expected.left.n, value: 2 * expected.left.n }, right: { n: expected.right.n, value: 2 * expected.right.n }, failure: null, timedOut: false,
        });
        expect([left[0]!.output, right[0]!.output]).toEqual([output.left, output.right]);
        break;
      case 'fail':
        expect(parent.status, name).toBe('completed');
        expect(right[0]?.status, `${name}: the failing child failed`).toBe('failed');
        expect(output.failure, `${name}: the parent got the child's failure`).toMatchObject({ code: 'CHILD_WORKFLOW_FAILURE', details: [`batch-${i}/right`, right[0]!.runId] });
        expect(left.map((r) => r.status), `${name}: the held child was cancelled (or never started)`).toEqual(left.length ? ['canceled'] : []);
        break;
      case 'deadline':
        expect(parent.status, name).toBe('completed');
        expect(output.timedOut, name).toBe(true);
        for (const c of [...left, ...right]) expect(c.status, `${name}: ${c.workflowId} cancelled`).toBe('canceled');
        break;
      case 'terminate':
        expect(parent.status, name).toBe('terminated');
        for (const c of [...left, ...right]) expect(c.status, `${name}: ${c.workflowId} terminated by its parent's close policy`).toBe('terminated');
        break;
      case 'cancel':
        expect(parent.status, name).toBe('canceled');
        for (const c of [...left, ...right]) expect(c.status, `${name}: ${c.workflowId} cancelled by its parent's close policy`).toBe('canceled');
        break;
    }
  }

  const ticks = { ticks: PLAN.tickerRuns * PLAN.tickerPerRun, runs: PLAN.tickerRuns };
  for (let i = 0; i < PLAN.relays; i++) {
    const parent = only(`relay-${i}`);
    const chain = childOf(parent, 'ticker');
    expect(parent.status, `relay-${i}`).toBe('completed');
    expect(parent.output, `relay-${i}: output of the chain's last run`).toEqual(ticks);
    expect(chain.map((r) => r.status), `relay-${i}/ticker: ${PLAN.tickerRuns} runs`).toEqual([...Array(PLAN.tickerRuns - 1).fill('continuedAsNew'), 'completed']);
    expect(events(parent, 'ChildWorkflowCompleted').map((e) => e.runId), `relay-${i} heard from the last run`).toEqual([chain.at(-1)!.runId]);
  }
  let terminatedChains = 0;
  for (let i = 0; i < PLAN.relayTerminations; i++) {
    const parent = only(`relay-term-${i}`);
    const chain = childOf(parent, 'ticker');
    expect(parent.status, `relay-term-${i}`).toBe('terminated');
    if (chain.length === 0) continue;
    terminatedChains++;
    expect(chain.at(-1)!.status, `relay-term-${i}/ticker: the chain's last run was terminated by the parent's close policy`).toBe('terminated');
  }

  const finalTotal = (PLAN.adds * (PLAN.adds + 1)) / 2;
  for (let c = 0; c < PLAN.counters; c++) {
    const workflowId = `counter-${c}`;
    const firsts = (byWorkflow.get(workflowId) ?? []).filter((r) => r.continuedFrom === undefined);
    expect(firsts, `${workflowId}: one chain`).toHaveLength(1);
    const chain = chainFrom(firsts[0]!);
    expect(chain.at(-1)!.status, `${workflowId}: the chain ends completed`).toBe('completed');
    expect(chain.at(-1)!.output, `${workflowId}: the total of what was sent`).toEqual({ total: finalTotal });
    expect(chain, `${workflowId}: continued as new every ${PLAN.counterRollAt - 1} ADDs`).toHaveLength(Math.floor(PLAN.adds / (PLAN.counterRollAt - 1)) + 1);
    const signals = chain.flatMap((run) => events(run, 'SignalReceived').map((e) => e.event));
    const adds = signals.filter((s) => s.type === 'ADD').map((s) => s.amount as number);
    expect(adds.sort((a, b) => a - b), `${workflowId}: each ADD applied once`).toEqual(Array.from({ length: PLAN.adds }, (_, k) => k + 1));
    expect(signals.at(-1)?.type, `${workflowId}: FINISH last`).toBe('FINISH');
    // A signal applied before a kill may never have been acknowledged; one acknowledged is applied.
    const acknowledged = lines.filter(([kind, id, k]) => kind === 'ACK' && id === workflowId && k !== 'FINISH').map(([, , k]) => Number(k));
    expect(acknowledged.filter((k) => !adds.includes(k)), `${workflowId}: every acknowledged ADD was applied`).toEqual([]);
  }
  for (let i = 0; i < PLAN.tickers; i++) {
    const first = (byWorkflow.get(`ticker-${i}`) ?? []).find((r) => r.continuedFrom === undefined);
    expect(first, `ticker-${i} exists`).toBeDefined();
    const chain = chainFrom(first!);
    expect(chain.map((r) => r.status), `ticker-${i}: ${PLAN.tickerRuns} runs`).toEqual([...Array(PLAN.tickerRuns - 1).fill('continuedAsNew'), 'completed']);
    expect(chain.at(-1)!.output).toEqual(ticks);
  }

  const strays = runs.filter((r) => !verified.has(r.runId)).map((r) => `${r.workflowId} ${r.runId} ${r.status}`);
  expect(strays, 'no run outside the plan').toEqual([]);
  const started = new Set(lines.filter((l) => l[0] === 'STARTED').map((l) => l[1]!));
  expect([...started].filter((id) => !byWorkflow.has(id)), 'every acknowledged start exists').toEqual([]);
  const continued = runs.filter((r) => r.status === 'continuedAsNew').length;
  const children = runs.filter((r) => r.parent).length;
  console.log(`crash test (children): ${KILLS} kills (${killsMidWork} before the work settled), ${runs.length} runs, ${children} child runs, ${continued} hand-overs, ${terminatedChains} chains ended by their parent's close policy`);
}
