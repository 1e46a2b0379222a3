import { describe, it, expect } from 'vitest';
import type { Duration } from '../../../src/common/activity-options.ts';
import { optionalMs, toMs } from '../../../src/common/duration.ts';
import { InvalidArgumentError } from '../../../src/common/errors.ts';

describe('toMs()', () => {
  it('takes a number as milliseconds', () => {
    expect(toMs(0)).toBe(0);
    expect(toMs(1_500)).toBe(1_500);
    expect(toMs(0.5)).toBe(0.5);
  });

  it.each([
    ['250ms', 250],
    ['1.5s', 1_500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
  ] as const)('reads %s as %i ms', (text, ms) => {
    expect(toMs(text)).toBe(ms);
  });

  it.each([
    ['a negative number', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a negative string', '-1s'],
    ['an unknown unit', '10 parsecs'],
    ['a bare number string', '10'],
    ['an empty string', ''],
    ['a space before the unit', '5 s'],
    ['exponent notation', '1e3ms'],
  ])('refuses %s with INVALID_ARGUMENT naming the field', (_case, value) => {
    expect(() => toMs(value as Duration, 'retry.initialInterval')).toThrow(InvalidArgumentError);
    try {
      toMs(value as Duration, 'retry.initialInterval');
    } catch (error) {
      expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
      expect((error as InvalidArgumentError).message).toContain('retry.initialInterval must be');
    }
  });
});

describe('optionalMs()', () => {
  it('leaves an absent duration absent and converts a present one', () => {
    expect(optionalMs(undefined, 'heartbeatTimeout')).toBeUndefined();
    expect(optionalMs('2s', 'heartbeatTimeout')).toBe(2_000);
  });
});
