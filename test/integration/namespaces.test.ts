import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client, ForbiddenError, NamespaceAlreadyExistsError, NamespaceNotFoundError, type NamespaceInfo,
} from '../../src/client/index.ts';
import { perdure } from '../helpers/cli.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { WireSocket } from '../helpers/wire-client.ts';

// Namespaces against a real server process: the HTTP API, the client SDK (WebSocket), the
// `perdure namespace` command, and who may do what when the server has tokens.

const DAY = 86_400_000;
const approvalInput = (request: string) => ({ request, timeoutMs: 3_600_000 });

interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function request(base: string, method: string, path: string, options: { body?: unknown; token?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  return promise.then(() => {
    throw new Error('expected a rejection');
  }, (error: Error & { code?: string }) => error);
}

describe('namespaces over HTTP, the client SDK and the CLI', () => {
  let server: ServerProcess;
  const api = (method: string, path: string, options?: { body?: unknown; token?: string }) => request(server.url, method, path, options);

  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('creates, lists, describes and updates namespaces with the HTTP API, across a restart', async () => {
    const created = await api('POST', '/api/v1/namespaces', { body: { name: 'billing', description: 'invoices', retention: '7d' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/namespaces/billing');
    expect(created.body).toEqual({ name: 'billing', description: 'invoices', retention: 7 * DAY, createdAt: expect.any(Number), updatedAt: created.body.createdAt });

    const again = await api('POST', '/api/v1/namespaces', { body: { name: 'billing' } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ code: 'NAMESPACE_ALREADY_EXISTS', message: expect.stringContaining('"billing" already exists') });

    const list = await api('GET', '/api/v1/namespaces');
    expect(list.status).toBe(200);
    const names = (list.body.namespaces as NamespaceInfo[]).map((n) => n.name);
    expect(names).toContain('billing');
    expect(names).toEqual([...names].sort());
    expect((list.body.namespaces as NamespaceInfo[]).find((n) => n.name === 'default')).toMatchObject({ retention: 30 * DAY });

    expect((await api('GET', '/api/v1/namespaces/billing')).body).toEqual(created.body);

    const updated = await api('PATCH', '/api/v1/namespaces/billing', { body: { retention: 90 * DAY, description: '' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ name: 'billing', retention: 90 * DAY, createdAt: created.body.createdAt, updatedAt: expect.any(Number) });

    await server.stop();
    server = await server.restart();
    expect((await api('GET', '/api/v1/namespaces/billing')).body).toEqual(updated.body);
  });

  it('answers bad namespace requests with INVALID_ARGUMENT naming the field', async () => {
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['POST', '/api/v1/namespaces', { name: 'has space' }, /letters, digits/],
      ['POST', '/api/v1/namespaces', { name: 'ok-name', retention: 'forever' }, /retention/],
      ['POST', '/api/v1/namespaces', { name: 'ok-name', retentionDays: 3 }, /retentionDays/],
      ['POST', '/api/v1/namespaces', { description: 'no name' }, /name/],
      ['PATCH', '/api/v1/namespaces/default', { retention: '0s' }, /retention/],
      ['PATCH', '/api/v1/namespaces/default', { name: 'renamed' }, /cannot be renamed/],
    ];
    for (const [method, path, body, message] of cases) {
      const answer = await api(method, path, { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.code).toBe('INVALID_ARGUMENT');
      expect(answer.body.message).toMatch(message);
    }
    expect((await api('GET', '/api/v1/namespaces/ok-name')).status).toBe(404);
  });

  it('answers every call in an unknown namespace with 404 NAMESPACE_NOT_FOUND saying how to create it', async () => {
    const ns = '/api/v1/namespaces/ghost';
    const calls: Array<[string, string, unknown?]> = [
      ['GET', ns],
      ['PATCH', ns, { retention: '1d' }],
      ['POST', `${ns}/workflows`, { type: 'approval', input: approvalInput('x') }],
      ['POST', `${ns}/workflows/w/signal`, { event: { type: 'APPROVE', approver: 'a' } }],
      ['GET', `${ns}/workflows`],
      ['GET', `${ns}/workflow-count`],
      ['GET', `${ns}/workflows/w`],
    ];
    for (const [method, path, body] of calls) {
      const answer = await api(method, path, { body });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body).toEqual({ code: 'NAMESPACE_NOT_FOUND', message: expect.stringContaining('perdure namespace create ghost') });
    }
  });

  it('creates and uses namespaces from the client SDK', async () => {
    const admin = await Client.connect({ address: server.url });
    try {
      const created = await admin.namespaces.create('sdk-ns', { description: 'from the SDK', retention: '72h' });
      expect(created).toMatchObject({ name: 'sdk-ns', description: 'from the SDK', retention: 3 * DAY });
      expect(await rejection(admin.namespaces.create('sdk-ns'))).toBeInstanceOf(NamespaceAlreadyExistsError);
      expect(await admin.namespaces.describe('sdk-ns')).toEqual(created);
      expect((await admin.namespaces.list()).map((n) => n.name)).toContain('sdk-ns');
      expect(await admin.namespaces.update('sdk-ns', { retention: 1000 })).toMatchObject({ retention: 1000, description: 'from the SDK' });

      const missing = await rejection(admin.namespaces.describe('sdk-ghost'));
      expect(missing).toBeInstanceOf(NamespaceNotFoundError);
      expect(missing).toMatchObject({ code: 'NAMESPACE_NOT_FOUND', namespace: 'sdk-ghost' });
    } finally {
      await admin.close();
    }

    const scoped = await Client.connect({ address: server.url, namespace: 'sdk-ns' });
    const ghost = await Client.connect({ address: server.url, namespace: 'sdk-ghost' });
    try {
      const handle = await scoped.start('approval', { workflowId: 'in-ns', input: approvalInput('scoped') });
      expect((await handle.describe()).namespace).toBe('sdk-ns');
      expect((await scoped.list()).executions.map((e) => e.workflowId)).toEqual(['in-ns']);
      for (const call of [ghost.start('approval', { input: approvalInput('x') }), ghost.list(), ghost.getHandle('w').query()]) {
        const error = await rejection(call);
        expect(error).toBeInstanceOf(NamespaceNotFoundError);
        expect(error.message).toContain('perdure namespace create sdk-ghost');
      }
    } finally {
      await Promise.all([scoped.close(), ghost.close()]);
    }
  });

  it('refuses a worker registering in an unknown namespace', async () => {
    const socket = await WireSocket.open(server.wsUrl);
    try {
      expect((await socket.hello({ role: 'worker', namespace: 'worker-ghost' })).t).toBe('welcome');
      const answer = await socket.request({ t: 'register', taskQueue: 'q', activityTypes: ['a'], slots: 1 });
      expect(answer).toMatchObject({ t: 'error', code: 'NAMESPACE_NOT_FOUND' });
    } finally {
      socket.ws.close();
    }
  });

  it('runs `perdure namespace create|list|describe|update`, tables by default and --json', async () => {
    const address = ['--address', server.url];
    const created = await perdure(['namespace', 'create', 'cli-ns', '--description', 'made by the CLI', '--retention', '72h', ...address]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('Created namespace cli-ns (retention 3d).');

    const list = await perdure(['namespace', 'list', ...address]);
    expect(list.code, list.stderr).toBe(0);
    const [header, ...rows] = list.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+RETENTION\s+DESCRIPTION\s+CREATED AT$/);
    expect(rows.find((r) => r.startsWith('cli-ns'))).toMatch(/^cli-ns\s+3d\s+made by the CLI\s+\d{4}-/);
    expect(rows.find((r) => r.startsWith('default'))).toMatch(/^default\s+30d\s+-/);

    const updated = await perdure(['namespace', 'update', 'cli-ns', '--retention', '36h', '--json', ...address]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: 'cli-ns', retention: 1.5 * DAY, description: 'made by the CLI' });

    const described = await perdure(['namespace', 'describe', 'cli-ns', ...address]);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(/^name:\s+cli-ns$/m);
    expect(described.stdout).toMatch(/^retention:\s+36h /m);

    const missing = await perdure(['namespace', 'describe', 'cli-ghost', ...address]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('perdure: NAMESPACE_NOT_FOUND: namespace "cli-ghost" does not exist');
    const nothing = await perdure(['namespace', 'update', 'cli-ns', ...address]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('USAGE');
  });
});

describe('namespaces when the server has tokens', () => {
  let server: ServerProcess;
  const tokens = {
    admin: 'admin-token-everywhere', adminDefault: 'admin-token-default', client: 'client-token-default',
    billingClient: 'client-token-billing', billingAdmin: 'admin-token-billing',
  };
  const api = (method: string, path: string, options?: { body?: unknown; token?: string }) => request(server.url, method, path, options);

  beforeAll(async () => {
    server = await startServerProcess({
      tokens: [
        { token: tokens.admin, namespace: '*', role: 'admin' },
        { token: tokens.adminDefault, namespace: 'default', role: 'admin' },
        { token: tokens.client, namespace: 'default', role: 'client' },
        { token: tokens.billingClient, namespace: 'billing', role: 'client' },
        { token: tokens.billingAdmin, namespace: 'billing', role: 'admin' },
      ],
    });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('lets only an admin token for every namespace create one, and a namespace\'s admin update it', async () => {
    expect((await api('POST', '/api/v1/namespaces', { body: { name: 'billing' } })).status).toBe(401);
    for (const token of [tokens.client, tokens.adminDefault]) {
      const refused = await api('POST', '/api/v1/namespaces', { token, body: { name: 'billing' } });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('FORBIDDEN');
    }
    expect((await api('POST', '/api/v1/namespaces', { token: tokens.admin, body: { name: 'billing' } })).status).toBe(201);

    expect((await api('PATCH', '/api/v1/namespaces/billing', { token: tokens.billingClient, body: { retention: '1d' } })).status).toBe(403);
    expect((await api('PATCH', '/api/v1/namespaces/billing', { token: tokens.adminDefault, body: { retention: '1d' } })).status).toBe(403);
    expect((await api('PATCH', '/api/v1/namespaces/billing', { token: tokens.billingAdmin, body: { retention: '1d' } })).body.retention).toBe(DAY);
    expect((await api('PATCH', '/api/v1/namespaces/default', { token: tokens.adminDefault, body: { description: 'main' } })).status).toBe(200);

    // reading: a token sees its own namespace; a "*" token sees all
    expect((await api('GET', '/api/v1/namespaces/billing', { token: tokens.billingClient })).status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/billing', { token: tokens.client })).status).toBe(403);
    const names = async (token: string) => ((await api('GET', '/api/v1/namespaces', { token })).body.namespaces as NamespaceInfo[]).map((n) => n.name);
    expect(await names(tokens.billingClient)).toEqual(['billing']);
    expect(await names(tokens.admin)).toEqual(['billing', 'default']);
  });

  it('applies the same rules to the client SDK', async () => {
    const client = await Client.connect({ address: server.url, token: tokens.client });
    const admin = await Client.connect({ address: server.url, token: tokens.admin });
    try {
      const refused = await rejection(client.namespaces.create('sdk-refused'));
      expect(refused).toBeInstanceOf(ForbiddenError);
      expect(refused.message).toContain('admin token');
      expect(await admin.namespaces.create('sdk-allowed')).toMatchObject({ name: 'sdk-allowed' });
      expect((await client.namespaces.list()).map((n) => n.name)).toEqual(['default']);
    } finally {
      await Promise.all([client.close(), admin.close()]);
    }
  });
});
