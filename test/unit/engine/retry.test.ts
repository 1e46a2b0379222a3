import { describe, it, expect } from 'vitest';
import type { ActivityOptions } from '../../../src/common/activity-options.ts';
import type { FailureInfo } from '../../../src/common/failures.ts';
import { retryDecision } from '../../../src/engine/core/retry.ts';

const failed: FailureInfo = { code: 'APPLICATION_FAILURE', message: 'gateway down', type: 'GatewayDown' };
const timedOut = (timeoutType: NonNullable<FailureInfo['timeoutType']>): FailureInfo =>
  ({ code: 'TIMEOUT_FAILURE', message: `activity ${timeoutType} timeout`, timeoutType });

/** Delays of attempts 1..n failing at time 0 (no deadline in play). */
const delays = (options: ActivityOptions, n: number) =>
  Array.from({ length: n }, (_, i) => {
    const decision = retryDecision(options, i + 1, failed, 0, 0);
    return decision.retry ? decision.delayMs : decision.retryState;
  });

describe('retryDecision()', () => {
  it("follows Temporal's defaults: 1 s, doubling, capped at 100 s, attempts unlimited", () => {
    expect(delays({}, 9)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 100_000, 100_000]);
    expect(retryDecision({}, 5_000, failed, 0, 0)).toEqual({ retry: true, delayMs: 100_000 });
  });

  it('grows from a custom initial interval by a custom coefficient', () => {
    expect(delays({ retry: { initialInterval: '500ms', backoffCoefficient: 3 } }, 4)).toEqual([500, 1_500, 4_500, 13_500]);
    expect(delays({ retry: { initialInterval: 200, backoffCoefficient: 1 } }, 3)).toEqual([200, 200, 200]);
  });

  it('caps delays at a custom maximumInterval', () => {
    expect(delays({ retry: { initialInterval: '1s', maximumInterval: '5s' } }, 6)).toEqual([1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('stops after maximumAttempts with maximumAttemptsReached', () => {
    const options = { retry: { maximumAttempts: 3 } };
    expect(retryDecision(options, 2, failed, 0, 0)).toEqual({ retry: true, delayMs: 2_000 });
    expect(retryDecision(options, 3, failed, 0, 0)).toEqual({ retry: false, retryState: 'maximumAttemptsReached' });
    expect(retryDecision({ retry: { maximumAttempts: 1 } }, 1, failed, 0, 0)).toEqual({ retry: false, retryState: 'maximumAttemptsReached' });
  });

  it('treats maximumAttempts 0 as unlimited', () => {
    expect(retryDecision({ retry: { maximumAttempts: 0 } }, 1_000, failed, 0, 0).retry).toBe(true);
  });

  it('does not retry a nonRetryable failure, whatever attempts remain', () => {
    const decision = retryDecision({ retry: { maximumAttempts: 10 } }, 1, { ...failed, nonRetryable: true }, 0, 0);
    expect(decision).toEqual({ retry: false, retryState: 'nonRetryableFailure' });
  });

  it('does not retry a failure whose type is in nonRetryableErrorTypes, and retries other types', () => {
    const options = { retry: { nonRetryableErrorTypes: ['CardDeclined', 'GatewayDown'] } };
    expect(retryDecision(options, 1, failed, 0, 0)).toEqual({ retry: false, retryState: 'nonRetryableFailure' });
    expect(retryDecision(options, 1, { ...failed, type: 'RateLimited' }, 0, 0)).toEqual({ retry: true, delayMs: 1_000 });
  });

  it('never retries a scheduleToStart timeout', () => {
    expect(retryDecision({}, 1, timedOut('scheduleToStart'), 0, 0)).toEqual({ retry: false, retryState: 'timeout' });
  });

  it('never retries a scheduleToClose timeout', () => {
    expect(retryDecision({}, 1, timedOut('scheduleToClose'), 0, 0)).toEqual({ retry: false, retryState: 'timeout' });
  });

  it('retries startToClose and heartbeat timeouts like other failures', () => {
    expect(retryDecision({}, 1, timedOut('startToClose'), 0, 0)).toEqual({ retry: true, delayMs: 1_000 });
    expect(retryDecision({}, 2, timedOut('heartbeat'), 0, 0)).toEqual({ retry: true, delayMs: 2_000 });
  });

  it('does not take a retry that would start after the scheduleToClose deadline', () => {
    const options = { scheduleToCloseTimeout: '10s' } as const;
    const scheduledAt = 1_000_000;
    // Attempt 3 failed 5 s after scheduling: the next try would start at 9 s, inside the deadline.
    expect(retryDecision(options, 3, failed, scheduledAt + 5_000, scheduledAt)).toEqual({ retry: true, delayMs: 4_000 });
    // Attempt 3 failed 7 s after scheduling: the next try would start at 11 s, past it.
    expect(retryDecision(options, 3, failed, scheduledAt + 7_000, scheduledAt)).toEqual({ retry: false, retryState: 'timeout' });
  });
});
