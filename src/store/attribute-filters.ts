import { InvalidArgumentError } from '../common/errors.ts';
import {
  isRange, RANGE_BOUNDS, SEARCH_ATTRIBUTE_NAME, type SearchAttributeFilters, type SearchAttributeRange, type SearchAttributeValue,
} from '../common/search-attributes.ts';
import type { RunSummary } from '../common/execution-types.ts';

/**
 * The search-attribute part of a listing query, checked and ready to plan: which exact match
 * (if any) the listing should read as its index, and the checks to run on each row for the
 * rest. Values are typed as the store holds them (a string is a keyword; a datetime is a number).
 *
 * @example
 * const a = attributeFilters({ customerId: 'c-1', amount: { gte: 10 } }, 'listRuns');
 * a.index(false); // { name: 'customerId', value: 'c-1' }
 */
export interface AttributeFilters {
  /**
   * The exact match to read as the listing's index. A keyword or number match is taken before
   * status and type (it is usually the most selective: one customer, one order); a boolean
   * match only when neither status nor type is given (it splits runs in two, at best).
   */
  index(hasStatusOrType: boolean): { name: string; value: SearchAttributeValue } | undefined;
  /** Row checks for every filter except `indexed` (already answered by the index). */
  checks(indexed?: string): Array<(summary: RunSummary) => boolean>;
  /** The first range filter, for a listing that may read the attribute's value index instead. */
  range(): { name: string; bounds: SearchAttributeRange } | undefined;
}

type Check = { name: string; exact?: SearchAttributeValue; bounds?: SearchAttributeRange; test: (value: SearchAttributeValue | undefined) => boolean };

export function attributeFilters(filters: SearchAttributeFilters | undefined, op: string): AttributeFilters {
  if (filters !== undefined && (typeof filters !== 'object' || filters === null || Array.isArray(filters))) {
    throw new InvalidArgumentError(`${op}: searchAttributes must be an object of attribute name → value or range, got ${JSON.stringify(filters)}.`);
  }
  const all: Check[] = Object.entries(filters ?? {}).map(([name, filter]) => checkOf(name, filter, op));
  return {
    index(hasStatusOrType) {
      const exact = all.filter((c) => c.exact !== undefined);
      const pick = exact.find((c) => typeof c.exact !== 'boolean') ?? (hasStatusOrType ? undefined : exact[0]);
      return pick && { name: pick.name, value: pick.exact! };
    },
    checks(indexed) {
      return all.filter((c) => c.name !== indexed).map((c) => (s: RunSummary) => c.test(s.searchAttributes?.[c.name]));
    },
    range() {
      const ranged = all.find((c) => c.bounds !== undefined);
      return ranged && { name: ranged.name, bounds: ranged.bounds! };
    },
  };
}

function checkOf(name: string, filter: unknown, op: string): Check {
  if (!SEARCH_ATTRIBUTE_NAME.test(name)) {
    throw new InvalidArgumentError(`${op}: ${JSON.stringify(name)} is not a search attribute name (letters, digits and _, not starting with a digit, at most 64).`);
  }
  if (typeof filter === 'string' || typeof filter === 'boolean' || (typeof filter === 'number' && Number.isFinite(filter))) {
    const exact = filter === 0 ? 0 : filter; // -0 matches 0, as the index holds it
    return { name, exact, test: (v) => v === exact };
  }
  if (!isRange(filter)) {
    throw new InvalidArgumentError(`${op}: searchAttributes.${name} must be a value to match or a range like { gte: 10, lt: 100 }, got ${JSON.stringify(filter)}.`);
  }
  const bounds = filter as Record<string, unknown>;
  const unknown = Object.keys(bounds).filter((k) => !(RANGE_BOUNDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new InvalidArgumentError(`${op}: searchAttributes.${name}: unknown bound ${unknown.join(', ')}; use gte, gt, lte, lt.`);
  const given = RANGE_BOUNDS.filter((k) => bounds[k] !== undefined);
  if (given.length === 0) throw new InvalidArgumentError(`${op}: searchAttributes.${name}: a range needs at least one of gte, gt, lte, lt.`);
  if ((bounds.gte !== undefined && bounds.gt !== undefined) || (bounds.lte !== undefined && bounds.lt !== undefined)) {
    throw new InvalidArgumentError(`${op}: searchAttributes.${name}: give one lower bound (gte or gt) and one upper bound (lte or lt).`);
  }
  for (const k of given) {
    if (typeof bounds[k] !== 'number' || !Number.isFinite(bounds[k])) {
      throw new InvalidArgumentError(`${op}: searchAttributes.${name}.${k} must be a finite number (ranges are for number and datetime attributes), got ${JSON.stringify(bounds[k])}.`);
    }
  }
  const { gte, gt, lte, lt } = bounds as Record<string, number | undefined>;
  return {
    name, bounds: { gte, gt, lte, lt },
    test: (v) => typeof v === 'number'
      && (gte === undefined || v >= gte) && (gt === undefined || v > gt)
      && (lte === undefined || v <= lte) && (lt === undefined || v < lt),
  };
}
