import { describe, it, expect } from 'vitest';
import {
  ActivityFailure, ApplicationFailure, CancelledFailure, ChildWorkflowFailure, Failure, TerminatedFailure, TimeoutFailure,
  fromFailureInfo, toFailureInfo, type FailureInfo,
} from '../../../src/common/failures.ts';

/** What the other side of the wire gets: serialised, sent as JSON, rebuilt. */
const overTheWire = (error: unknown): Failure => fromFailureInfo(JSON.parse(JSON.stringify(toFailureInfo(error))) as FailureInfo);

const causeDepth = (info: FailureInfo): number => {
  let depth = 1;
  for (let at = info.cause; at !== undefined; at = at.cause) depth++;
  return depth;
};

/** A chain of `length` plain Errors, each caused by the next. */
const errorChain = (length: number): Error => {
  let error = new Error(`level ${length - 1}`);
  for (let i = length - 2; i >= 0; i--) error = new Error(`level ${i}`, { cause: error });
  return error;
};

describe('ApplicationFailure factories', () => {
  it('create() returns an ApplicationFailure with the given fields and retryable defaults', () => {
    const failure = ApplicationFailure.create({ message: 'card declined' });
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toBeInstanceOf(Failure);
    expect(failure).toMatchObject({ name: 'ApplicationFailure', code: 'APPLICATION_FAILURE', message: 'card declined', type: 'Error', nonRetryable: false, details: [] });
    expect(failure.cause).toBeUndefined();
  });

  it('nonRetryable() returns a nonRetryable ApplicationFailure with its type and details', () => {
    const failure = ApplicationFailure.nonRetryable('bad input', 'BadInput', { field: 'amount' }, 2);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ message: 'bad input', type: 'BadInput', nonRetryable: true, details: [{ field: 'amount' }, 2] });
  });
});

describe('toFailureInfo() / fromFailureInfo()', () => {
  it('keep an ActivityFailure → ApplicationFailure → Error chain with types, messages, flags, details and stacks', () => {
    const root = new TypeError('socket hang up');
    const application = ApplicationFailure.create({
      message: 'charge failed', type: 'GatewayDown', nonRetryable: true, details: [{ gateway: 'stripe' }, 3], cause: root,
    });
    const activity = new ActivityFailure('chargeCard', 'charge', 'nonRetryableFailure', application);

    const back = overTheWire(activity);
    expect(back).toBeInstanceOf(ActivityFailure);
    expect(back).toMatchObject({
      code: 'ACTIVITY_FAILURE', activityType: 'chargeCard', activityId: 'charge', retryState: 'nonRetryableFailure',
      message: 'activity "chargeCard" (charge) failed: charge failed',
    });

    const cause = back.cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ message: 'charge failed', type: 'GatewayDown', nonRetryable: true, details: [{ gateway: 'stripe' }, 3] });
    expect(cause.stack).toBe(application.stack);

    const rootBack = cause.cause as ApplicationFailure;
    expect(rootBack).toBeInstanceOf(ApplicationFailure);
    expect(rootBack).toMatchObject({ message: 'socket hang up', type: 'TypeError', nonRetryable: false });
    expect(rootBack.stack).toBe(root.stack);
    expect(rootBack.cause).toBeUndefined();
  });

  it('keep a TimeoutFailure with its timeout type and last heartbeat details', () => {
    const back = overTheWire(new TimeoutFailure('heartbeat', { processed: 40 }));
    expect(back).toBeInstanceOf(TimeoutFailure);
    expect(back).toMatchObject({ code: 'TIMEOUT_FAILURE', timeoutType: 'heartbeat', lastHeartbeatDetails: { processed: 40 }, message: 'activity heartbeat timeout' });
  });

  it('keep a TimeoutFailure without heartbeat details', () => {
    const back = overTheWire(new TimeoutFailure('scheduleToStart'));
    expect(back).toBeInstanceOf(TimeoutFailure);
    expect(back).toMatchObject({ timeoutType: 'scheduleToStart', lastHeartbeatDetails: undefined });
  });

  it('keep a ChildWorkflowFailure with its workflow type, id and cause', () => {
    const failure = new ChildWorkflowFailure('payment', 'pay-42', new TerminatedFailure('fraud suspected'));
    const back = overTheWire(failure);
    expect(back).toBeInstanceOf(ChildWorkflowFailure);
    expect(back).toMatchObject({ code: 'CHILD_WORKFLOW_FAILURE', workflowType: 'payment', workflowId: 'pay-42', message: failure.message });
    expect(back.cause).toBeInstanceOf(TerminatedFailure);
    expect((back.cause as TerminatedFailure).reason).toBe('fraud suspected');
  });

  it('keep a CancelledFailure with its message and details', () => {
    const back = overTheWire(new CancelledFailure('customer cancelled', ['order-7']));
    expect(back).toBeInstanceOf(CancelledFailure);
    expect(back).toMatchObject({ code: 'CANCELLED_FAILURE', message: 'customer cancelled', details: ['order-7'] });
  });

  it('keep a TerminatedFailure with its reason', () => {
    const back = overTheWire(new TerminatedFailure('operator: duplicate order'));
    expect(back).toBeInstanceOf(TerminatedFailure);
    expect(back).toMatchObject({ code: 'TERMINATED_FAILURE', reason: 'operator: duplicate order', message: 'terminated: operator: duplicate order' });
  });

  it('turn a plain Error into an APPLICATION_FAILURE typed with its name', () => {
    const error = new RangeError('amount out of range');
    expect(toFailureInfo(error)).toEqual({ code: 'APPLICATION_FAILURE', message: 'amount out of range', type: 'RangeError', stack: error.stack });
  });

  it('turn a thrown string into an APPLICATION_FAILURE with that message', () => {
    expect(toFailureInfo('out of stock')).toEqual({ code: 'APPLICATION_FAILURE', message: 'out of stock', type: 'Error' });
  });

  it('turn a thrown object into an APPLICATION_FAILURE whose message is its JSON', () => {
    expect(toFailureInfo({ reason: 'out of stock', sku: 7 })).toEqual({ code: 'APPLICATION_FAILURE', message: '{"reason":"out of stock","sku":7}', type: 'Error' });
  });

  it('turn a thrown circular object or undefined into an APPLICATION_FAILURE without throwing', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(toFailureInfo(circular)).toMatchObject({ code: 'APPLICATION_FAILURE', type: 'Error' });
    expect(toFailureInfo(undefined)).toEqual({ code: 'APPLICATION_FAILURE', message: 'undefined', type: 'Error' });
  });

  it('cut a cause chain of 1,000 to a bounded depth without overflowing the stack', () => {
    const info = toFailureInfo(errorChain(1_000));
    expect(info.message).toBe('level 0');
    expect(info.cause?.message).toBe('level 1');
    const depth = causeDepth(info);
    expect(depth).toBeGreaterThan(1);
    expect(depth).toBeLessThan(100);
    // The bound does not depend on the length of the chain.
    expect(causeDepth(toFailureInfo(errorChain(100)))).toBe(depth);
    expect(() => JSON.stringify(overTheWire(errorChain(1_000)))).not.toThrow();
  });

  it('rebuild a FailureInfo nested 100,000 deep (as a worker may send) with a bounded chain', () => {
    let info: FailureInfo = { code: 'APPLICATION_FAILURE', message: 'root' };
    for (let i = 0; i < 100_000; i++) info = { code: 'APPLICATION_FAILURE', message: `level ${i}`, cause: info };
    const failure = fromFailureInfo(info);
    expect(failure.message).toBe('level 99999');
    let depth = 1;
    for (let at: unknown = failure.cause; at instanceof Error; at = at.cause) depth++;
    expect(depth).toBeLessThan(100);
  });

  it('cut a cause cycle instead of looping', () => {
    const a = ApplicationFailure.create({ message: 'a' });
    const b = ApplicationFailure.create({ message: 'b', cause: a });
    a.cause = b;
    expect(causeDepth(toFailureInfo(a))).toBeLessThan(100);
  });
});

describe('Failure JSON', () => {
  it('JSON.stringify of a failure gives its FailureInfo, cause chain included', () => {
    const failure = new ActivityFailure('chargeCard', 'charge', 'maximumAttemptsReached', new TimeoutFailure('startToClose'));
    expect(JSON.parse(JSON.stringify(failure))).toEqual(toFailureInfo(failure));
    expect(JSON.parse(JSON.stringify({ error: failure })).error.cause).toEqual({ code: 'TIMEOUT_FAILURE', message: 'activity startToClose timeout', timeoutType: 'startToClose' });
  });
});
