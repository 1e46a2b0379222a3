import {
  MAX_SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_NAME, SEARCH_ATTRIBUTE_TYPES, type SearchAttributeType,
} from '../common/search-attributes.ts';

/**
 * One search attribute of a workflow: its type, and how to read it from the machine's context.
 * `from` runs after every committed step, on the new context; it must be pure and quick (it runs
 * on the engine's hot path). Returning `undefined` or `null` leaves the attribute unset.
 *
 * What `from` may return: a string for `keyword`, a finite number for `number`, a boolean for
 * `boolean`, and for `datetime` a `Date`, ms since epoch, or an ISO 8601 string.
 *
 * @example
 * const customerId: SearchAttributeDeclaration<{ customerId: string }> = { type: 'keyword', from: (ctx) => ctx.customerId };
 */
export interface SearchAttributeDeclaration<Context = unknown> {
  type: SearchAttributeType;
  from: (context: Context) => unknown;
}

/** The search attributes of a workflow, by name. */
export type SearchAttributeDeclarations<Context = unknown> = Record<string, SearchAttributeDeclaration<Context>>;

/**
 * What is wrong with a declaration, as sentences that say what to do (none: it is fine). Checked
 * by `workflow()`, so a bad declaration fails at registration, not at the first step.
 *
 * @example
 * findSearchAttributeProblems({ amount: { type: 'money', from: (c) => c.amount } })
 * // ['search attribute "amount": type "money" is not one of keyword, number, boolean, datetime']
 */
export function findSearchAttributeProblems(declarations: unknown): string[] {
  if (declarations === undefined) return [];
  if (typeof declarations !== 'object' || declarations === null || Array.isArray(declarations)) {
    return ['searchAttributes must be an object of name → { type, from }, e.g. { customerId: { type: "keyword", from: (ctx) => ctx.customerId } }'];
  }
  const entries = Object.entries(declarations);
  const problems: string[] = [];
  if (entries.length > MAX_SEARCH_ATTRIBUTES) {
    problems.push(`searchAttributes declares ${entries.length} attributes; at most ${MAX_SEARCH_ATTRIBUTES} (each is an index entry per execution)`);
  }
  for (const [name, declaration] of entries) {
    const where = `search attribute "${name}"`;
    if (!SEARCH_ATTRIBUTE_NAME.test(name)) {
      problems.push(`${where}: a name is letters, digits and _, not starting with a digit, at most 64 characters (it is used in query strings and CLI flags)`);
    }
    if (typeof declaration !== 'object' || declaration === null) {
      problems.push(`${where}: expected { type, from }, got ${declaration === null ? 'null' : typeof declaration}`);
      continue;
    }
    const { type, from } = declaration as { type?: unknown; from?: unknown };
    if (!(SEARCH_ATTRIBUTE_TYPES as readonly unknown[]).includes(type)) {
      problems.push(`${where}: type ${JSON.stringify(type)} is not one of ${SEARCH_ATTRIBUTE_TYPES.join(', ')}`);
    }
    if (typeof from !== 'function') {
      problems.push(`${where}: from must be a function of the context, e.g. from: (ctx) => ctx.${SEARCH_ATTRIBUTE_NAME.test(name) ? name : 'field'}`);
    }
    const extra = Object.keys(declaration).filter((k) => k !== 'type' && k !== 'from');
    if (extra.length > 0) problems.push(`${where}: unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')} (a declaration has type and from)`);
  }
  return problems;
}
