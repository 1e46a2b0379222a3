/**
 * Exponential backoff with jitter for reconnecting: 100 ms, 200 ms, 400 ms … up to 5 s by
 * default, each delay drawn between half and all of its step, so that many workers cut off
 * together by a server restart do not come back in lockstep.
 *
 * @example
 * const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
 * setTimeout(reconnect, backoff.next()); // after a failure
 * backoff.reset();                       // after a success
 */
export class Backoff {
  private failures = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(options: { initialMs?: number; maxMs?: number } = {}, private readonly random: () => number = Math.random) {
    this.initialMs = Math.max(1, options.initialMs ?? 100);
    this.maxMs = Math.max(this.initialMs, options.maxMs ?? 5_000);
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(step / 2 + (this.random() * step) / 2);
  }

  reset(): void {
    this.failures = 0;
  }
}
