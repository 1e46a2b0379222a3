import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMachine } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, perdure, ROOT, startCliServer, type CliServer } from '../helpers/cli.ts';

// The real `perdure` command (bin/perdure.js) as child processes, against a `perdure server`
// it started on a free port with LevelDB in a temp directory.


/** `perdure …args --json --address <server>`, expecting exit 0; the parsed JSON output. */
async function json<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const run = await perdure([...args, '--json', '--address', server.url]);
  expect(run.code, `perdure ${args.join(' ')}\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
}

let dataDir: string;
let server: CliServer;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'perdure-cli-'));
  server = await startCliServer(dataDir);
});

afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    // SIGTERM, which the launcher forwards to the server it started; SIGKILL if that hangs.
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
    await server.exited;
    clearTimeout(timer);
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('perdure (the command)', () => {
  it('prints help for the command and its subcommands and exits 0', async () => {
    const [root, start, server] = await Promise.all([
      perdure(['--help']), perdure(['workflow', 'start', '--help']), perdure(['server', '--help']),
    ]);
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/Usage: perdure/);
    expect(root.stdout).toMatch(/workflow/);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/--input <json>/);
    expect(server.code).toBe(0);
    expect(server.stdout).toMatch(/--data <dir>/);
    expect(server.stdout).toMatch(/--idle-evict-ms <ms>/);
  });

  it('exits 2 with a USAGE error for a bad command line', async () => {
    const [missing, unknown, badJson] = await Promise.all([
      perdure(['workflow', 'start']),
      perdure(['workflow', 'frobnicate']),
      perdure(['workflow', 'start', 'approval', '--input', '{not json', '--address', server.url]),
    ]);
    for (const run of [missing, unknown, badJson]) expect(run.code, run.stderr).toBe(2);
    expect(missing.stderr).toMatch(/USAGE: missing required argument 'type'/);
    expect(badJson.stderr).toMatch(/USAGE: --input is not valid JSON/);
  });

  it('exits 1 with the server\'s error code when the request fails', async () => {
    const run = await perdure(['workflow', 'describe', 'no-such-execution', '--address', server.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/EXECUTION_NOT_FOUND/);
  });

  it('refuses a second server on the same data directory with STORE_LOCKED naming the directory', async () => {
    const second = await perdure(['server', '--port', '0', '--data', dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('STORE_LOCKED');
    expect(second.stderr).toContain(dataDir);
  });

  it('starts, signals, queries, describes, awaits, lists and shows the history of an approval (--json)', async () => {
    const started = await json<{ workflowId: string; runId: string }>([
      'workflow', 'start', 'approval', '--id', 'cli-approval', '--input', '{"request":"laptop","timeoutMs":600000}',
    ]);
    expect(started).toMatchObject({ workflowId: 'cli-approval', runId: expect.any(String) });

    const waiting = await json<{ status: string; value: unknown; accepts: string[] }>(['workflow', 'query', 'cli-approval']);
    expect(waiting).toMatchObject({ status: 'running', value: 'waiting', accepts: expect.arrayContaining(['APPROVE', 'REJECT']) });
    const queried = await perdure(['workflow', 'query', 'cli-approval', '--address', server.url]);
    expect(queried.code, queried.stderr).toBe(0);
    expect(queried.stdout).toMatch(/^status:\s+running$/m);
    expect(queried.stdout).toMatch(/^accepts:\s+.*\bAPPROVE\b/m);
    expect(queried.stdout).not.toContain('xstate.');

    await json(['workflow', 'signal', 'cli-approval', 'APPROVE', '--data', '{"approver":"ana"}']);
    const result = await json<{ status: string; output: { decision: string; approver: string } }>(['workflow', 'result', 'cli-approval', '--wait', '10s']);
    expect(result).toMatchObject({ status: 'completed', output: { decision: 'approved', approver: 'ana' } });

    const described = await json<{ workflowId: string; runId: string; type: string; status: string }>(['workflow', 'describe', 'cli-approval']);
    expect(described).toMatchObject({ workflowId: 'cli-approval', runId: started.runId, type: 'approval', status: 'completed' });

    const history = await json<{ events: { seq: number; kind: string; event?: unknown }[] }>(['workflow', 'history', 'cli-approval']);
    expect(history.events[0]).toMatchObject({ seq: 1, kind: 'WorkflowStarted' });
    expect(history.events).toContainEqual(expect.objectContaining({ kind: 'SignalReceived', event: { type: 'APPROVE', approver: 'ana' } }));
    expect(history.events.at(-1)).toMatchObject({ kind: 'WorkflowCompleted' });

    const listed = await json<{ executions: { workflowId: string; status: string }[] }>(['workflow', 'list', '--type', 'approval']);
    expect(listed.executions).toContainEqual(expect.objectContaining({ workflowId: 'cli-approval', status: 'completed' }));

    const table = await perdure(['workflow', 'list', '--address', server.url]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^WORKFLOW ID\s+TYPE\s+STATUS/);
    expect(table.stdout).toMatch(/cli-approval\s+approval\s+completed/);
  });

  it('update returns the new state, and is refused with UPDATE_REJECTED when the state does not accept the event', async () => {
    await json(['workflow', 'start', 'approval', '--id', 'cli-update', '--input', '{"request":"desk","timeoutMs":600000}']);
    const refused = await perdure(['workflow', 'update', 'cli-update', 'SHIP', '--address', server.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UPDATE_REJECTED/);
    const updated = await json<{ status: string; value: unknown }>(['workflow', 'update', 'cli-update', '{"type":"REJECT","approver":"bo"}']);
    expect(updated).toMatchObject({ status: 'completed', value: 'rejected' });
  });

  it('shows the state a run closed in beside its status, so a rejected approval does not read as a plain success', async () => {
    // cli-update closed in its `rejected` final state (the test above).
    const [described, result, listed] = await Promise.all([
      perdure(['workflow', 'describe', 'cli-update', '--address', server.url]),
      perdure(['workflow', 'result', 'cli-update', '--address', server.url]),
      perdure(['workflow', 'list', '--type', 'approval', '--address', server.url]),
    ]);
    expect(described.stdout).toMatch(/^status:\s+completed, in state rejected$/m);
    expect(result.stdout).toMatch(/^status:\s+completed, in state rejected$/m);
    expect(listed.stdout).toMatch(/^cli-update\s+approval\s+completed, in state rejected\s/m);
    expect(await json(['workflow', 'result', 'cli-update'])).toMatchObject({ status: 'completed', finalState: 'rejected' });
  });

  it('runs a worker for a module\'s activities: a 3-step workflow completes, and SIGTERM drains it and exits 0', async () => {
    const worker = spawn(process.execPath, [BIN, 'worker', '--activities', 'machines/three-step.ts', '--task-queue', 'bench', '--address', server.url], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
    try {
      let out = '';
      worker.stdout.on('data', (c) => (out += c));
      await expect.poll(() => out, { timeout: 10_000 }).toMatch(/bench: connected to ws:/);
      expect(out).toMatch(/3 activities \(step1, step2, step3\)/);

      await json(['workflow', 'start', 'threeStep', '--id', 'cli-three', '--input', '{"n":7}']);
      expect(await json(['workflow', 'result', 'cli-three', '--wait', '20s'])).toMatchObject({ status: 'completed', output: { n: 7 } });
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('replay reports ok for a completed execution, and the first divergence against a changed machine (exit 1)', async () => {
    const ok = await perdure(['replay', 'cli-approval', '--address', server.url]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: cli-approval \(approval/);

    const diverged = await perdure(['replay', 'cli-approval', '--workflows', 'test/fixtures/approval-changed.ts', '--address', server.url]);
    expect(diverged.code, diverged.stderr).toBe(1);
    expect(diverged.stdout).toMatch(/diverged: cli-approval \(approval\) at event #2/);
    expect(diverged.stdout).toMatch(/expected \(history\): TimerStarted\("xstate\.after\.reminderDelay/);
    expect(diverged.stdout).toMatch(/actual \(machine\):\s+TimerStarted\("xstate\.after\.approvalTimeout/);

    const report = await perdure(['replay', 'cli-approval', '--workflows', 'test/fixtures/approval-changed.ts', '--json', '--address', server.url]);
    expect(JSON.parse(report.stdout)).toMatchObject({ ok: false, divergence: { seq: 2 } });
  });

  it('replay --type checks every running execution of a type before a deploy: which ones the new machine would break', async () => {
    for (const id of ['pre-deploy-1', 'pre-deploy-2']) {
      expect((await perdure(['workflow', 'start', 'approval', '--id', id, '--input', '{"request":"r","timeoutMs":3600000}', '--address', server.url])).code).toBe(0);
    }
    const same = await perdure(['replay', '--type', 'approval', '--address', server.url]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/All \d+ running executions replay on the local machines\./);

    const changed = await perdure(['replay', '--type', 'approval', '--workflows', 'test/fixtures/approval-changed.ts', '--json', '--address', server.url]);
    expect(changed.code, changed.stderr).toBe(1);
    const { executions, diverged } = JSON.parse(changed.stdout) as { executions: { workflowId: string; ok: boolean }[]; diverged: number };
    expect(executions.filter((e) => e.workflowId.startsWith('pre-deploy-')).map((e) => e.ok)).toEqual([false, false]);
    expect(diverged).toBe(executions.length);

    const usage = await perdure(['replay', '--address', server.url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/give a workflow id, or --type <type>, or --all/);
  });

  it('exports a machine as createMachine code for Stately Studio', async () => {
    const run = await perdure(['machine', 'export', 'order', '--address', server.url]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("import { createMachine } from 'xstate';");
    expect(run.stdout).toMatch(/id: 'order'/);
    expect(run.stdout).toMatch(/src: 'chargeCard',\s+onDone: 'reserving',\s+onError: 'declined'/);

    const { types } = await json<{ types: { type: string; versions: string[] }[] }>(['machine', 'list']);
    const version = types.find((t) => t.type === 'approval')!.versions[0]!;
    const approval = await perdure(['machine', 'export', 'approval', '--version', version, '--address', server.url]);
    expect(approval.code, approval.stderr).toBe(0);
    expect(approval.stdout).toContain(`version ${version}`);
    expect(approval.stdout).toMatch(/after: \{\s+reminderDelay: \{\},\s+approvalTimeout: 'expired',/);
    // Declared, so the code run in plain XState waits for a decision instead of expiring at once.
    expect(approval.stdout).toMatch(/setup\(\{\s+delays: \{\s+approvalTimeout: 86400000,\s+reminderDelay: 43200000,\s+\},\s+\}\)\.createMachine\(/);
  });

  it('exports a machine as JSON that createMachine(json) loads back', async () => {
    // The three the issue saw fail; every example machine's round trip is a unit test (test/unit/definition).
    for (const type of ['order', 'threeStep', 'cart']) {
      const run = await perdure(['machine', 'export', type, '--format', 'json', '--address', server.url]);
      expect(run.code, run.stderr).toBe(0);
      const machine = createMachine(JSON.parse(run.stdout) as never);
      expect(machine.id).toBe(type);
      expect(Object.keys(machine.root.states).length).toBeGreaterThan(0);
    }
    // A JSON config cannot hold delays: their values are told beside it, on stderr.
    const approval = await perdure(['machine', 'export', 'approval', '--format', 'json', '--address', server.url]);
    expect(approval.code, approval.stderr).toBe(0);
    expect(JSON.parse(approval.stdout)).toMatchObject({ id: 'approval', initial: 'waiting' });
    expect(approval.stderr).toContain('createMachine(json, { delays: {"approvalTimeout":86400000,"reminderDelay":43200000} })');
  });

  it('stops the server on SIGTERM: exit 0, after the line saying where it listened', async () => {
    expect(server.stdout()).toMatch(/Perdure listening on http:\/\/127\.0\.0\.1:\d+ \(data in .+; workflows: approval@\w+ /);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stdout()).toMatch(/Perdure stopped/);
  });
});
