/**
 * An XState state value in one short line, as the CLI and the web UI print it beside a status:
 * `'declined'`, `'shipping.packing'` for `{ shipping: 'packing' }`, and a parallel state's
 * regions in braces, `'working.{upload: sending, progress: counting}'`. Pure, no XState.
 *
 * @example
 * stateValueText({ shipping: 'packing' }); // 'shipping.packing'
 */
export function stateValueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1) return `${entries[0]![0]}.${stateValueText(entries[0]![1])}`;
    return `{${entries.map(([k, v]) => `${k}: ${stateValueText(v)}`).join(', ')}}`;
  }
  return String(value);
}

/**
 * A status with the state the run closed in: `'completed, in state declined'`, so that a run
 * that completed in a failure-like final state does not read as a plain success. The status
 * alone while the run is open, or when the state is not known.
 *
 * @example
 * statusWithState('completed', 'declined'); // 'completed, in state declined'
 */
export function statusWithState(status: string, finalState: unknown): string {
  return finalState === undefined || finalState === null ? status : `${status}, in state ${stateValueText(finalState)}`;
}
