import { describe, expect, it } from 'vitest';
import { parseAttributeExpressions } from '../../../src/common/search-attribute-expressions.ts';

describe('parseAttributeExpressions', () => {
  it('makes exact matches and ranges, merging bounds of one name', () => {
    expect(parseAttributeExpressions(['customerId=c-1', 'amount>=10', 'amount<100', 'dueAt>2026-01-01T00:00:00Z', 'n<=3', 'note=a=b'])).toEqual({
      customerId: 'c-1', amount: { gte: '10', lt: '100' }, dueAt: { gt: '2026-01-01T00:00:00Z' }, n: { lte: '3' }, note: 'a=b',
    });
    expect(parseAttributeExpressions(['empty='])).toEqual({ empty: '' });
  });

  it('refuses what is not an expression, two exact matches, and two bounds on one side', () => {
    expect(() => parseAttributeExpressions(['customerId'])).toThrow(/INVALID_ARGUMENT: attr: "customerId" is not a filter/);
    expect(() => parseAttributeExpressions(['1x=2'])).toThrow(/is not a filter/);
    expect(() => parseAttributeExpressions(['a=1', 'a=2'])).toThrow(/"a" is filtered twice/);
    expect(() => parseAttributeExpressions(['a>=1', 'a=2'])).toThrow(/"a" is filtered twice/);
    expect(() => parseAttributeExpressions(['a=1', 'a>2'])).toThrow(/"a" is filtered twice/);
    expect(() => parseAttributeExpressions(['a>=1', 'a>2'])).toThrow(/"a" has two lower bounds/);
    expect(() => parseAttributeExpressions(['a<1', 'a<=2'], '--attr')).toThrow(/--attr: "a" has two upper bounds/);
  });
});
