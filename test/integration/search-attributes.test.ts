import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.ts';
import type { customerOrderWorkflow } from '../../machines/customer-order.ts';
import { perdure } from '../helpers/cli.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

// Search attributes over a real server process (machines/customer-order.ts): executions whose
// context differs, filtered through the HTTP API, the client SDK (WebSocket) and the CLI; the
// attributes follow the context from step to step and survive a restart.

const NS = '/api/v1/namespaces/default';
type Order = typeof customerOrderWorkflow;

/** [workflowId, customerId, dueAt, prices of the items added, expedited] */
const ORDERS: Array<[string, string, string | undefined, number[], boolean]> = [
  ['sa-1', 'c-1', '2026-01-10T00:00:00Z', [5, 20], false],
  ['sa-2', 'c-2', '2026-02-10T00:00:00Z', [150], true],
  ['sa-3', 'c-1', undefined, [60], true],
  ['sa-4', 'c-3', '2026-03-10T00:00:00Z', [], false],
  ['sa-5', 'c-1', '2026-01-20T00:00:00Z', [3], false],
];

describe('search attributes over a server process', () => {
  let server: ServerProcess;
  let client: Client;

  const http = async (query: string, path = 'workflows') => {
    const response = await fetch(`${server.url}${NS}/${path}?${query}`);
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  };
  const httpIds = async (query: string) => {
    const { status, body } = await http(query);
    expect(status, JSON.stringify(body)).toBe(200);
    return (body.executions as Array<{ workflowId: string }>).map((e) => e.workflowId);
  };
  const clientIds = async (searchAttributes: NonNullable<Parameters<Client['list']>[0]>['searchAttributes'], more = {}) =>
    (await client.list({ searchAttributes, ...more })).executions.map((e) => e.workflowId);
  const cli = async (args: string[]) => {
    const run = await perdure([...args, '--address', server.url]);
    expect(run.code, `perdure ${args.join(' ')}\n${run.stderr}`).toBe(0);
    return run.stdout;
  };

  beforeAll(async () => {
    server = await startServerProcess();
    client = await Client.connect({ address: server.wsUrl });
    for (const [workflowId, customerId, dueAt, prices, expedite] of ORDERS) {
      const handle = await client.start<Order>('customerOrder', { workflowId, input: { customerId, dueAt } });
      for (const [i, price] of prices.entries()) await handle.signal({ type: 'ADD_ITEM', sku: `sku-${i}`, price });
      if (expedite) await handle.signal({ type: 'EXPEDITE' });
      await new Promise((resolve) => setTimeout(resolve, 3)); // distinct start times: newest first is then sa-5 … sa-1
    }
  });
  afterAll(async () => {
    await client?.close();
    await server?.cleanup();
  });

  it('filters by an exact keyword, a number range, a boolean and a datetime range over HTTP, newest first', async () => {
    expect(await httpIds('attr=customerId=c-1')).toEqual(['sa-5', 'sa-3', 'sa-1']);
    expect(await httpIds(`attr=${encodeURIComponent('amount>=10')}&attr=${encodeURIComponent('amount<100')}`)).toEqual(['sa-3', 'sa-1']);
    expect(await httpIds('attr=expedited=true')).toEqual(['sa-3', 'sa-2']);
    expect(await httpIds(`attr=${encodeURIComponent('dueAt<2026-02-01T00:00:00Z')}`)).toEqual(['sa-5', 'sa-1']);
    expect(await httpIds('attr=customerId=c-1&attr=expedited=false&status=running&limit=1')).toEqual(['sa-5']);
    expect((await http('attr=customerId=c-1&attr=amount>=10', 'workflow-count')).body).toEqual({ count: 2 });
    const { body } = await http('attr=customerId=c-2');
    expect((body.executions as Array<{ searchAttributes: unknown }>)[0]!.searchAttributes)
      .toEqual({ customerId: 'c-2', amount: 150, expedited: true, dueAt: Date.parse('2026-02-10T00:00:00Z') });
  });

  it('answers a filter it cannot read with 400 INVALID_ARGUMENT naming what is wrong', async () => {
    const unknown = await http('attr=customer=c-1');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(unknown.body.message).toMatch(/no registered workflow declares a search attribute "customer" \(declared: customerId \(keyword\), amount \(number\)/);
    expect((await http('attr=amount>=lots')).body.message).toMatch(/searchAttributes.amount.gte: expected a finite number/);
    expect((await http('attr=customerId')).body.message).toMatch(/attr: "customerId" is not a filter/);
    expect((await http(`attr=${encodeURIComponent('customerId>c')}`)).body.message).toMatch(/a keyword attribute matches one value exactly/);
  });

  it('filters through the client SDK with values, ranges and Dates, combined with other filters', async () => {
    expect(await clientIds({ customerId: 'c-1' })).toEqual(['sa-5', 'sa-3', 'sa-1']);
    expect(await clientIds({ amount: { gt: 25 } })).toEqual(['sa-3', 'sa-2']);
    expect(await clientIds({ dueAt: { gte: new Date('2026-01-15T00:00:00Z'), lt: new Date('2026-03-01T00:00:00Z') } })).toEqual(['sa-5', 'sa-2']);
    expect(await clientIds({ customerId: 'c-1' }, { workflowIdPrefix: 'sa-3' })).toEqual(['sa-3']);
    expect(await clientIds({ customerId: 'c-1' }, { type: 'approval' })).toEqual([]);
    expect(await client.count({ searchAttributes: { expedited: false } })).toEqual({ count: 3 });
    await expect(client.list({ searchAttributes: { amount: { gte: 'x' } } as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const types = await client.workflowTypes();
    expect(types.find((t) => t.type === 'customerOrder')!.versions[0]!.searchAttributes)
      .toEqual({ customerId: 'keyword', amount: 'number', expedited: 'boolean', dueAt: 'datetime' });
  });

  it('filters with the CLI (--attr, repeatable) and shows the attributes in list and describe', async () => {
    const listed = JSON.parse(await cli(['workflow', 'list', '--attr', 'customerId=c-1', '--attr', 'amount>=10', '--json'])) as { executions: Array<{ workflowId: string }> };
    expect(listed.executions.map((e) => e.workflowId)).toEqual(['sa-3', 'sa-1']);
    expect(JSON.parse(await cli(['workflow', 'count', '--attr', 'expedited=true', '--json']))).toEqual({ count: 2 });
    const table = await cli(['workflow', 'list', '--attr', 'customerId=c-3']);
    expect(table).toMatch(/ATTRIBUTES/);
    expect(table).toMatch(/sa-4 .*customerId=c-3 amount=0 expedited=false dueAt=1773100800000/);
    expect(await cli(['workflow', 'describe', 'sa-2'])).toMatch(/search attributes: +customerId=c-2 amount=150 expedited=true dueAt=\d+/);
    const bad = await perdure(['workflow', 'list', '--attr', 'amount>=lots', '--address', server.url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_ARGUMENT: searchAttributes.amount.gte/);
  });

  it('updates the attributes as the context changes across steps, and keeps them across a restart', async () => {
    const handle = client.getHandle<Order>('sa-4');
    await handle.signal({ type: 'ADD_ITEM', sku: 'x', price: 500 });
    expect(await clientIds({ amount: { gte: 500 } })).toEqual(['sa-4']);
    expect(await clientIds({ amount: 0 })).toEqual([]);
    expect((await handle.describe()).searchAttributes).toEqual({ customerId: 'c-3', amount: 500, expedited: false, dueAt: Date.parse('2026-03-10T00:00:00Z') });

    await client.close();
    await server.kill(); // SIGKILL: what was acknowledged must be on disk
    server = await server.restart();
    client = await Client.connect({ address: server.wsUrl });
    expect(await clientIds({ amount: { gte: 500 } })).toEqual(['sa-4']);
    expect(await clientIds({ customerId: 'c-1' })).toEqual(['sa-5', 'sa-3', 'sa-1']);

    // The first step after the restart moves the entries too (the store reads where they were).
    await client.getHandle<Order>('sa-4').signal({ type: 'EXPEDITE' });
    await client.getHandle<Order>('sa-4').signal({ type: 'SUBMIT' });
    expect(await client.getHandle<Order>('sa-4').result()).toMatchObject({ outcome: 'submitted', amount: 500 });
    expect(await clientIds({ expedited: true })).toEqual(['sa-4', 'sa-3', 'sa-2']);
    expect(await clientIds({ customerId: 'c-3' }, { status: 'completed' })).toEqual(['sa-4']);
    expect(await clientIds({ customerId: 'c-3' }, { status: 'running' })).toEqual([]);
  });
});
