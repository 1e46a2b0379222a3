/**
 * The test functions a conformance suite is written with, passed in by the caller (after
 * abstract-level's `suite({ test })`), so that `perdure/testing` imports without any test runner
 * installed and the suite runs under vitest, Jest, or anything with the same shape.
 *
 * @example
 * import { describe, expect, it } from 'vitest';
 * storeConformanceSuite({ name: 'MyStore', factory, test: { describe, it, expect } });
 */
export interface SuiteFunctions {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
  expect: Expect;
}

/** The matchers the suites use; vitest's and Jest's `expect` have them all. */
export interface Expect {
  (actual: unknown, message?: string): Assertion;
}

export interface Assertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: object): void;
  toBeUndefined(): void;
  toBeDefined(): void;
  toBeLessThanOrEqual(expected: number): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toThrow(expected?: RegExp | string | object): void;
  toHaveLength(expected: number): void;
  toContain(expected: unknown): void;
  not: Omit<Assertion, 'not' | 'rejects'>;
  rejects: { toMatchObject(expected: object): Promise<void>; toThrow(expected: RegExp | string): Promise<void> };
}
