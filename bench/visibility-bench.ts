/**
 * Visibility benchmark (issue 4): writes `--runs` runs (default 100,000) into a LevelStore through
 * `commit`, with 10 types, five statuses and start times one second apart (about 28 hours), then
 * times listing pages and counts. Each figure is the median of `--repeat` warm runs.
 *
 * Every run has four search attributes: `customerId` (1,000 customers: 0.1% each), `region`
 * (4 values: 25% each), `vip` (10% true) and `amount` (0–9,999, uniform).
 *
 *   npx tsx bench/visibility-bench.ts
 *   npx tsx bench/visibility-bench.ts --runs 20000 --repeat 5
 *   npx tsx bench/visibility-bench.ts --no-attributes   (the write cost without search attributes)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionStatus } from '../src/common/history.ts';
import { LevelStore } from '../src/store/level-store.ts';
import type { ListRunsQuery } from '../src/store/store.ts';
import type { RunRecord } from '../src/common/run-model.ts';

const { values: args } = parseArgs({ options: {
  runs: { type: 'string', default: '100000' }, repeat: { type: 'string', default: '7' },
  // --no-attributes: runs without search attributes, to see what indexing them costs a commit.
  'no-attributes': { type: 'boolean', default: false },
} });
const ATTRIBUTES = !args['no-attributes'];
const RUNS = Number(args.runs);
const REPEAT = Number(args.repeat);
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const REGIONS = ['eu', 'us', 'apac', 'latam'];

/** 20% running, 60% completed, 10% failed, 5% canceled, 5% terminated. */
function statusOf(i: number): ExecutionStatus {
  const r = (i * 7919) % 20;
  if (r < 4) return 'running';
  if (r < 16) return 'completed';
  if (r < 18) return 'failed';
  return r < 19 ? 'canceled' : 'terminated';
}

function runOf(i: number): RunRecord {
  const status = statusOf(i);
  const startedAt = T0 + i * 1000;
  const run: RunRecord = {
    runId: `run-${String(i).padStart(7, '0')}`, namespace: 'default', workflowId: `cust-${i % 1000}/order-${i}`,
    type: `type-${i % 10}`, version: 'v1', status, startedAt, lastSeq: 1,
    snapshot: { value: 'done', context: { i } }, activities: {}, timers: {},
    searchAttributes: !ATTRIBUTES ? undefined : { customerId: `c-${(i + Math.floor(i / 1000)) % 1000}`, region: REGIONS[i % 4]!, vip: i % 10 === 3, amount: (i * 7919) % 10_000 },
  };
  if (status !== 'running') run.closedAt = startedAt + ((i * 31) % 600) * 1000;
  return run;
}

async function fill(store: LevelStore): Promise<number> {
  const began = performance.now();
  const BATCH = 2000;
  for (let from = 0; from < RUNS; from += BATCH) {
    const commits: Promise<void>[] = [];
    for (let i = from; i < Math.min(RUNS, from + BATCH); i++) {
      const run = runOf(i);
      commits.push(store.commit({
        run, previousLastSeq: 0,
        events: [{ seq: 1, at: run.startedAt, kind: 'WorkflowStarted', type: run.type, version: 'v1', namespace: 'default', workflowId: run.workflowId, input: { i } }],
      }));
    }
    await Promise.all(commits);
  }
  return performance.now() - began;
}

async function median(body: () => Promise<unknown>): Promise<number> {
  await body(); // warm
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const began = performance.now();
    await body();
    times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

interface Row { case: string; rows: string; ms: string }

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'perdure-vis-bench-'));
  const store = new LevelStore({ directory, durability: 'os' });
  await store.open();
  const table: Row[] = [];
  const ms = (n: number) => n.toFixed(n < 10 ? 2 : 1);
  try {
    const fillMs = await fill(store);
    console.log(`wrote ${RUNS} runs in ${(fillMs / 1000).toFixed(1)} s (${Math.round(RUNS / (fillMs / 1000))} commits/s)\n`);
    const mid = T0 + Math.floor(RUNS / 2) * 1000;
    const q = (extra: Omit<ListRunsQuery, 'namespace'>): ListRunsQuery => ({ namespace: 'default', ...extra });

    const page = async (name: string, query: ListRunsQuery) => {
      let rows = 0;
      const t = await median(async () => (rows = (await store.listRuns(query)).runs.length));
      table.push({ case: `list: ${name}`, rows: String(rows), ms: ms(t) });
    };
    /** The token after `pages` pages of a listing. */
    const tokenAfter = async (query: ListRunsQuery, pages: number) => {
      let pageToken: string | undefined;
      for (let i = 0; i < pages; i++) pageToken = (await store.listRuns({ ...query, pageToken })).nextPageToken;
      return pageToken;
    };
    /** Follows tokens until `want` rows (or the end): the cost of a full page under a sparse filter. */
    const fullPage = async (name: string, query: ListRunsQuery, want: number) => {
      let rows = 0, pages = 0;
      const t = await median(async () => {
        rows = 0; pages = 0;
        let pageToken: string | undefined;
        do {
          const p = await store.listRuns({ ...query, limit: want - rows, pageToken });
          rows += p.runs.length; pages++;
          pageToken = p.nextPageToken;
        } while (pageToken && rows < want);
      });
      table.push({ case: `list: ${name} (${pages} request${pages > 1 ? 's' : ''})`, rows: String(rows), ms: ms(t) });
    };
    const count = async (name: string, query: ListRunsQuery) => {
      let n = 0;
      const t = await median(async () => (n = (await store.countRuns(query)).count));
      table.push({ case: `count: ${name}`, rows: String(n), ms: ms(t) });
    };

    await page('first page, no filter', q({ limit: 100 }));
    // A deep page: the token of page 500 (rows 50,000–50,099) is found by paging, then timed.
    let token: string | undefined;
    const walkBegan = performance.now();
    for (let i = 0; i < Math.floor(RUNS / 200) && (i === 0 || token); i++) token = (await store.listRuns(q({ limit: 100, pageToken: token }))).nextPageToken;
    const walkMs = performance.now() - walkBegan;
    table.push({ case: `list: walk ${Math.floor(RUNS / 200)} pages of 100 via tokens (total)`, rows: String(Math.floor(RUNS / 200) * 100), ms: ms(walkMs) });
    await page('a deep page (after row 50,000) via its token', q({ limit: 100, pageToken: token }));
    await page('status=completed', q({ status: 'completed', limit: 100 }));
    await page('type=type-3', q({ type: 'type-3', limit: 100 }));
    await page('status=failed & type=type-3', q({ status: 'failed', type: 'type-3', limit: 100 }));
    await page('started in a 1 h window mid-range', q({ startedAfter: mid, startedBefore: mid + HOUR, limit: 100 }));
    await page('status=running & started in a 1 h window', q({ status: 'running', startedAfter: mid, startedBefore: mid + HOUR, limit: 100 }));
    await page('closed in a 1 h window mid-range (scan)', q({ closedAfter: mid, closedBefore: mid + HOUR, limit: 100 }));
    await page('closed after the midpoint (scan)', q({ closedAfter: mid, limit: 100 }));
    await page('prefix cust-1 (11% match, scan)', q({ workflowIdPrefix: 'cust-1', limit: 100 }));
    await page('prefix cust-42/ (0.1% match, one budget)', q({ workflowIdPrefix: 'cust-42/', limit: 100 }));
    await fullPage('prefix cust-42/ (0.1%), all 100 matches', q({ workflowIdPrefix: 'cust-42/' }), 100);
    await page('prefix cust-4 & 1 h start window', q({ workflowIdPrefix: 'cust-4', startedAfter: mid, startedBefore: mid + HOUR, limit: 100 }));

    if (ATTRIBUTES) {
      await page('attr customerId=c-42 (0.1%, index)', q({ searchAttributes: { customerId: 'c-42' }, limit: 100 }));
      await page('attr customerId=c-42 & status=completed (index + row check)', q({ searchAttributes: { customerId: 'c-42' }, status: 'completed', limit: 100 }));
      await page('attr region=eu (25%, index)', q({ searchAttributes: { region: 'eu' }, limit: 100 }));
      await page('attr vip=true (10%, index)', q({ searchAttributes: { vip: true }, limit: 100 }));
      await page('attr region=eu, a deep page via its token', q({ searchAttributes: { region: 'eu' }, limit: 100, pageToken: await tokenAfter(q({ searchAttributes: { region: 'eu' }, limit: 100 }), 100) }));
      await page('attr amount >= 5000 (50%, range)', q({ searchAttributes: { amount: { gte: 5000 } }, limit: 100 }));
      await page('attr amount in [9990, 10000) (0.1%, range, one request)', q({ searchAttributes: { amount: { gte: 9990, lt: 10_000 } }, limit: 100 }));
      await fullPage('attr amount in [9990, 10000) (0.1%, range), all 100 matches', q({ searchAttributes: { amount: { gte: 9990, lt: 10_000 } } }), 100);
      await page('attr customerId=c-42 & amount >= 5000', q({ searchAttributes: { customerId: 'c-42', amount: { gte: 5000 } }, limit: 100 }));
    }

    await page('first page, no filter (again, after the others)', q({ limit: 100 }));

    await count('all', q({}));
    await count('status=completed', q({ status: 'completed' }));
    await count('type=type-3', q({ type: 'type-3' }));
    await count('started in a 1 h window', q({ startedAfter: mid, startedBefore: mid + HOUR }));
    await count('closed in a 1 h window (values scanned)', q({ closedAfter: mid, closedBefore: mid + HOUR }));
    await count('prefix cust-42/ (values scanned)', q({ workflowIdPrefix: 'cust-42/' }));
    if (ATTRIBUTES) {
      await count('attr customerId=c-42 (keys only)', q({ searchAttributes: { customerId: 'c-42' } }));
      await count('attr region=eu (keys only)', q({ searchAttributes: { region: 'eu' } }));
      await count('attr amount in [9990, 10000) (values scanned)', q({ searchAttributes: { amount: { gte: 9990, lt: 10_000 } } }));
    }
  } finally {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  }
  const width = Math.max(...table.map((r) => r.case.length));
  console.log(`${'case'.padEnd(width)}  ${'rows'.padStart(7)}  ${'ms'.padStart(8)}`);
  for (const r of table) console.log(`${r.case.padEnd(width)}  ${r.rows.padStart(7)}  ${r.ms.padStart(8)}`);
}

await main();
