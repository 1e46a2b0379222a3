import { InvalidArgumentError } from './errors.ts';
import type { SearchAttributeFilterInput, SearchAttributeRange } from './search-attributes.ts';

/**
 * Search-attribute filters written as short expressions, as the HTTP query string (`attr=…`,
 * repeatable) and the CLI (`--attr …`, repeatable) take them: `name=value` matches exactly,
 * `name>=value`, `name>value`, `name<=value`, `name<value` bound a number or datetime. Several on
 * one name make one range. Values stay text: the server reads them by the declared type.
 *
 * @example
 * parseAttributeExpressions(['customerId=c-1', 'amount>=10', 'amount<100'])
 * // { customerId: 'c-1', amount: { gte: '10', lt: '100' } }
 */
export function parseAttributeExpressions(expressions: readonly string[], what = 'attr'): SearchAttributeFilterInput {
  const filters: SearchAttributeFilterInput = {};
  for (const expression of expressions) {
    const match = EXPRESSION.exec(expression);
    if (!match) {
      throw new InvalidArgumentError(
        `${what}: ${JSON.stringify(expression)} is not a filter; write name=value, or name>=value, name>value, name<=value, name<value (e.g. customerId=c-1, amount>=10).`,
      );
    }
    const [, name, op, value] = match as unknown as [string, string, keyof typeof BOUND | '=', string];
    const existing = filters[name];
    if (op === '=') {
      if (existing !== undefined) throw new InvalidArgumentError(`${what}: "${name}" is filtered twice; an exact match stands alone.`);
      filters[name] = value;
      continue;
    }
    if (existing !== undefined && typeof existing !== 'object') throw new InvalidArgumentError(`${what}: "${name}" is filtered twice; an exact match stands alone.`);
    const range: SearchAttributeRange<string | number> = existing ?? {};
    const bound = BOUND[op];
    const side = bound === 'gte' || bound === 'gt' ? ['gte', 'gt'] as const : ['lte', 'lt'] as const;
    if (side.some((b) => range[b] !== undefined)) {
      throw new InvalidArgumentError(`${what}: "${name}" has two ${side[0] === 'gte' ? 'lower' : 'upper'} bounds; give one of each at most.`);
    }
    range[bound] = value;
    filters[name] = range;
  }
  return filters;
}

const EXPRESSION = /^([A-Za-z_][A-Za-z0-9_]{0,63})(>=|<=|>|<|=)(.*)$/s;
const BOUND = { '>=': 'gte', '>': 'gt', '<=': 'lte', '<': 'lt' } as const;
