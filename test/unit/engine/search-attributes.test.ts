import { afterEach, describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { workflow } from '../../../src/definition/workflow.ts';
import { SearchAttributeCatalog } from '../../../src/engine/core/search-attribute-catalog.ts';
import { computeSearchAttributes, searchAttributesAfter } from '../../../src/engine/core/search-attributes.ts';

type Ctx = Record<string, unknown>;
const decl = {
  customerId: { type: 'keyword' as const, from: (c: Ctx) => c.customerId },
  amount: { type: 'number' as const, from: (c: Ctx) => c.amount },
  vip: { type: 'boolean' as const, from: (c: Ctx) => c.vip },
  dueAt: { type: 'datetime' as const, from: (c: Ctx) => c.dueAt },
};

describe('computeSearchAttributes', () => {
  it('reads each declared attribute from the context, by its type', () => {
    const { values, problems } = computeSearchAttributes(decl, { customerId: 'c-1', amount: 12.5, vip: false, dueAt: new Date('2026-01-02T03:04:05Z') });
    expect(values).toEqual({ customerId: 'c-1', amount: 12.5, vip: false, dueAt: Date.parse('2026-01-02T03:04:05Z') });
    expect(problems).toEqual([]);
  });

  it('takes a datetime as a Date, ms since epoch or an ISO string', () => {
    for (const dueAt of [new Date(1_767_225_600_000), 1_767_225_600_000, '2026-01-01T00:00:00.000Z']) {
      expect(computeSearchAttributes({ dueAt: decl.dueAt }, { dueAt }).values).toEqual({ dueAt: 1_767_225_600_000 });
    }
  });

  it('leaves undefined and null unset without a problem', () => {
    expect(computeSearchAttributes(decl, { customerId: null })).toEqual({ values: {}, problems: [] });
  });

  it('leaves an attribute unset, and says why, when its mapping throws or returns the wrong type', () => {
    const { values, problems } = computeSearchAttributes({
      ...decl,
      broken: { type: 'keyword', from: () => { throw new TypeError('boom'); } },
    }, { customerId: 42, amount: '12', vip: 'yes', dueAt: 'not a time' });
    expect(values).toEqual({});
    expect(Object.fromEntries(problems.map((p) => [p.name, p.message]))).toEqual({
      customerId: 'returned 42, expected a string',
      amount: 'returned a string ("12"), expected a finite number',
      vip: 'returned a string ("yes"), expected a boolean',
      dueAt: 'returned a string ("not a time"), expected a Date, ms since epoch or an ISO 8601 string',
      broken: 'threw TypeError: boom',
    });
  });

  it('refuses numbers that are not finite, keywords too long to index, and strings that are not Unicode', () => {
    const { values, problems } = computeSearchAttributes(
      { a: decl.amount, b: decl.customerId, c: { type: 'keyword', from: () => '\uD800x' } },
      { amount: Number.POSITIVE_INFINITY, customerId: 'x'.repeat(257) },
    );
    expect(values).toEqual({});
    expect(problems.map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(computeSearchAttributes({ a: decl.amount }, { amount: -0 }).values.a).toBe(0);
  });
});

describe('searchAttributesAfter', () => {
  const warnings: Error[] = [];
  const listen = (w: Error) => warnings.push(w);
  afterEach(() => {
    process.off('warning', listen);
    warnings.length = 0;
  });

  it('is undefined for a workflow without search attributes', () => {
    expect(searchAttributesAfter(workflow(createMachine({ id: 'plain' })), { context: {} })).toBeUndefined();
  });

  it('warns once per attribute of a workflow version, however many steps fail', async () => {
    process.on('warning', listen);
    const w = workflow(createMachine({ id: 'warned' }), { searchAttributes: { amount: { type: 'number', from: () => 'many' } } });
    for (let i = 0; i < 3; i++) expect(searchAttributesAfter(w, { context: {} })).toEqual({});
    await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
    const ours = warnings.filter((w) => (w as { code?: string }).code === 'PERDURE_SEARCH_ATTRIBUTE');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.message).toMatch(/search attribute "amount" of workflow "warned"@\w+ is left unset: its mapping returned a string \("many"\)/);
  });
});

describe('SearchAttributeCatalog', () => {
  const order = workflow(createMachine({ id: 'order' }), { searchAttributes: decl });
  const catalog = new SearchAttributeCatalog([order]);

  it('reads filter text by the declared type', () => {
    expect(catalog.filters({ customerId: 'c-1', amount: { gte: '10', lt: 100 }, vip: 'true', dueAt: { lt: '2026-01-01T00:00:00Z' } })).toEqual({
      customerId: 'c-1', amount: { gte: 10, lt: 100 }, vip: true, dueAt: { lt: 1_767_225_600_000 },
    });
    expect(catalog.filters({ dueAt: '1767225600000', amount: '-1.5e2' })).toEqual({ dueAt: 1_767_225_600_000, amount: -150 });
    expect(catalog.filters(undefined)).toBeUndefined();
    expect(catalog.filters({})).toBeUndefined();
  });

  it('refuses an undeclared name, a range on a keyword or boolean, and a value of the wrong type', () => {
    expect(() => catalog.filters({ customer: 'c-1' })).toThrow(/no registered workflow declares a search attribute "customer" \(declared: customerId \(keyword\), amount \(number\), vip \(boolean\), dueAt \(datetime\)\)/);
    expect(() => catalog.filters({ customerId: { gte: 'a' } })).toThrow(/a keyword attribute matches one value exactly/);
    expect(() => catalog.filters({ vip: 'yes' })).toThrow(/searchAttributes.vip: expected true or false/);
    expect(() => catalog.filters({ amount: { gte: 'ten' } })).toThrow(/searchAttributes.amount.gte: expected a finite number/);
    expect(() => catalog.filters({ amount: '' })).toThrow(/INVALID_ARGUMENT/);
    expect(() => catalog.filters({ dueAt: 'someday' })).toThrow(/ISO 8601/);
    expect(() => catalog.filters({ amount: { from: 1 } })).toThrow(/unknown bound "from"/);
  });

  it('refuses two workflows that give one name two types', () => {
    const refund = workflow(createMachine({ id: 'refund' }), { searchAttributes: { amount: { type: 'keyword', from: () => 'x' } } });
    expect(() => new SearchAttributeCatalog([order, refund])).toThrow(/search attribute "amount" is declared as keyword here and as number by "order"@/);
    expect(new SearchAttributeCatalog([order, workflow(createMachine({ id: 'other' }), { searchAttributes: { amount: decl.amount } })]).declared().amount).toBe('number');
  });
});
