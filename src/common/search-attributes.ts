/**
 * Search attributes: typed values a workflow publishes from its context for listing and
 * counting executions (`client.list({ searchAttributes: { customerId: 'c-1' } })`). These are
 * the shapes every layer shares — the definition declares them, the engine computes them, the
 * store indexes them, the client and the CLI filter on them.
 *
 * | type       | value held and sent                | filter                      |
 * |------------|------------------------------------|-----------------------------|
 * | `keyword`  | a string (at most 256 characters)  | exact match                 |
 * | `number`   | a finite number                    | exact match, or a range     |
 * | `boolean`  | `true` / `false`                   | exact match                 |
 * | `datetime` | ms since epoch, like `startedAt`   | exact match, or a range     |
 *
 * @example
 * const filter: SearchAttributeFilters = { customerId: 'c-1', amount: { gte: 10, lt: 100 } };
 */

export const SEARCH_ATTRIBUTE_TYPES = ['keyword', 'number', 'boolean', 'datetime'] as const;
export type SearchAttributeType = (typeof SEARCH_ATTRIBUTE_TYPES)[number];

/** A value as held in a run record and sent on the wire (a datetime is ms since epoch). */
export type SearchAttributeValue = string | number | boolean;

/** The search attributes of one run, by name. An attribute that is unset is absent. */
export type SearchAttributes = Record<string, SearchAttributeValue>;

/**
 * A range of a number or datetime attribute; lower bounds `gte`/`gt`, upper bounds `lte`/`lt`.
 * At least one bound; at most one of each side.
 */
export interface SearchAttributeRange<T = number> {
  gte?: T;
  gt?: T;
  lte?: T;
  lt?: T;
}

/** A filter on one attribute: a value (exact match) or a range (number and datetime only). */
export type SearchAttributeFilter = SearchAttributeValue | SearchAttributeRange;

/** Filters on search attributes by name; every one must match (a run without the attribute never does). */
export type SearchAttributeFilters = Record<string, SearchAttributeFilter>;

/**
 * Filters as a caller may give them: bounds (and numbers, booleans) may also be text, as a query
 * string or a CLI flag carries them; the server reads each by the attribute's declared type.
 */
export type SearchAttributeFilterInput = Record<string, SearchAttributeValue | SearchAttributeRange<number | string>>;

/** Names are identifiers, so they read the same in a query string, a CLI flag and JSON. */
export const SEARCH_ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Longest keyword value: it is part of an index key. A longer value leaves the attribute unset. */
export const MAX_KEYWORD_LENGTH = 256;

/** Most attributes one workflow may declare: each is one more index entry per run. */
export const MAX_SEARCH_ATTRIBUTES = 32;

export const RANGE_BOUNDS = ['gte', 'gt', 'lte', 'lt'] as const;

/** Whether a filter is a range (`{ gte: 10 }`) rather than a value to match. */
export function isRange(filter: unknown): filter is SearchAttributeRange<unknown> {
  return typeof filter === 'object' && filter !== null && !Array.isArray(filter);
}

/** Whether two sets of attributes hold the same values (absent and `{}` are the same). */
export function sameSearchAttributes(a: SearchAttributes | undefined, b: SearchAttributes | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => Object.is(a![k], b?.[k]));
}
