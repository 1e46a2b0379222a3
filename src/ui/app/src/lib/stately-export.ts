import type { StateJson, TransitionJson } from './machine-graph.ts';

/**
 * A machine definition (JSON) as the code Stately Studio imports: `createMachine({...})` with
 * states, `on`, `after`, `invoke` (with `onDone`/`onError`), `onDone`, guards and named actions.
 * What JSON cannot carry is left out: inline functions (assign bodies, guard predicates, delay
 * functions) keep their names where they have one, so the diagram is whole and the logic stays
 * in your code.
 *
 * @example
 * statelyCode(approvalDefinition);
 * // import { createMachine } from 'xstate';
 * // export const machine = createMachine({ id: 'approval', initial: 'waiting', states: { … } });
 */
export function statelyCode(definition: StateJson): string {
  const config = stateConfig(definition, null, true);
  return `import { createMachine } from 'xstate';\n\nexport const machine = createMachine(${printJs(config, 0)});\n`;
}

type Config = Record<string, unknown>;

function stateConfig(state: StateJson, parent: StateJson | null, isRoot: boolean): Config {
  const out: Config = {};
  if (isRoot) out.id = state.id;
  else if (state.id !== defaultId(parent!, state)) out.id = state.id;
  if (state.type === 'parallel' || state.type === 'final' || state.type === 'history') out.type = state.type;
  if (state.type === 'history' && state.history) out.history = state.history;
  if (state.description) out.description = state.description;
  const initial = state.initial?.target?.[0];
  if (state.type === 'compound' && initial) out.initial = relativeTarget(state, null, initial, true);
  if (state.tags?.length) out.tags = state.tags;
  const entry = namedActions(state.entry);
  if (entry.length) out.entry = entry.length === 1 ? entry[0] : entry;
  const exit = namedActions(state.exit);
  if (exit.length) out.exit = exit.length === 1 ? exit[0] : exit;

  const on: Config = {};
  const after: Config = {};
  const invokes = (state.invoke ?? []).map((i) => ({ id: i.id, src: typeof i.src === 'string' ? i.src : i.id } as Config));
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
  if (invokes.length) out.invoke = invokes.length === 1 ? invokes[0] : invokes;
  if (Object.keys(on).length) out.on = on;
  if (Object.keys(after).length) out.after = after;
  if (onDone !== undefined) out.onDone = onDone;
  const children = Object.values(state.states ?? {});
  if (children.length) out.states = Object.fromEntries(children.map((c) => [c.key, stateConfig(c, state, false)]));
  return out;
}

function transitionConfig(state: StateJson, parent: StateJson | null, t: TransitionJson): unknown {
  const out: Config = {};
  const targets = (t.target ?? []).map((target) => relativeTarget(state, parent, target, false));
  if (targets.length === 1) out.target = targets[0];
  else if (targets.length > 1) out.target = targets;
  const guard = typeof t.guard === 'string' ? t.guard : (t.guard as { type?: unknown } | undefined)?.type;
  if (typeof guard === 'string') out.guard = guard;
  const actions = namedActions(t.actions);
  if (actions.length) out.actions = actions.length === 1 ? actions[0] : actions;
  if (t.reenter) out.reenter = true;
  if (t.description) out.description = t.description;
  const keys = Object.keys(out);
  // A bare target reads best as a string, as people write it.
  return keys.length === 1 && keys[0] === 'target' && typeof out.target === 'string' ? out.target : out;
}

/** A target as people write it: a sibling's key, a child's `.key`, else `#id`. */
function relativeTarget(state: StateJson, parent: StateJson | null, target: string, fromParent: boolean): string {
  const id = target.startsWith('#') ? target.slice(1) : target;
  const scope = fromParent ? state : parent;
  if (scope) {
    for (const child of Object.values(scope.states ?? {})) if (child.id === id) return child.key;
  }
  if (!fromParent) for (const child of Object.values(state.states ?? {})) if (child.id === id) return `.${child.key}`;
  return `#${id}`;
}

function defaultId(parent: StateJson, state: StateJson): string {
  return `${parent.id}.${state.key}`;
}

/** User actions by name; XState's built-ins (assign, raise for `after`, cancel) are left out. */
function namedActions(actions: unknown[] | undefined): string[] {
  const names: string[] = [];
  for (const a of actions ?? []) {
    const type = typeof a === 'string' ? a : (a as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && !type.startsWith('xstate.')) names.push(type);
  }
  return names;
}

function single(values: unknown[]): unknown {
  return values.length === 1 ? values[0] : values;
}

/** JavaScript source for a JSON-like value: identifier keys unquoted, single-quoted strings. */
export function printJs(value: unknown, indent: number): string {
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
