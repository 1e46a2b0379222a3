import type { ActivityOptions } from '../../common/activity-options.ts';
import { toMs } from '../../common/duration.ts';
import type { FailureInfo, RetryState } from '../../common/failures.ts';

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; retryState: RetryState };

/**
 * Whether a failed attempt is retried, and after how long. Temporal's policy and defaults:
 * initial interval 1 s, coefficient 2, maximum interval 100 × initial, unlimited attempts.
 * Pure: `attempt` is the number of the attempt that just failed (1 = first).
 */
export function retryDecision(options: ActivityOptions, attempt: number, failure: FailureInfo, now: number, scheduledAt: number): RetryDecision {
  const policy = options.retry ?? {};
  if (failure.nonRetryable || (failure.type !== undefined && policy.nonRetryableErrorTypes?.includes(failure.type))) {
    return { retry: false, retryState: 'nonRetryableFailure' };
  }
  if (failure.code === 'TIMEOUT_FAILURE' && (failure.timeoutType === 'scheduleToStart' || failure.timeoutType === 'scheduleToClose')) {
    return { retry: false, retryState: 'timeout' };
  }
  const maximumAttempts = policy.maximumAttempts ?? 0;
  if (maximumAttempts > 0 && attempt >= maximumAttempts) return { retry: false, retryState: 'maximumAttemptsReached' };
  const initial = toMs(policy.initialInterval ?? 1000);
  const maximum = policy.maximumInterval === undefined ? 100 * initial : toMs(policy.maximumInterval);
  const delayMs = Math.min(maximum, initial * Math.pow(policy.backoffCoefficient ?? 2, attempt - 1));
  if (options.scheduleToCloseTimeout !== undefined && now + delayMs >= scheduledAt + toMs(options.scheduleToCloseTimeout)) {
    return { retry: false, retryState: 'timeout' };
  }
  return { retry: true, delayMs };
}
