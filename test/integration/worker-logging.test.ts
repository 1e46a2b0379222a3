import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { flakyActivities } from '../../machines/flaky.ts';
import { Client } from '../../src/client/index.ts';
import { ApplicationFailure, Worker, type WorkerLogger } from '../../src/worker/index.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

// A worker says what it does — connected (address, namespace, queue, activities), reconnected,
// each failed attempt — over a real server process, through a logger that can be replaced, and
// says nothing when quiet.

interface Line {
  level: 'info' | 'warn';
  message: string;
  fields?: Record<string, unknown>;
}

function recordingLogger(): WorkerLogger & { lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
  };
}

describe('worker logs', () => {
  let server: ServerProcess;
  let client: Client;
  const workers: Worker[] = [];
  const runWorker = (options: Partial<Parameters<typeof Worker.create>[0]>) => {
    const worker = Worker.create({ address: server.wsUrl, taskQueue: 'flaky', activities: flakyActivities, ...options });
    workers.push(worker);
    void worker.run().catch(() => {});
    return worker;
  };
  /** Runs a flaky workflow that fails `failTimes` attempts, to completion. */
  const runFlaky = async (workflowId: string, failTimes: number) => {
    const handle = await client.start('flaky', { workflowId, input: { key: workflowId, failTimes } });
    return handle.result({ timeoutMs: 60_000 });
  };

  beforeAll(async () => {
    server = await startServerProcess();
    client = await Client.connect({ address: server.wsUrl });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.shutdown()));
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await client?.close();
    await server?.cleanup();
  });

  it('tells its logger where it connected, what it serves, and each failed attempt with its error', async () => {
    const logger = recordingLogger();
    runWorker({ logger, namespace: 'default' });
    await expect(runFlaky('log-1', 2)).resolves.toMatchObject({ answer: 'answer-for-log-1', attempts: 3 });

    const connected = logger.lines.find((l) => l.fields?.event === 'connected')!;
    expect(connected.level).toBe('info');
    expect(connected.message).toBe(`flaky: connected to ${server.wsUrl} (namespace "default"), serving 1 activity (flakyCall), 100 at once`);
    expect(connected.fields).toMatchObject({ url: server.wsUrl, namespace: 'default', taskQueue: 'flaky', activities: ['flakyCall'] });

    const failed = logger.lines.filter((l) => l.fields?.event === 'attemptFailed');
    expect(failed.map((l) => l.fields?.attempt)).toEqual([1, 2]);
    expect(failed[0]!.level).toBe('warn');
    expect(failed[0]!.message).toMatch(/^flaky: activity flakyCall attempt 1 failed \(workflow "log-1", activity id \S+\): Error: service unavailable \(attempt 1\)$/);
    expect(failed[0]!.fields).toMatchObject({ activityType: 'flakyCall', workflowId: 'log-1', errorType: 'Error', errorMessage: 'service unavailable (attempt 1)' });
  });

  it('says that a failure is not retried when the activity said so', async () => {
    const logger = recordingLogger();
    runWorker({
      logger,
      activities: { flakyCall: async () => { throw ApplicationFailure.create({ message: 'card declined', type: 'Declined', nonRetryable: true }); } },
    });
    await runFlaky('log-fatal', 0);
    const failed = logger.lines.filter((l) => l.fields?.event === 'attemptFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toMatch(/attempt 1 failed \(non-retryable\) \(workflow "log-fatal", .*\): Declined: card declined$/);
    expect(failed[0]!.fields).toMatchObject({ errorType: 'Declined', nonRetryable: true });
  });

  it('logs a lost connection and the reconnection after a server restart', async () => {
    const logger = recordingLogger();
    runWorker({ logger, connectionOptions: { reconnect: { maxDelayMs: 200 } } });
    await expect.poll(() => logger.lines.some((l) => l.fields?.event === 'connected')).toBe(true);
    await server.kill();
    server = await server.restart();
    await expect.poll(() => logger.lines.some((l) => l.fields?.event === 'reconnected'), { timeout: 20_000 }).toBe(true);
    const lost = logger.lines.find((l) => l.fields?.event === 'disconnected')!;
    expect(lost.level).toBe('warn');
    expect(lost.message).toMatch(new RegExp(`^flaky: connection to ${server.wsUrl.replace(/[.]/g, '\\.')} lost \\(.+\\); reconnecting in \\d+ ms$`));
    expect(logger.lines.find((l) => l.fields?.event === 'reconnected')!.message).toMatch(/^flaky: reconnected to ws:.* serving 1 activity \(flakyCall\)/);
    await client.close();
    client = await Client.connect({ address: server.wsUrl });
  });

  it('writes to the console by default, and quiet: true silences it', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const ours = () => [...log.mock.calls, ...warn.mock.calls].map((c) => String(c[0])).filter((l) => l.startsWith('[perdure worker]'));

    const loud = runWorker({});
    await runFlaky('log-console', 1);
    expect(ours()).toContainEqual(expect.stringMatching(/^\[perdure worker\] flaky: connected to ws:/));
    expect(warn.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringMatching(/^\[perdure worker\] flaky: activity flakyCall attempt 1 failed/));
    await loud.shutdown();

    log.mockClear();
    warn.mockClear();
    runWorker({ quiet: true });
    await runFlaky('log-quiet', 1);
    expect(ours()).toEqual([]);
  });

  it('perdure worker prints the same lines, and none with --quiet', async () => {
    const run = async (workflowId: string, extra: string[]) => {
      const child = spawn(process.execPath, [BIN, 'worker', '--activities', 'machines/flaky.ts', '--task-queue', 'flaky', '--address', server.url, ...extra], {
        cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        if (extra.length === 0) await expect.poll(() => out, { timeout: 20_000 }).toMatch(/flaky: connected to ws:/);
        await runFlaky(workflowId, 1);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      return { out, err };
    };

    const loud = await run('cli-log', []);
    // flaky.ts exports the activity's declaration beside its implementation: only the latter serves.
    expect(loud.out).toMatch(/^\[perdure worker\] flaky: connected to ws:\/\/127\.0\.0\.1:\d+\/ws \(namespace "default"\), serving 1 activity \(flakyCall\), 100 at once$/m);
    expect(loud.err).toMatch(/^\[perdure worker\] flaky: activity flakyCall attempt 1 failed \(workflow "cli-log", .*\): Error: service unavailable \(attempt 1\)$/m);

    const quiet = await run('cli-quiet', ['--quiet']);
    expect(quiet).toEqual({ out: '', err: '' });
  });
});
