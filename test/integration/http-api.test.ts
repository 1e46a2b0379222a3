import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** One JSON request; `body` as a string is sent verbatim (for malformed JSON). */
async function request(base: string, method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, headers: response.headers, body: type.includes('json') ? JSON.parse(text) : text };
}

const WF = '/api/v1/namespaces/default/workflows';
const approvalInput = (request: string) => ({ request, timeoutMs: 3_600_000 });

describe('the HTTP API', () => {
  let server: ServerProcess;
  const api = (method: string, path: string, options?: Parameters<typeof request>[3]) => request(server.url, method, path, options);
  const start = (workflowId: string, extra: Record<string, unknown> = {}) =>
    api('POST', WF, { body: { type: 'approval', workflowId, input: approvalInput(workflowId), ...extra } });

  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  describe('POST /namespaces/{ns}/workflows', () => {
    it('starts an execution: 201 { workflowId, runId } with a Location', async () => {
      const res = await start('h-start');
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ workflowId: 'h-start', runId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(res.headers.get('location')).toBe(`${WF}/h-start`);
    });

    it('makes a workflow id when none is given', async () => {
      const res = await api('POST', WF, { body: { type: 'approval' } });
      expect(res.status).toBe(201);
      expect(res.body.workflowId).toEqual(expect.any(String));
    });

    it('answers 409 EXECUTION_ALREADY_STARTED when an open execution has the id, and the same run for the same idempotency key', async () => {
      const first = await start('h-dup', { idempotencyKey: 'key-1' });
      const again = await start('h-dup', { idempotencyKey: 'key-1' });
      expect(again.status).toBe(201);
      expect(again.body.runId).toBe(first.body.runId);
      const conflict = await start('h-dup');
      expect(conflict.status).toBe(409);
      expect(conflict.body).toEqual({ code: 'EXECUTION_ALREADY_STARTED', message: expect.stringContaining('"h-dup"') });
    });

    it('answers 404 WORKFLOW_TYPE_NOT_FOUND for an unknown type', async () => {
      const res = await api('POST', WF, { body: { type: 'invoice' } });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('WORKFLOW_TYPE_NOT_FOUND');
      expect(res.body.message).toContain('"invoice"');
    });

    it('answers 400 INVALID_ARGUMENT naming the bad field', async () => {
      const noType = await api('POST', WF, { body: { workflowId: 'x' } });
      expect(noType.status).toBe(400);
      expect(noType.body.code).toBe('INVALID_ARGUMENT');
      expect(noType.body.message).toMatch(/\btype\b/);

      const badId = await api('POST', WF, { body: { type: 'approval', workflowId: 42 } });
      expect(badId.status).toBe(400);
      expect(badId.body.message).toContain('workflowId');

      const array = await api('POST', WF, { body: [1, 2] });
      expect(array.status).toBe(400);
      expect(array.body.message).toContain('body');

      const none = await api('POST', WF);
      expect(none.status).toBe(400);
      expect(none.body).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('body') });
    });

    it('answers 400 INVALID_ARGUMENT for malformed JSON or a text body, and 415 for another media type', async () => {
      const malformed = await api('POST', WF, { body: '{"type": "approval",' });
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('INVALID_ARGUMENT');
      expect(malformed.body.message).toContain('JSON');

      const text = await api('POST', WF, { body: 'type=approval', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(400);
      expect(text.body.message).toContain('body: expected a JSON object');

      const xml = await api('POST', WF, { body: '<start/>', headers: { 'content-type': 'application/xml' } });
      expect(xml.status).toBe(415);
      expect(xml.body.code).toBe('INVALID_ARGUMENT');
      expect(xml.body.message).toContain('Content-Type: application/json');
    });
    it('answers 413 FRAME_TOO_LARGE for a body over the server\'s limit', async () => {
      // The server answers from Content-Length alone, before reading the body: announce 5 MiB
      // and send none (fetch would report the early answer as EPIPE while it writes).
      const res = await new Promise<{ status: number; body: { code: string } }>((resolve, reject) => {
        const req = httpRequest(`${server.url}${WF}`, {
          method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 5 * 1024 * 1024 },
        }, (response) => {
          let text = '';
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => {
            req.destroy();
            resolve({ status: response.statusCode!, body: JSON.parse(text) });
          });
        });
        req.on('error', reject);
        req.flushHeaders();
      });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('FRAME_TOO_LARGE');
    });

    it('takes any workflow id, percent-encoded in paths', async () => {
      const id = 'order/42 ü?#';
      const res = await start(id);
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe(`${WF}/${encodeURIComponent(id)}`);
      expect((await api('GET', `${WF}/${encodeURIComponent(id)}`)).body.workflowId).toBe(id);
    });
  });

  describe('GET /namespaces/{ns}/workflows/{id}', () => {
    it('describes an execution with its current state', async () => {
      const { body: started } = await start('h-describe');
      const res = await api('GET', `${WF}/h-describe`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        workflowId: 'h-describe', runId: started.runId, type: 'approval', version: expect.stringMatching(/^[0-9a-f]{12}$/),
        status: 'running', startedAt: expect.any(Number),
        state: { value: 'waiting', context: { request: 'h-describe', decision: null }, tags: [], accepts: expect.arrayContaining(['APPROVE', 'REJECT']) },
      });
      expect(res.body).not.toHaveProperty('closedAt');
      expect(res.body).not.toHaveProperty('output');
    });

    it('answers 404 EXECUTION_NOT_FOUND for an unknown workflow id', async () => {
      const res = await api('GET', `${WF}/h-nobody`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ code: 'EXECUTION_NOT_FOUND', message: expect.stringContaining('"h-nobody"') });
      expect((await api('GET', '/api/v1/namespaces/elsewhere/workflows/h-describe')).status).toBe(404);
    });
  });

  describe('GET /namespaces/{ns}/workflows/{id}/query', () => {
    it('answers the current state: status, value, context, tags and the events it accepts', async () => {
      await start('h-query');
      const res = await api('GET', `${WF}/h-query/query`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['accepts', 'context', 'status', 'tags', 'value']);
      expect(res.body).toMatchObject({ status: 'running', value: 'waiting', context: { request: 'h-query', decision: null }, tags: [] });
      expect(res.body.accepts).toEqual(expect.arrayContaining(['APPROVE', 'REJECT']));
      // The same state describe shows beside the description.
      expect((await api('GET', `${WF}/h-query`)).body.state).toEqual({ value: res.body.value, context: res.body.context, tags: res.body.tags, accepts: res.body.accepts });

      expect((await api('POST', `${WF}/h-query/signal`, { body: { event: { type: 'APPROVE', approver: 'ann' } } })).status).toBe(202);
      await api('GET', `${WF}/h-query/result?wait=5s`);
      const closed = await api('GET', `${WF}/h-query/query`);
      expect(closed.body).toMatchObject({ status: 'completed', value: 'approved', context: { decision: 'approved', approver: 'ann' }, accepts: [] });
    });

    it('answers 404 EXECUTION_NOT_FOUND for an unknown workflow id', async () => {
      const res = await api('GET', `${WF}/h-nobody/query`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ code: 'EXECUTION_NOT_FOUND', message: expect.stringContaining('"h-nobody"') });
    });
  });

  describe('signal, update, result', () => {
    it('signals (202), then result answers 200 with the output', async () => {
      await start('h-signal');
      const pending = await api('GET', `${WF}/h-signal/result`);
      expect(pending.status).toBe(202);
      expect(pending.body).toEqual({ status: 'running' });

      const signal = await api('POST', `${WF}/h-signal/signal`, { body: { event: { type: 'APPROVE', approver: 'ann' } } });
      expect(signal.status).toBe(202);

      const done = await api('GET', `${WF}/h-signal/result?wait=30s`);
      expect(done.status).toBe(200);
      expect(done.body).toEqual({ status: 'completed', finalState: 'approved', output: expect.objectContaining({ decision: 'approved', approver: 'ann' }) });

      const described = await api('GET', `${WF}/h-signal`);
      expect(described.body).toMatchObject({ status: 'completed', closedAt: expect.any(Number), output: { decision: 'approved' }, state: { value: 'approved' } });
    });

    it('answers 202 with the status when ?wait= ends before the execution closes', async () => {
      await start('h-wait');
      const res = await api('GET', `${WF}/h-wait/result?wait=50ms`);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ status: 'running' });
      expect((await api('GET', `${WF}/h-wait/result?wait=20`)).status).toBe(202);
    });

    it('answers 400 naming `wait` for a bad duration', async () => {
      for (const wait of ['soon', '2h']) {
        const res = await api('GET', `${WF}/h-wait/result?wait=${wait}`);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('INVALID_ARGUMENT');
        expect(res.body.message).toContain('wait');
      }
    });

    it('answers 400 naming event.type for a bad event', async () => {
      await start('h-bad-event');
      const noType = await api('POST', `${WF}/h-bad-event/signal`, { body: { event: { approver: 'ann' } } });
      expect(noType.status).toBe(400);
      expect(noType.body.message).toContain('event.type');
      const noEvent = await api('POST', `${WF}/h-bad-event/update`, { body: {} });
      expect(noEvent.status).toBe(400);
      expect(noEvent.body.message).toContain('event');
    });

    it('updates: 200 with the new state, 409 UPDATE_REJECTED when the state does not take the event', async () => {
      await start('h-update');
      const rejected = await api('POST', `${WF}/h-update/update`, { body: { event: { type: 'SHIP' } } });
      expect(rejected.status).toBe(409);
      expect(rejected.body).toEqual({ code: 'UPDATE_REJECTED', message: expect.stringContaining('it accepts: APPROVE, REJECT') });

      const accepted = await api('POST', `${WF}/h-update/update`, { body: { event: { type: 'REJECT', approver: 'bob' } } });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toMatchObject({ status: 'completed', value: 'rejected', context: { approver: 'bob' }, tags: [], accepts: [] });
    });
  });

  describe('cancel, terminate', () => {
    it('cancels (202, an empty JSON body is fine): the result is canceled with a CANCELLED_FAILURE', async () => {
      await start('h-cancel');
      const res = await api('POST', `${WF}/h-cancel/cancel`, { headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(202);
      const result = await api('GET', `${WF}/h-cancel/result?wait=10s`);
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ status: 'canceled', failure: { code: 'CANCELLED_FAILURE' } });
    });

    it('terminates (200) with the reason; afterwards signals get 409 EXECUTION_CLOSED', async () => {
      await start('h-terminate');
      const res = await api('POST', `${WF}/h-terminate/terminate`, { body: { reason: 'operator said so' } });
      expect(res.status).toBe(200);
      const result = await api('GET', `${WF}/h-terminate/result`);
      expect(result.body).toMatchObject({ status: 'terminated', failure: { code: 'TERMINATED_FAILURE', message: expect.stringContaining('operator said so') } });

      const late = await api('POST', `${WF}/h-terminate/signal`, { body: { event: { type: 'APPROVE', approver: 'late' } } });
      expect(late.status).toBe(409);
      expect(late.body.code).toBe('EXECUTION_CLOSED');
      expect((await api('POST', `${WF}/h-terminate/cancel`)).status).toBe(409);
    });

    it('answers 400 naming `reason` when it is not a string', async () => {
      await start('h-reason');
      const res = await api('POST', `${WF}/h-reason/terminate`, { body: { reason: 7 } });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('reason');
    });
  });

  it('GET …/history returns { events } in order', async () => {
    await start('h-history');
    await api('POST', `${WF}/h-history/signal`, { body: { event: { type: 'APPROVE', approver: 'ann' } } });
    const res = await api('GET', `${WF}/h-history/history`);
    expect(res.status).toBe(200);
    const events = res.body.events as { seq: number; kind: string; at: number }[];
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ kind: 'WorkflowStarted', type: 'approval', workflowId: 'h-history', at: expect.any(Number) });
    expect(events.map((e) => e.kind)).toContain('SignalReceived');
    expect(events.at(-1)!.kind).toBe('WorkflowCompleted');
    expect((await api('GET', `${WF}/h-nobody/history`)).status).toBe(404);
  });

  it('GET /namespaces/{ns}/workflows lists by page, status and type', async () => {
    const ns = '/api/v1/namespaces/h-list/workflows';
    expect((await api('POST', '/api/v1/namespaces', { body: { name: 'h-list' } })).status).toBe(201);
    for (const id of ['a', 'b', 'c']) {
      expect((await api('POST', ns, { body: { type: 'approval', workflowId: id, input: approvalInput(id) } })).status).toBe(201);
    }
    await api('POST', `${ns}/b/terminate`, { body: { reason: 'listing' } });

    const first = await api('GET', `${ns}?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.executions).toHaveLength(2);
    expect(first.body.executions[0]).toEqual({
      runId: expect.any(String), workflowId: expect.any(String), type: 'approval', version: expect.any(String),
      status: expect.any(String), startedAt: expect.any(Number), ...(first.body.executions[0].closedAt ? { closedAt: expect.any(Number) } : {}),
    });
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const second = await api('GET', `${ns}?limit=2&pageToken=${encodeURIComponent(first.body.nextPageToken)}`);
    expect(second.body.executions).toHaveLength(1);
    expect(second.body.nextPageToken).toBeNull();
    expect([...first.body.executions, ...second.body.executions].map((e: { workflowId: string }) => e.workflowId).sort()).toEqual(['a', 'b', 'c']);

    const terminated = await api('GET', `${ns}?status=terminated`);
    expect(terminated.body.executions.map((e: { workflowId: string }) => e.workflowId)).toEqual(['b']);
    const running = await api('GET', `${ns}?status=running&type=approval`);
    expect(running.body.executions.map((e: { workflowId: string }) => e.workflowId).sort()).toEqual(['a', 'c']);
    expect((await api('GET', `${ns}?type=order`)).body).toEqual({ executions: [], nextPageToken: null });

    const badStatus = await api('GET', `${ns}?status=sleeping`);
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.message).toContain('status');
    const badLimit = await api('GET', `${ns}?limit=many`);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.message).toContain('limit');
    const badToken = await api('GET', `${ns}?pageToken=garbage`);
    expect(badToken.status).toBe(400);
    expect(badToken.body.code).toBe('INVALID_ARGUMENT');
  });

  it('GET /api/v1/workflow-types lists types, versions and machine definitions', async () => {
    const res = await api('GET', '/api/v1/workflow-types');
    expect(res.status).toBe(200);
    const types = res.body.types as { type: string; versions: { version: string; definition: { id: string } }[] }[];
    expect(types.map((t) => t.type)).toEqual(expect.arrayContaining(['approval', 'flaky', 'order', 'threeStep']));
    const approval = types.find((t) => t.type === 'approval')!;
    expect(approval.versions[0]).toMatchObject({ version: expect.stringMatching(/^[0-9a-f]{12}$/), definition: { id: 'approval' } });
    // The export: a config createMachine loads (initial by key, not toJSON's object) and the delays' values.
    expect(approval.versions[0]).toMatchObject({ stately: { config: { id: 'approval', initial: 'waiting' }, delays: { approvalTimeout: 86_400_000 } } });
  });

  it('answers 404 NOT_FOUND as JSON for an unknown route or method', async () => {
    for (const [method, path] of [['GET', '/api/v1/nope'], ['DELETE', `${WF}/h-start`], ['GET', '/nope'], ['PUT', '/api/v1/workflow-types']]) {
      const res = await api(method!, path!);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
      expect(res.body.message).toContain(path!);
    }
  });

  it('keeps /healthz and /metrics open on a server without tokens', async () => {
    expect((await api('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const metrics = await api('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('perdure_executions_total');
    // LevelDB: a cluster of one node holding its one shard (test/integration/cluster-metrics.test.ts has the rest).
    expect(metrics.body).toMatch(/^perdure_shards_owned 1$/m);
  });
});

describe('the HTTP API with tokens', () => {
  let server: ServerProcess;
  const api = (method: string, path: string, options?: Parameters<typeof request>[3]) => request(server.url, method, path, options);
  const tokens = {
    client: 'client-token-default',
    worker: 'worker-token-default',
    billing: 'client-token-billing',
    admin: 'admin-token-everywhere',
    adminDefault: 'admin-token-default',
  };

  beforeAll(async () => {
    server = await startServerProcess({
      tokens: [
        { token: tokens.client, namespace: 'default', role: 'client' },
        { token: tokens.worker, namespace: 'default', role: 'worker' },
        { token: tokens.billing, namespace: 'billing', role: 'client' },
        { token: tokens.admin, namespace: '*', role: 'admin' },
        { token: tokens.adminDefault, namespace: 'default', role: 'admin' },
      ],
    });
    expect((await api('POST', '/api/v1/namespaces', { token: tokens.admin, body: { name: 'billing' } })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('answers 401 UNAUTHORIZED without a token or with a wrong one, before reading the body', async () => {
    for (const token of [undefined, 'wrong-token-000']) {
      const res = await api('POST', WF, { token, body: '{ not json' });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await api('GET', `${WF}/x`)).status).toBe(401);
    expect((await api('GET', '/api/v1/workflow-types')).status).toBe(401);
  });

  it('answers 403 FORBIDDEN for a worker token or a token of another namespace', async () => {
    const worker = await api('GET', WF, { token: tokens.worker });
    expect(worker.status).toBe(403);
    expect(worker.body).toEqual({ code: 'FORBIDDEN', message: expect.stringContaining('worker role') });
    const billing = await api('POST', WF, { token: tokens.billing, body: { type: 'approval' } });
    expect(billing.status).toBe(403);
    expect(billing.body.message).toContain('"billing"');
    expect((await api('GET', '/api/v1/workflow-types', { token: tokens.worker })).status).toBe(403);
  });

  it('serves a client token in its namespace and an admin token for all', async () => {
    const started = await api('POST', WF, { token: tokens.client, body: { type: 'approval', workflowId: 't-1', input: approvalInput('t') } });
    expect(started.status).toBe(201);
    expect((await api('GET', `${WF}/t-1`, { token: tokens.admin })).body.status).toBe('running');
    expect((await api('GET', `${WF}/t-1/query`, { token: tokens.client })).body).toMatchObject({ status: 'running', value: 'waiting' });
    expect((await api('GET', `${WF}/t-1/query`, { token: tokens.billing })).status).toBe(403);
    expect((await api('GET', `${WF}/t-1/query`)).status).toBe(401);
    expect((await api('POST', '/api/v1/namespaces/billing/workflows', { token: tokens.billing, body: { type: 'approval' } })).status).toBe(201);
    expect((await api('GET', '/api/v1/namespaces/billing/workflows', { token: tokens.admin })).body.executions).toHaveLength(1);
    expect((await api('GET', '/api/v1/workflow-types', { token: tokens.billing })).status).toBe(200);
  });

  it('keeps /healthz open and asks /metrics for a token valid in every namespace', async () => {
    expect((await api('GET', '/healthz')).status).toBe(200);
    expect((await api('GET', '/metrics')).status).toBe(401);
    const scoped = await api('GET', '/metrics', { token: tokens.adminDefault });
    expect(scoped.status).toBe(403);
    expect(scoped.body.code).toBe('FORBIDDEN');
    const metrics = await api('GET', '/metrics', { token: tokens.admin });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('perdure_executions_total');
  });
});
