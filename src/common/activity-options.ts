/**
 * How the server schedules, times out and retries an activity. Field names and defaults follow
 * Temporal's, so its users know them. Durations are milliseconds, or strings such as '30s'.
 */
export interface RetryPolicy {
  /** Delay before the first retry. Default 1 s. */
  initialInterval?: Duration;
  /** Each retry waits this many times longer than the previous one. Default 2. */
  backoffCoefficient?: number;
  /** Cap on the delay between retries. Default 100 × initialInterval. */
  maximumInterval?: Duration;
  /** Total attempts including the first; 0 or undefined means unlimited. */
  maximumAttempts?: number;
  /** Failure types (ApplicationFailure.type or Error name) never retried. */
  nonRetryableErrorTypes?: string[];
}

export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

export interface ActivityOptions {
  /** The queue workers poll for this activity. Default: 'default'. */
  taskQueue?: string;
  retry?: RetryPolicy;
  /** Longest a single attempt may run once a worker has it. */
  startToCloseTimeout?: Duration;
  /** Longest the activity may take in all, retries included. */
  scheduleToCloseTimeout?: Duration;
  /** Longest an attempt may wait on the queue for a worker. */
  scheduleToStartTimeout?: Duration;
  /** Longest a running attempt may go without a heartbeat. */
  heartbeatTimeout?: Duration;
}
