import { InvalidArgumentError } from '../common/errors.ts';
import type { StateJson, TransitionJson } from './machine-json.ts';

/**
 * What `perdure machine export` and the web UI give for one machine version: a config that
 * `createMachine(config)` loads back (states, initial states, `on`, `after`, `always`, `invoke`,
 * tags, meta, guards and actions by name, and the context a run starts with when it has no
 * input), and the machine's named delays as values in milliseconds. The delays are apart
 * because XState reads them from the implementations, never from the config: the ts export
 * declares them with `setup({ delays })`; a JSON user passes them as `createMachine(config, { delays })`.
 */
export interface StatelyExport {
  config: Config;
  /** Named delays (`after: { approvalTimeout: … }`) as their value for a run started without input. */
  delays: Record<string, number>;
}

/**
 * A machine's JSON definition as the config `createMachine` takes and Stately Studio imports.
 * What JSON cannot carry is left out: inline functions (an `assign` written in place, a guard
 * predicate, an invoke's `input`) and XState's built-in actions, so the diagram is whole and
 * the logic stays in your code.
 *
 * Pure (no DOM, no Node APIs): the web UI and `perdure machine export` both call it.
 *
 * @param context the config's `context` (a value: a context factory is code); left out when undefined.
 * @throws InvalidArgumentError when `definition` is not a machine's JSON.
 * @example
 * createMachine(statelyConfig(JSON.parse(JSON.stringify(approvalMachine)))); // loads, draws the same
 */
export function statelyConfig(definition: unknown, context?: unknown): Config {
  const root = definition as StateJson | null;
  if (!root || typeof root !== 'object' || typeof root.id !== 'string') {
    throw new InvalidArgumentError('definition: expected the JSON of an XState machine (machine.toJSON()), an object with an "id"');
  }
  const config = stateConfig(root, null);
  if (context === undefined) return config;
  // Context right after the id, where people write it.
  const { id, ...rest } = config;
  return { id, context, ...rest };
}

/**
 * An export as the code Stately Studio imports ("Import → from code"): `createMachine({...})`,
 * or `setup({ delays }).createMachine({...})` when the machine names delays, so that the code
 * run in plain XState waits as long as the server would (an undeclared delay fires at once).
 *
 * @example
 * statelyCode(statelyExport(approvalMachine));
 * // import { setup } from 'xstate';
 * //
 * // export const machine = setup({ delays: { approvalTimeout: 86400000, … } }).createMachine({ id: 'approval', … });
 */
export function statelyCode(exported: StatelyExport): string {
  const config = printJs(exported.config, 0);
  if (Object.keys(exported.delays).length === 0) {
    return `import { createMachine } from 'xstate';\n\nexport const machine = createMachine(${config});\n`;
  }
  return `import { setup } from 'xstate';\n\nexport const machine = setup(${printJs({ delays: exported.delays }, 0)}).createMachine(${config});\n`;
}

type Config = Record<string, unknown>;

function stateConfig(state: StateJson, parent: StateJson | null): Config {
  const out: Config = {};
  // The root always names its id; a child only when it is not the default one.
  if (!parent || state.id !== `${parent.id}.${state.key}`) out.id = state.id;
  if (state.type === 'parallel' || state.type === 'final' || state.type === 'history') out.type = state.type;
  if (state.type === 'history' && state.history === 'deep') out.history = 'deep';
  if (state.description) out.description = state.description;
  const initial = state.initial?.target?.[0];
  if (state.type === 'compound' && initial) out.initial = relativeTarget(state, null, initial, true);
  if (state.tags?.length) out.tags = state.tags;
  if (state.meta && typeof state.meta === 'object' && Object.keys(state.meta).length) out.meta = state.meta;
  const entry = namedActions(state.entry);
  if (entry.length) out.entry = single(entry);
  const exit = namedActions(state.exit);
  if (exit.length) out.exit = single(exit);

  const on: Config = {};
  const after: Config = {};
  const invokes = (state.invoke ?? []).map((i): Config => ({ id: i.id, src: typeof i.src === 'string' ? i.src : i.id }));
  let onDone: unknown;
  for (const [eventType, transitions] of Object.entries(state.on ?? {})) {
    const value = single(transitions.map((t) => transitionConfig(state, parent, t)));
    if (eventType.startsWith('xstate.after.')) {
      after[String(transitions[0]?.delay ?? eventType.slice('xstate.after.'.length).split('.')[0])] = value;
      continue;
    }
    const done = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
    const invoke = done ? invokes.find((i) => i.id === done[2]) : undefined;
    if (done && invoke) {
      invoke[done[1] === 'done' ? 'onDone' : 'onError'] = value;
      continue;
    }
    if (eventType === `xstate.done.state.${state.id}`) {
      onDone = value;
      continue;
    }
    on[eventType] = value;
  }
  if (invokes.length) out.invoke = single(invokes);
  if (Object.keys(on).length) out.on = on;
  if (state.always?.length) out.always = single(state.always.map((t) => transitionConfig(state, parent, t)));
  if (Object.keys(after).length) out.after = after;
  if (onDone !== undefined) out.onDone = onDone;
  const children = Object.values(state.states ?? {});
  if (children.length) out.states = Object.fromEntries(children.map((c) => [c.key, stateConfig(c, state)]));
  return out;
}

function transitionConfig(state: StateJson, parent: StateJson | null, t: TransitionJson): unknown {
  const out: Config = {};
  const targets = (t.target ?? []).map((target) => relativeTarget(state, parent, target, false));
  if (targets.length) out.target = single(targets);
  const guard = named(t.guard);
  if (guard !== undefined) out.guard = guard;
  const actions = namedActions(t.actions);
  if (actions.length) out.actions = single(actions);
  if (t.reenter) out.reenter = true;
  if (t.description) out.description = t.description;
  const keys = Object.keys(out);
  // A bare target reads best as a string, as people write it: `on: { NEXT: 'b' }`.
  return keys.length === 1 && keys[0] === 'target' && typeof out.target === 'string' ? out.target : out;
}

/**
 * A target as people write it: a sibling's key (`approved`), a child's `.key`, else `#id`.
 * Children are found by their actual ids, so states with custom ids resolve too.
 */
function relativeTarget(state: StateJson, parent: StateJson | null, target: string, fromParent: boolean): string {
  const id = target.startsWith('#') ? target.slice(1) : target;
  const scope = fromParent ? state : parent;
  if (scope) {
    for (const child of Object.values(scope.states ?? {})) if (child.id === id) return child.key;
  }
  if (!fromParent) for (const child of Object.values(state.states ?? {})) if (child.id === id) return `.${child.key}`;
  return `#${id}`;
}

/** User actions by name (with their params); inline functions and XState's built-ins (assign, the raise/cancel behind `after`) are left out. */
function namedActions(actions: unknown[] | undefined): unknown[] {
  return (actions ?? []).flatMap((a) => {
    const action = named(a);
    const type = typeof action === 'string' ? action : (action as { type: string } | undefined)?.type;
    return type === undefined || type === '' || type.startsWith('xstate.') ? [] : [action];
  });
}

/** A guard or action as a config writes it: its name, or `{ type, params }` when it has params. */
function named(value: unknown): unknown {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string') {
    const { type, params } = value as { type: string; params?: unknown };
    return params === undefined ? type : { type, params };
  }
  return undefined;
}

function single<T>(values: T[]): T | T[] {
  return values.length === 1 ? values[0]! : values;
}

/** JavaScript source for a JSON-like value: identifier keys unquoted, single-quoted strings, two-space indent. */
function printJs(value: unknown, indent: number): string {
  const pad = '  '.repeat(indent + 1);
  const end = '  '.repeat(indent);
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return `[${value.map((v) => printJs(v, indent)).join(', ')}]`;
    return `[\n${value.map((v) => pad + printJs(v, indent + 1)).join(',\n')},\n${end}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Config).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${pad}${/^[A-Za-z_$][\w$]*$/.test(k) ? k : printJs(k, 0)}: ${printJs(v, indent + 1)}`).join(',\n')},\n${end}}`;
  }
  return 'undefined';
}
