/**
 * Time enters the engine only through a Clock, so tests can run timers on a simulated clock
 * (the pure part of the engine never reads time at all: it gets it in the event).
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export type TimerHandle = { unref?(): unknown } | number | undefined;

/** setTimeout cannot wait longer than 2^31-1 ms (~24.8 days); longer waits re-arm. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMEOUT_MS)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
