import { describe, expect, it } from 'vitest';
import { ApplicationFailure, CancelledFailure, Failure, TimeoutFailure } from '../../../src/common/failures.ts';
import { ExecutionNotFoundError, PerdureError, StoreLockedError } from '../../../src/common/errors.ts';

// A second loaded copy of the package, as a bundle or a monorepo with perdure and @perdure/sdk
// makes: the same modules evaluated again, with classes of their own.
const secondCopy = (path: string): Promise<unknown> => import(/* @vite-ignore */ `${new URL(path, import.meta.url).href}?second-copy`);
const copy = {
  failures: (await secondCopy('../../../src/common/failures.ts')) as typeof import('../../../src/common/failures.ts'),
  errors: (await secondCopy('../../../src/common/errors.ts')) as typeof import('../../../src/common/errors.ts'),
};

describe('failure and error classes across two loaded copies', () => {
  it('are different classes in the second copy (or this test would prove nothing)', () => {
    expect(copy.failures.ApplicationFailure).not.toBe(ApplicationFailure);
    expect(copy.errors.PerdureError).not.toBe(PerdureError);
  });

  it('recognises a failure made by the other copy as its class and its base, and nothing else', () => {
    const foreign = copy.failures.ApplicationFailure.create({ message: 'declined', type: 'CardDeclined' });
    expect(foreign instanceof ApplicationFailure).toBe(true);
    expect(foreign instanceof Failure).toBe(true);
    expect(foreign instanceof TimeoutFailure).toBe(false);
    expect(foreign instanceof CancelledFailure).toBe(false);
    expect(new Error('plain') instanceof Failure).toBe(false);
  });

  it('recognises an error made by the other copy by its class and as a PerdureError', () => {
    const foreign = new copy.errors.ExecutionNotFoundError('default', 'order-42');
    expect(foreign instanceof ExecutionNotFoundError).toBe(true);
    expect(foreign instanceof PerdureError).toBe(true);
    expect(foreign instanceof StoreLockedError).toBe(false);
    expect(foreign instanceof Failure).toBe(false);
  });

  it('keeps plain instanceof for the same copy', () => {
    const own = new ExecutionNotFoundError('default', 'order-42');
    expect(own instanceof ExecutionNotFoundError && own instanceof PerdureError && own instanceof Error).toBe(true);
    expect(own instanceof StoreLockedError).toBe(false);
  });
});
