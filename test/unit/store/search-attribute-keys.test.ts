import { describe, expect, it } from 'vitest';
import { keys, orderedNumber } from '../../../src/store/keys.ts';
import { planListing } from '../../../src/store/listing-plan.ts';

describe('search attribute keys', () => {
  it('orders numbers as numbers, negatives and fractions included', () => {
    const numbers = [-1e308, -1000.5, -1, -0.25, 0, 1e-9, 0.5, 1, 2, 10, 1e15, Number.MAX_VALUE];
    const encoded = numbers.map((n) => orderedNumber(n));
    expect([...encoded].sort()).toEqual(encoded);
    expect(orderedNumber(-0)).toBe(orderedNumber(0));
    expect(() => orderedNumber(Number.NaN)).toThrow(/finite number/);
  });

  it('adds one listing key per attribute, typed so that equal text of different types never meet', () => {
    const run = { namespace: 'n', status: 'running' as const, type: 't', startedAt: 5, runId: 'r', searchAttributes: { a: '1', b: 1, c: true } };
    const listed = keys.vis(run);
    expect(listed).toHaveLength(7);
    expect(listed.slice(4).map((k) => k.split('/').slice(0, 4).join('/'))).toEqual([
      'vis-attr/n/a/k1', `vis-attr/n/b/n${orderedNumber(1)}`, 'vis-attr/n/c/b1',
    ]);
  });
});

describe('planListing with search attributes', () => {
  const ns = 'default';
  it('reads an exact keyword or number match as the index, before status and type', () => {
    expect(planListing({ namespace: ns, status: 'running', searchAttributes: { customerId: 'c-1' } }, 'x').prefix).toBe(keys.visAttrValuePrefix(ns, 'customerId', 'c-1'));
    expect(planListing({ namespace: ns, searchAttributes: { amount: 3 } }, 'x').prefix).toBe(keys.visAttrValuePrefix(ns, 'amount', 3));
  });

  it('reads a boolean match as the index only without status or type, and ranges never', () => {
    expect(planListing({ namespace: ns, searchAttributes: { vip: true } }, 'x').prefix).toBe(keys.visAttrValuePrefix(ns, 'vip', true));
    expect(planListing({ namespace: ns, type: 'order', searchAttributes: { vip: true } }, 'x').prefix).toBe(keys.visPrefix(ns, undefined, 'order'));
    const ranged = planListing({ namespace: ns, searchAttributes: { amount: { gte: 1 } } }, 'x');
    expect(ranged.prefix).toBe(keys.visPrefix(ns));
    const row = { runId: 'r', workflowId: 'w', type: 't', version: 'v', status: 'running' as const, startedAt: 1 };
    expect(ranged.filter?.({ ...row, searchAttributes: { amount: 1 } })).toBe(true);
    expect(ranged.filter?.({ ...row, searchAttributes: { amount: 0.5 } })).toBe(false);
    expect(ranged.filter?.(row)).toBe(false);
  });

  it('checks status and type on each row when an attribute is the index', () => {
    const { filter } = planListing({ namespace: ns, status: 'completed', type: 'order', searchAttributes: { customerId: 'c-1' } }, 'x');
    const row = { runId: 'r', workflowId: 'w', type: 'order', version: 'v', status: 'completed' as const, startedAt: 1, searchAttributes: { customerId: 'c-1' } };
    expect(filter?.(row)).toBe(true);
    expect(filter?.({ ...row, status: 'running' })).toBe(false);
    expect(filter?.({ ...row, type: 'refund' })).toBe(false);
  });
});
