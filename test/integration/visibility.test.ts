import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type WorkflowExecutionSummary } from '../../src/client/index.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

// Visibility over a real server process (issue 4): list filters and count, through the client SDK
// (WebSocket) and the HTTP API, checked against a brute-force filter of the full listing.

const approvalInput = (request: string) => ({ request, timeoutMs: 3_600_000 });
const NS = '/api/v1/namespaces/default';

describe('visibility filters and count over a server process', () => {
  let server: ServerProcess;
  let client: Client;
  let all: WorkflowExecutionSummary[];

  const http = async (path: string) => {
    const response = await fetch(`${server.url}${path}`);
    return { status: response.status, body: await response.json() };
  };
  const ids = (runs: Array<{ workflowId: string }>) => runs.map((r) => r.workflowId);

  beforeAll(async () => {
    server = await startServerProcess();
    client = await Client.connect({ address: server.wsUrl });
    // Started one after another, a few ms apart, so start times are distinct and ordered.
    for (const id of ['vis-a/1', 'vis-b/1', 'vis-a/2', 'vis-b/2', 'vis-a/3', 'vis-c/1']) {
      await client.start('approval', { workflowId: id, input: approvalInput(id) });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (const id of ['vis-a/1', 'vis-b/2']) {
      await client.getHandle(id).terminate('visibility test');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    all = (await client.list({ limit: 1000 })).executions;
  });
  afterAll(async () => {
    await client?.close();
    await server?.cleanup();
  });

  it('lists by workflow id prefix, newest first, and counts the same runs', async () => {
    expect(ids((await client.list({ workflowIdPrefix: 'vis-a/' })).executions)).toEqual(['vis-a/3', 'vis-a/2', 'vis-a/1']);
    expect(await client.count({ workflowIdPrefix: 'vis-a/' })).toEqual({ count: 3 });
    expect(await client.count({ workflowIdPrefix: 'vis-' })).toEqual({ count: 6 });
    expect(await client.count({})).toEqual({ count: all.length });
  });

  it('lists by a start window given as Dates or ms, lower bound inclusive and upper bound exclusive', async () => {
    const byStart = [...all].sort((a, b) => a.startedAt - b.startedAt);
    const from = byStart[1]!.startedAt, to = byStart[4]!.startedAt;
    const expected = all.filter((e) => e.startedAt >= from && e.startedAt < to);
    expect((await client.list({ startedAfter: new Date(from), startedBefore: to })).executions).toEqual(expected);
    expect(await client.count({ startedAfter: from, startedBefore: new Date(to) })).toEqual({ count: expected.length });
  });

  it('lists closed runs by close window and status; open runs never match a close filter', async () => {
    const closed = all.filter((e) => e.closedAt !== undefined);
    expect(ids(closed).sort()).toEqual(['vis-a/1', 'vis-b/2']);
    const first = Math.min(...closed.map((e) => e.closedAt!));
    expect((await client.list({ closedAfter: 0 })).executions).toEqual(closed);
    expect(ids((await client.list({ closedAfter: first + 1 })).executions)).toEqual(ids(closed.filter((e) => e.closedAt! >= first + 1)));
    expect(await client.count({ status: 'terminated', closedBefore: first + 1 })).toEqual({ count: 1 });
    expect(await client.count({ status: 'running', workflowIdPrefix: 'vis-b/' })).toEqual({ count: 1 });
  });

  it('pages a filtered listing one run at a time over the HTTP API, every run once', async () => {
    const seen: string[] = [];
    let pageToken: string | null = null;
    do {
      const query: string = `?workflowIdPrefix=vis-a%2F&limit=1${pageToken ? `&pageToken=${pageToken}` : ''}`;
      const { status, body } = await http(`${NS}/workflows${query}`);
      expect(status).toBe(200);
      seen.push(...ids(body.executions));
      pageToken = body.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(['vis-a/3', 'vis-a/2', 'vis-a/1']);
  });

  it('takes ISO times and ms in the HTTP query string, and counts at GET …/workflow-count', async () => {
    const newest = all[0]!;
    const iso = new Date(newest.startedAt).toISOString();
    expect(ids((await http(`${NS}/workflows?startedAfter=${iso}`)).body.executions)).toEqual([newest.workflowId]);
    expect(ids((await http(`${NS}/workflows?startedBefore=${newest.startedAt}&workflowIdPrefix=vis-c`)).body.executions)).toEqual([]);
    expect(await http(`${NS}/workflow-count?status=terminated`)).toEqual({ status: 200, body: { count: 2 } });
    expect(await http(`${NS}/workflow-count?type=approval&startedAfter=${iso}`)).toEqual({ status: 200, body: { count: 1 } });
  });

  it('refuses an unreadable time with 400 INVALID_ARGUMENT naming the parameter', async () => {
    const list = await http(`${NS}/workflows?closedAfter=yesterday`);
    expect(list.status).toBe(400);
    expect(list.body).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('closedAfter') });
    const count = await http(`${NS}/workflow-count?startedBefore=soon`);
    expect(count.status).toBe(400);
    expect(count.body.message).toContain('startedBefore');
  });
});
