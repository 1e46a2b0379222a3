import { MAX_KEYWORD_LENGTH, type SearchAttributes, type SearchAttributeType, type SearchAttributeValue } from '../../common/search-attributes.ts';
import type { SearchAttributeDeclarations } from '../../definition/search-attributes.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';

/** An attribute a mapping could not give a value to: it is left unset. */
export interface SearchAttributeProblem {
  name: string;
  message: string;
}

/**
 * The search attributes of a context, by the workflow's declarations. Pure, and it never throws:
 * a mapping that throws or returns a value of the wrong type leaves its attribute unset and is
 * reported in `problems` (the run goes on — a listing aid must never fail an execution).
 * `undefined` and `null` leave an attribute unset without a problem ("not known yet").
 *
 * @example
 * computeSearchAttributes({ amount: { type: 'number', from: (c) => c.amount } }, { amount: '12' })
 * // { values: {}, problems: [{ name: 'amount', message: 'returned a string, expected a finite number' }] }
 */
export function computeSearchAttributes<Context>(declarations: SearchAttributeDeclarations<Context>, context: Context): { values: SearchAttributes; problems: SearchAttributeProblem[] } {
  const values: SearchAttributes = {};
  const problems: SearchAttributeProblem[] = [];
  for (const [name, { type, from }] of Object.entries(declarations)) {
    let raw: unknown;
    try {
      raw = from(context);
    } catch (error) {
      problems.push({ name, message: `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` });
      continue;
    }
    if (raw === undefined || raw === null) continue;
    const result = coerce(type, raw);
    if ('problem' in result) problems.push({ name, message: result.problem });
    else values[name] = result.value;
  }
  return { values, problems };
}

/** The value as the store holds it, or what is wrong with it. */
function coerce(type: SearchAttributeType, raw: unknown): { value: SearchAttributeValue } | { problem: string } {
  const got = `returned ${describe(raw)}`;
  switch (type) {
    case 'keyword':
      if (typeof raw !== 'string') return { problem: `${got}, expected a string` };
      if (raw.length > MAX_KEYWORD_LENGTH) return { problem: `returned a string of ${raw.length} characters, longer than ${MAX_KEYWORD_LENGTH}` };
      if (LONE_SURROGATE.test(raw)) return { problem: 'returned a string that is not well-formed Unicode' };
      return { value: raw };
    case 'number':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return { problem: `${got}, expected a finite number` };
      return { value: raw === 0 ? 0 : raw }; // -0 is indexed as 0
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : { problem: `${got}, expected a boolean` };
    case 'datetime': {
      const ms = raw instanceof Date ? raw.getTime() : typeof raw === 'number' ? raw : typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
      return Number.isFinite(ms) ? { value: ms } : { problem: `${got}, expected a Date, ms since epoch or an ISO 8601 string` };
    }
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describe(value: unknown): string {
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The attributes already warned about, per definition: a broken mapping is told once, not on every step. */
const warned = new WeakMap<WorkflowDefinition, Set<string>>();

/**
 * The engine's hook: the search attributes of a run after a step, from its new snapshot; undefined
 * when the workflow declares none. Each attribute whose mapping fails is told once per workflow
 * version and process, as a Node process warning with code `PERDURE_SEARCH_ATTRIBUTE` (printed
 * on stderr; listen with `process.on('warning')`).
 */
export function searchAttributesAfter(definition: WorkflowDefinition, snapshot: { context?: unknown } | undefined): SearchAttributes | undefined {
  const declarations = definition.searchAttributes;
  if (!declarations || Object.keys(declarations).length === 0) return undefined;
  const { values, problems } = computeSearchAttributes(declarations, snapshot?.context);
  for (const { name, message } of problems) {
    const seen = warned.get(definition) ?? new Set<string>();
    warned.set(definition, seen);
    if (seen.has(name)) continue;
    seen.add(name);
    process.emitWarning(
      `search attribute "${name}" of workflow "${definition.type}"@${definition.version} is left unset: its mapping ${message}. ` +
        'Fix the mapping in workflow(machine, { searchAttributes }); this is told once per process.',
      { code: 'PERDURE_SEARCH_ATTRIBUTE' },
    );
  }
  return values;
}
