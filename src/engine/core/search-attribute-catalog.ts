import { InvalidArgumentError, InvalidDefinitionError } from '../../common/errors.ts';
import {
  isRange, RANGE_BOUNDS, type SearchAttributeFilter, type SearchAttributeFilters, type SearchAttributeType,
} from '../../common/search-attributes.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';

/**
 * Every search attribute the registered workflows declare, with its one type. A name has one
 * type on a server, whichever workflow declares it (so `customerId` means the same in every
 * listing); two declarations that disagree fail at engine start.
 *
 * It turns the filters a caller sends into what the store matches: `'10'` from a query string is
 * the number 10 for a number attribute, `'2026-01-01T00:00:00Z'` is ms since epoch for a datetime,
 * `'true'` is a boolean. A filter on a name no workflow declares is refused, naming those that are.
 *
 * @example
 * const catalog = new SearchAttributeCatalog([orderWorkflow]);
 * catalog.filters({ customerId: 'c-1', amount: { gte: '10' } }); // { customerId: 'c-1', amount: { gte: 10 } }
 */
export class SearchAttributeCatalog {
  private readonly types = new Map<string, { type: SearchAttributeType; declaredBy: string }>();

  constructor(definitions: readonly WorkflowDefinition[]) {
    for (const definition of definitions) {
      for (const [name, { type }] of Object.entries(definition.searchAttributes ?? {})) {
        const where = `"${definition.type}"@${definition.version}`;
        const known = this.types.get(name);
        if (known && known.type !== type) {
          throw new InvalidDefinitionError(definition.type, [
            `search attribute "${name}" is declared as ${type} here and as ${known.type} by ${known.declaredBy}: a name has one type on a server, so rename one of them`,
          ]);
        }
        if (!known) this.types.set(name, { type, declaredBy: where });
      }
    }
  }

  /** The declared attributes and their types, by name. */
  declared(): Record<string, SearchAttributeType> {
    return Object.fromEntries([...this.types].map(([name, { type }]) => [name, type]));
  }

  /** Filters as the store takes them (undefined when none are given); INVALID_ARGUMENT names what is wrong. */
  filters(raw: unknown): SearchAttributeFilters | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new InvalidArgumentError(`searchAttributes must be an object of name → value or range, got ${JSON.stringify(raw)}`);
    }
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length === 0) return undefined;
    const filters: SearchAttributeFilters = {};
    for (const [name, filter] of entries) filters[name] = this.filter(name, filter);
    return filters;
  }

  private filter(name: string, filter: unknown): SearchAttributeFilter {
    const declared = this.types.get(name);
    if (!declared) {
      const known = [...this.types].map(([n, { type }]) => `${n} (${type})`).join(', ');
      throw new InvalidArgumentError(`no registered workflow declares a search attribute "${name}" (declared: ${known || 'none'}).`);
    }
    const { type } = declared;
    if (!isRange(filter)) return valueOf(type, name, filter);
    if (type === 'keyword' || type === 'boolean') {
      throw new InvalidArgumentError(`searchAttributes.${name}: a ${type} attribute matches one value exactly; ranges are for number and datetime attributes.`);
    }
    const range: Record<string, number> = {};
    for (const [bound, value] of Object.entries(filter)) {
      if (!(RANGE_BOUNDS as readonly string[]).includes(bound)) {
        throw new InvalidArgumentError(`searchAttributes.${name}: unknown bound "${bound}"; use gte, gt, lte, lt.`);
      }
      if (value !== undefined) range[bound] = valueOf(type, `${name}.${bound}`, value) as number;
    }
    return range; // the store checks the bounds' combination
  }
}

/** A value of the attribute's type, from itself or from its text (a query string, a CLI flag). */
function valueOf(type: SearchAttributeType, what: string, value: unknown): string | number | boolean {
  const refuse = (expected: string): never => {
    throw new InvalidArgumentError(`searchAttributes.${what}: expected ${expected}, got ${JSON.stringify(value)}.`);
  };
  switch (type) {
    case 'keyword':
      return typeof value === 'string' ? value : refuse('a string (a keyword attribute)');
    case 'boolean':
      if (typeof value === 'boolean') return value;
      return value === 'true' ? true : value === 'false' ? false : refuse('true or false (a boolean attribute)');
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      return Number.isFinite(n) ? n : refuse('a finite number (a number attribute)');
    }
    case 'datetime': {
      const ms = typeof value === 'number' ? value
        : typeof value === 'string' ? (/^-?\d+$/.test(value) ? Number(value) : Date.parse(value)) : Number.NaN;
      return Number.isFinite(ms) ? ms : refuse('ms since epoch or an ISO 8601 time like 2026-01-02T03:04:05Z (a datetime attribute)');
    }
  }
}
