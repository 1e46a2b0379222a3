import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { timerWorkflow } from '../../machines/timer.ts';
import { Client, ScheduleAlreadyExistsError, ScheduleNotFoundError, InvalidArgumentError } from '../../src/client/index.ts';
import type { ScheduleDescription, ScheduleOptions } from '../../src/common/schedule-types.ts';
import { createServer, type PerdureServer } from '../../src/server/index.ts';
import { perdure } from '../helpers/cli.ts';
import { eventually, sleep } from '../helpers/engine.ts';

// Schedules through the real server on loopback: the HTTP API, the client SDK over WebSocket,
// and the `perdure` command, with LevelDB in a temp directory and real time (1 s intervals).

interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

const SCHEDULES = '/api/v1/namespaces/default/schedules';
const every = (seconds: number, more: Partial<ScheduleOptions> = {}): Omit<ScheduleOptions, 'scheduleId'> => ({
  spec: { interval: { every: `${seconds}s` } }, action: { workflowType: 'timer', input: { ms: 10 } }, ...more,
});

let dataDir: string;
let server: PerdureServer;
let client: Client;

async function api(method: string, path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** The schedule's description once `ready` holds for it. */
function until(scheduleId: string, ready: (d: ScheduleDescription) => boolean): Promise<ScheduleDescription> {
  return eventually(async () => {
    const d = (await api('GET', `${SCHEDULES}/${scheduleId}`)).body as ScheduleDescription;
    return ready(d) ? d : undefined;
  }, 20_000);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'perdure-schedules-api-'));
  server = await createServer({ workflows: [timerWorkflow, approvalWorkflow], dataDir, port: 0, logger: false, durability: 'os' });
  client = await Client.connect({ address: server.url });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('schedules over HTTP', () => {
  it('creates a schedule that starts workflows, pauses it, triggers one now, and deletes it', async () => {
    const created = await api('POST', SCHEDULES, { scheduleId: 'h-tick', ...every(1, { policies: { overlap: 'allowAll' } }) });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${SCHEDULES}/h-tick`);
    expect(created.body).toMatchObject({ scheduleId: 'h-tick', policies: { overlap: 'allowAll', catchupWindow: '365d' }, state: { paused: false } });
    expect(created.body.futureActionTimes).toHaveLength(5);

    const running = await until('h-tick', (d) => d.state.counts.taken >= 2);
    const runs = (await api('GET', `/api/v1/namespaces/default/workflows?workflowIdPrefix=h-tick-`)).body.executions as { workflowId: string }[];
    expect(runs.map((r) => r.workflowId)).toEqual(expect.arrayContaining(running.state.recentActions.map((a) => a.workflowId)));

    const paused = await api('POST', `${SCHEDULES}/h-tick/pause`, { note: 'quiet please' });
    expect(paused.status).toBe(200);
    expect(paused.body.state).toMatchObject({ paused: true, note: 'quiet please' });
    const taken = paused.body.state.counts.taken as number;
    await sleep(2_500); // more than two intervals: a running schedule would have acted
    expect((await api('GET', `${SCHEDULES}/h-tick`)).body.state.counts.taken).toBe(taken);
    expect((await api('GET', `/api/v1/namespaces/default/workflow-count?workflowIdPrefix=h-tick-`)).body.count).toBe(taken);

    const triggered = await api('POST', `${SCHEDULES}/h-tick/trigger`);
    expect(triggered.status).toBe(200);
    expect(triggered.body).toEqual({ outcome: 'started', workflowId: expect.stringMatching(/^h-tick-\d{4}-/), runId: expect.any(String) });
    expect((await api('GET', `/api/v1/namespaces/default/workflows/${triggered.body.workflowId}`)).status).toBe(200);

    const listed = await api('GET', SCHEDULES);
    expect(listed.body).toMatchObject({ schedules: [expect.objectContaining({ scheduleId: 'h-tick', paused: true, workflowType: 'timer' })], nextPageToken: null });

    const deleted = await api('DELETE', `${SCHEDULES}/h-tick`);
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true } });
    expect((await api('GET', `${SCHEDULES}/h-tick`)).body).toMatchObject({ code: 'SCHEDULE_NOT_FOUND', message: expect.stringContaining('"h-tick"') });
    expect((await api('GET', SCHEDULES)).body.schedules).toEqual([]);
  });

  it('creates with the id in the path, updates and unpauses', async () => {
    const created = await api('POST', `${SCHEDULES}/h-path`, { ...every(3600), paused: true });
    expect(created.status).toBe(201);
    const updated = await api('POST', `${SCHEDULES}/h-path/update`, { spec: { cron: '0 9 * * MON-FRI', timezone: 'America/New_York' } });
    expect(updated.body.spec).toEqual({ cron: ['0 9 * * MON-FRI'], timezone: 'America/New_York' });
    const resumed = await api('POST', `${SCHEDULES}/h-path/unpause`);
    expect(resumed.body.state.paused).toBe(false);
    expect(new Date(resumed.body.state.nextActionAt).getUTCMinutes()).toBe(0);
    expect((await api('DELETE', `${SCHEDULES}/h-path`)).status).toBe(200);
  });

  it('answers a bad cron, interval or body with a clear code, and stays up', async () => {
    const bad = [
      await api('POST', SCHEDULES, { scheduleId: 'bad', spec: { cron: '0 25 * * *' }, action: { workflowType: 'timer' } }),
      await api('POST', SCHEDULES, { scheduleId: 'bad', spec: { interval: { every: 'often' } }, action: { workflowType: 'timer' } }),
      await api('POST', SCHEDULES, { scheduleId: 'bad', spec: { interval: { every: '1s' } } }),
      await api('POST', SCHEDULES, [1, 2]),
      await api('POST', SCHEDULES, '{"scheduleId":'),
      await api('POST', `${SCHEDULES}/x`, { scheduleId: 'y', ...every(1) }),
      await api('POST', `${SCHEDULES}/nope/trigger`, { overlap: 'sometimes' }),
    ];
    expect(bad.map((a) => [a.status, a.body.code])).toEqual(Array.from({ length: 7 }, () => [400, 'INVALID_ARGUMENT']));
    expect(bad[0]!.body.message).toContain('"0 25 * * *" is not a valid cron expression (Invalid value for hour: 25)');
    expect(bad[1]!.body.message).toContain('spec.interval.every: expected a duration');
    expect(bad[2]!.body.message).toContain('action');

    expect(await api('POST', SCHEDULES, { scheduleId: 'bad', ...every(1), action: { workflowType: 'nope' } })).toMatchObject({ status: 404, body: { code: 'WORKFLOW_TYPE_NOT_FOUND' } });
    expect(await api('POST', `${SCHEDULES}/nope/pause`)).toMatchObject({ status: 404, body: { code: 'SCHEDULE_NOT_FOUND' } });
    expect((await api('POST', SCHEDULES, { scheduleId: 'twice', ...every(3600) })).status).toBe(201);
    expect(await api('POST', SCHEDULES, { scheduleId: 'twice', ...every(3600) })).toMatchObject({ status: 409, body: { code: 'SCHEDULE_ALREADY_EXISTS' } });
    await api('DELETE', `${SCHEDULES}/twice`);
    expect((await api('GET', '/healthz')).body).toEqual({ status: 'ok' });
  });
});

describe('schedules with the client SDK', () => {
  it('creates, describes, triggers, pauses, lists and deletes through handles, with typed errors', async () => {
    const handle = await client.schedules.create<typeof timerWorkflow>({ scheduleId: 'sdk-hourly', ...every(3600), action: { workflowType: 'timer', input: { ms: 10 } } });
    expect(handle.scheduleId).toBe('sdk-hourly');
    const described = await handle.describe();
    expect(described).toMatchObject({ namespace: 'default', scheduleId: 'sdk-hourly', action: { workflowType: 'timer', workflowIdPrefix: 'sdk-hourly' } });

    const triggered = await handle.trigger();
    expect(triggered.outcome).toBe('started');
    if (triggered.outcome === 'started') await expect(client.getHandle(triggered.workflowId).result()).resolves.toEqual({ sleptMs: 10 });

    await handle.pause('sdk says so');
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'sdk says so', counts: { taken: 1 } });
    expect((await client.schedules.list()).schedules.map((s) => s.scheduleId)).toEqual(['sdk-hourly']);

    const again = await client.schedules.create({ scheduleId: 'sdk-hourly', ...every(60) }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ScheduleAlreadyExistsError);
    expect(again).toMatchObject({ code: 'SCHEDULE_ALREADY_EXISTS', scheduleId: 'sdk-hourly', namespace: 'default' });
    const badCron = await client.schedules.create({ scheduleId: 'sdk-bad', spec: { cron: 'every monday' }, action: { workflowType: 'timer' } }).catch((e: unknown) => e);
    expect(badCron).toBeInstanceOf(InvalidArgumentError);

    await handle.delete();
    const gone = await handle.describe().catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ScheduleNotFoundError);
    expect(gone).toMatchObject({ code: 'SCHEDULE_NOT_FOUND', scheduleId: 'sdk-hourly' });
  });
});

describe('perdure schedule (the command)', () => {
  const cli = (args: string[]) => perdure([...args, '--address', server.url]);

  it('creates, lists, describes, pauses, resumes, triggers and deletes; exits 1 with the server\'s code and 2 for usage', async () => {
    const created = await cli(['schedule', 'create', 'cli-hourly', '--type', 'timer', '--every', '1h', '--offset', '5m', '--input', '{"ms":10}', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ scheduleId: 'cli-hourly', spec: { interval: { every: '1h', offset: '5m' } } });

    const listed = await cli(['schedule', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^SCHEDULE ID\s+WORKFLOW TYPE\s+SPEC/m);
    expect(listed.stdout).toMatch(/^cli-hourly\s+timer\s+every 1h offset 5m\s+active/m);

    const [paused, triggered] = [await cli(['schedule', 'pause', 'cli-hourly', '--note', 'cli']), await cli(['schedule', 'trigger', 'cli-hourly'])];
    expect(paused.stdout).toContain('Paused schedule cli-hourly.');
    expect(triggered.stdout).toMatch(/^Started cli-hourly-\d{4}-.* \(run [0-9a-f-]+\)\.$/m);
    const described = await cli(['schedule', 'describe', 'cli-hourly']);
    expect(described.stdout).toMatch(/^state:\s+paused \(cli\)$/m);
    expect(described.stdout).toMatch(/^actions:\s+1 taken, 0 skipped/m);
    expect(described.stdout).toContain('Recent actions (newest first):');
    const resumed = await cli(['schedule', 'resume', 'cli-hourly', '--json']);
    expect(JSON.parse(resumed.stdout).state.paused).toBe(false);

    const badCron = await cli(['schedule', 'create', 'cli-bad', '--type', 'timer', '--cron', '* * *']);
    expect(badCron.code).toBe(1);
    expect(badCron.stderr).toMatch(/^perdure: INVALID_ARGUMENT: spec\.cron: "\* \* \*" is not a valid cron expression \(invalid configuration format/);
    const noTimes = await cli(['schedule', 'create', 'cli-bad', '--type', 'timer']);
    expect(noTimes.code).toBe(2);
    expect(noTimes.stderr).toContain('USAGE');

    expect((await cli(['schedule', 'delete', 'cli-hourly'])).stdout).toContain('Deleted schedule cli-hourly.');
    const missing = await cli(['schedule', 'describe', 'cli-hourly']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('SCHEDULE_NOT_FOUND');
  });
});

describe('schedules across a server restart', () => {
  it('keeps a schedule and goes on starting its workflows, each nominal time exactly once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'perdure-schedules-restart-'));
    const open = () => createServer({ workflows: [timerWorkflow], dataDir: dir, port: 0, logger: false, durability: 'os' });
    let s = await open();
    try {
      await s.schedules.create({ scheduleId: 'r-tick', ...every(1, { policies: { overlap: 'allowAll' } }) });
      await eventually(async () => ((await s.schedules.describe({ scheduleId: 'r-tick' })).state.counts.taken >= 2 ? true : undefined), 20_000);
      await s.close();
      s = await open();
      const before = (await s.schedules.describe({ scheduleId: 'r-tick' })).state.counts.taken;
      const after = await eventually(async () => {
        const d = await s.schedules.describe({ scheduleId: 'r-tick' });
        return d.state.counts.taken >= before + 2 ? d : undefined;
      }, 20_000);
      await s.schedules.pause({ scheduleId: 'r-tick' });
      const { state } = await s.schedules.describe({ scheduleId: 'r-tick' });
      const runs = (await s.engine.list({ workflowIdPrefix: 'r-tick-', limit: 1000 })).runs;
      // One run per nominal time, and every second from the first to the last has one: nothing lost, nothing doubled.
      const times = runs.map((r) => Date.parse(r.workflowId.slice('r-tick-'.length))).sort((a, b) => a - b);
      expect(new Set(runs.map((r) => r.workflowId)).size).toBe(runs.length);
      expect(times.length).toBe(state.counts.taken);
      expect(times.every((t, i) => i === 0 || t - times[i - 1]! === 1000)).toBe(true);
      expect(after.state.counts).toMatchObject({ skipped: 0, missed: 0, failed: 0 });
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
