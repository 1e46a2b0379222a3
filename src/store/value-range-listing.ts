import type { ClassicLevel } from 'classic-level';
import { continueRange, pageTokenOf, type ListingPlan } from './listing-plan.ts';
import type { ListRunsPage } from './store.ts';
import type { RunSummary } from '../common/execution-types.ts';

/**
 * Most keys of a value range read to answer a listing from the attribute's value index. Within
 * it, a page costs reading the range's keys (keys only), sorting them newest first and reading
 * the page's rows. Beyond it the range is broad — more than 2% of 100,000 runs — and the store
 * scans the newest-first index instead, where the matches are then dense enough to fill a page
 * soon (`bench/visibility-bench.ts` shows both sides of the line).
 */
export const VALUE_RANGE_BUDGET = 2000;

type Db = ClassicLevel<string, Buffer>;
type Decode = (value: Buffer) => RunSummary;

/**
 * A page of a listing with a range on a number or datetime attribute, read from that attribute's
 * value index (`plan.byValue`); undefined when the range holds more than `VALUE_RANGE_BUDGET`
 * keys, and the caller scans instead. Page tokens are the same as the scan's, so a listing may
 * switch between the two from one page to the next (as the range fills up or empties).
 *
 * @example
 * const page = plan.byValue && await listByValue(db, plan, query.pageToken, 100, decode);
 */
export async function listByValue(db: Db, plan: ListingPlan, pageToken: string | undefined, limit: number, decode: Decode): Promise<ListRunsPage | undefined> {
  const found = await candidates(db, plan, pageToken);
  if (!found) return undefined;
  const filter = plan.byValue!.filter;
  const runs: RunSummary[] = [];
  let lastKey = ''; // of the last run on the page: where the next page continues
  const chunkSize = filter ? 256 : limit + 1;
  for (let from = 0; from < found.length; from += chunkSize) {
    const chunk = found.slice(from, from + chunkSize);
    const values = await db.getMany(chunk.map((c) => c.key)); // the value index holds keys only: rows are in the plan's index
    for (const [i, value] of values.entries()) {
      if (value === undefined) continue; // it moved since the keys were read (another status): listed elsewhere now
      const summary = decode(value);
      if (filter && !filter(summary)) continue;
      // A match beyond the page proves there is a next page.
      if (runs.length === limit) return { runs, nextPageToken: pageTokenOf(lastKey) };
      runs.push(summary);
      lastKey = chunk[i]!.key;
    }
  }
  return { runs };
}

/** How many runs the value range holds that pass the plan's checks; undefined beyond the budget. */
export async function countByValue(db: Db, plan: ListingPlan, decode: Decode): Promise<number | undefined> {
  const found = await candidates(db, plan, undefined);
  if (!found) return undefined;
  const filter = plan.byValue!.filter;
  if (!filter) return found.length;
  const values = await db.getMany(found.map((c) => c.key));
  return values.filter((value) => value !== undefined && filter(decode(value))).length;
}

/**
 * The value range's keys, each with the key it has in the plan's newest-first index, kept when
 * that key is in the plan's range (the start window) after the page token, sorted newest first.
 */
async function candidates(db: Db, plan: ListingPlan, pageToken: string | undefined): Promise<Array<{ key: string; valueKey: string }> | undefined> {
  const { range, tailAt } = plan.byValue!;
  const window = continueRange(plan, pageToken); // checks the token, whichever way the listing is read
  const valueKeys = await db.keys({ ...range, limit: VALUE_RANGE_BUDGET + 1 }).all();
  if (valueKeys.length > VALUE_RANGE_BUDGET) return undefined;
  const after = (key: string) => ('gt' in window ? key > window.gt : key >= window.gte);
  return valueKeys
    .map((valueKey) => ({ valueKey, key: plan.prefix + valueKey.slice(tailAt) }))
    .filter(({ key }) => after(key) && key < window.lt)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
