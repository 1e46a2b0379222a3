import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { perdure } from '../helpers/cli.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

// What the real `perdure` command (bin/perdure.js, a child process) says when it is used wrongly:
// each message names something that exists and what to type instead.

describe('perdure messages a user can act on', () => {
  let server: ServerProcess;
  let elsewhere: string;

  beforeAll(async () => {
    server = await startServerProcess();
    // A user's own project: no machines/index.ts beside it.
    elsewhere = await mkdtemp(join(tmpdir(), 'perdure-project-'));
  });
  afterAll(async () => {
    await server?.cleanup();
    if (elsewhere) await rm(elsewhere, { recursive: true, force: true });
  });

  it('points migrate --help at a command that exists (perdure machine list)', async () => {
    const [migrate, machine] = await Promise.all([perdure(['workflow', 'migrate', '--help']), perdure(['machine', '--help'])]);
    expect(migrate.code).toBe(0);
    const help = migrate.stdout.replace(/\s+/g, ' '); // help text wraps at the terminal's width
    expect(help).not.toContain('workflow types');
    expect(help).toContain('`perdure machine list`');
    expect(machine.stdout).toMatch(/^\s+list\b/m);
  });

  it('asks for --workflows outside the repository, for server and replay (exit 2)', async () => {
    const [serverRun, replay] = await Promise.all([
      perdure(['server', '--port', '0', '--data', join(elsewhere, 'data')], {}, { cwd: elsewhere }),
      perdure(['replay', 'some-id', '--address', server.url], {}, { cwd: elsewhere }),
    ]);
    for (const run of [serverRun, replay]) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/USAGE: no workflows module: pass --workflows <module>/);
      expect(run.stderr).not.toContain('does not exist');
    }
    expect(serverRun.stderr).toContain('perdure server --workflows');
    expect(replay.stderr).toContain('perdure replay --workflows');
  });

  it('still says which file is missing when --workflows names one', async () => {
    const run = await perdure(['replay', 'some-id', '--workflows', 'nowhere.ts', '--address', server.url], {}, { cwd: elsewhere });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the workflows module "nowhere.ts" does not exist');
  });

  it('names the registered types and the server\'s --workflows module for an unknown type', async () => {
    const run = await perdure(['workflow', 'start', 'invoice', '--address', server.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/WORKFLOW_TYPE_NOT_FOUND: no workflow type "invoice" is registered \(registered: [^)]*\bapproval\b[^)]*\)/);
    expect(run.stderr).toContain('--workflows');
    expect(run.stderr).not.toContain('to the engine');
  });

  it('refuses an unreadable time in every time filter with exit 2, naming the ISO, ms and age forms', async () => {
    const flags = ['--started-after', '--started-before', '--closed-after', '--closed-before'];
    const runs = await Promise.all(flags.map((flag) => perdure(['workflow', 'list', flag, 'yesterday', '--address', server.url])));
    runs.forEach((run, i) => {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`USAGE: ${flags[i]}: expected an ISO time`);
      expect(run.stderr).toMatch(/ms since epoch, or an age like 2h or 7d, got "yesterday"/);
    });
    const count = await perdure(['workflow', 'count', '--closed-after', 'last week', '--address', server.url]);
    expect(count.code).toBe(2);
  });

  it('takes each time form the message names', async () => {
    for (const value of ['2h', '7d', '2026-01-02T03:04:05Z', '1767225600000']) {
      const run = await perdure(['workflow', 'count', '--started-after', value, '--address', server.url]);
      expect(run.code, `${value}: ${run.stderr}`).toBe(0);
    }
  });
});
