import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { perdure } from '../helpers/cli.ts';

// `perdure workflow list` filters and `perdure workflow count` (issue 4, visibility), as child
// processes of the real command against a server process.

describe('perdure workflow list and count with filters', () => {
  let server: ServerProcess;
  const json = async <T,>(args: string[]): Promise<T> => {
    const run = await perdure([...args, '--json', '--address', server.url]);
    expect(run.code, `perdure ${args.join(' ')}\n${run.stderr}`).toBe(0);
    return JSON.parse(run.stdout) as T;
  };

  beforeAll(async () => {
    server = await startServerProcess();
    for (const workflowId of ['cli-vis-a/1', 'cli-vis-b/1', 'cli-vis-a/2']) {
      const response = await fetch(`${server.url}/api/v1/namespaces/default/workflows`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'approval', workflowId, input: { request: workflowId, timeoutMs: 3_600_000 } }),
      });
      expect(response.status).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('lists by --prefix and a start window given as an age, newest first', async () => {
    const listed = await json<{ executions: { workflowId: string }[] }>(['workflow', 'list', '--prefix', 'cli-vis-a/', '--started-after', '1h']);
    expect(listed.executions.map((e) => e.workflowId)).toEqual(['cli-vis-a/2', 'cli-vis-a/1']);
    const none = await json<{ executions: unknown[] }>(['workflow', 'list', '--started-before', '2000-01-01T00:00:00Z']);
    expect(none.executions).toEqual([]);
  });

  it('counts with the same filters, as JSON and as a plain number', async () => {
    expect(await json(['workflow', 'count', '--prefix', 'cli-vis-'])).toEqual({ count: 3 });
    expect(await json(['workflow', 'count', '--status', 'completed'])).toEqual({ count: 0 });
    const plain = await perdure(['workflow', 'count', '--type', 'approval', '--address', server.url]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim()).toBe('3');
  });

  it('pages with --limit, and repeats the filters in the hint for the next page', async () => {
    const run = await perdure(['workflow', 'list', '--prefix', 'cli-vis-', '--limit', '1', '--address', server.url]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/cli-vis-a\/2/);
    expect(run.stdout).toMatch(/More: perdure workflow list --page-token \S+ --prefix cli-vis- --limit 1/);
    const all = await json<{ executions: { workflowId: string }[] }>(['workflow', 'list', '--prefix', 'cli-vis-', '--limit', '1', '--all']);
    expect(all.executions.map((e) => e.workflowId)).toEqual(['cli-vis-a/2', 'cli-vis-b/1', 'cli-vis-a/1']);
  });

  it('exits 2 with a USAGE error naming the flag for an unreadable time', async () => {
    const run = await perdure(['workflow', 'count', '--closed-after', 'last tuesday', '--address', server.url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('USAGE: --closed-after');
  });
});
