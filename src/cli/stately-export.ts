/**
 * Turns the JSON of a machine (XState's `machine.toJSON()`, as `GET /api/v1/workflow-types`
 * returns it) back into `createMachine({...})` source that Stately Studio imports
 * ("Import from code"). The JSON keeps the structure: states, initial states, transitions with
 * their targets and named guards and actions, delayed transitions, invoked actors, tags,
 * descriptions and meta. Inline functions (an `assign` written in place, a guard function, an
 * invoke's `input`) do not survive JSON: they are left out, and the snippet says so.
 *
 * @example
 * const source = machineSource(definitionJson, { type: 'approval', version: '3f9c0a1b2c3d' });
 */

interface TransitionJson {
  target?: string[];
  actions?: (ActionJson | null)[];
  guard?: unknown;
  delay?: string | number;
  reenter?: boolean;
  eventType?: string;
  description?: string;
  meta?: unknown;
}

type ActionJson = { type?: string; params?: unknown } | string;

interface StateJson {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial?: { target?: string[] };
  history?: false | 'shallow' | 'deep';
  states?: Record<string, StateJson>;
  on?: Record<string, TransitionJson[]>;
  entry?: (ActionJson | null)[];
  exit?: (ActionJson | null)[];
  invoke?: { id?: string; src?: unknown }[];
  tags?: string[];
  description?: string;
  meta?: unknown;
}

type Config = Record<string, unknown>;

/** The `createMachine` snippet of a machine's JSON definition. */
export function machineSource(definition: unknown, about: { type: string; version: string }): string {
  const root = definition as StateJson;
  if (!root || typeof root !== 'object' || typeof root.id !== 'string') {
    throw new Error(`the definition of "${about.type}" is not a machine's JSON (no id)`);
  }
  const config = { id: root.id, ...stateConfig(root, undefined) };
  return [
    `// Workflow type "${about.type}", version ${about.version}, exported by \`perdure machine export\`.`,
    '// Paste into Stately Studio (Import → from code). Inline functions (assign, guards, inputs)',
    '// do not survive the export; named actions, guards, delays and actors keep their names.',
    "import { createMachine } from 'xstate';",
    '',
    `export const machine = createMachine(${literal(config, 0)});`,
    '',
  ].join('\n');
}

function stateConfig(node: StateJson, parent: StateJson | undefined): Config {
  const config: Config = {};
  if (node.description) config.description = node.description;
  if (node.type === 'parallel') config.type = 'parallel';
  if (node.type === 'final') config.type = 'final';
  if (node.type === 'history') {
    config.type = 'history';
    if (node.history === 'deep') config.history = 'deep';
  }
  const initial = node.initial?.target?.[0];
  if (initial && node.type === 'compound') {
    const child = Object.entries(node.states ?? {}).find(([, c]) => `#${c.id}` === initial || c.id === initial);
    if (child) config.initial = child[0];
  }
  if (node.tags?.length) config.tags = node.tags;
  if (node.meta && Object.keys(node.meta).length) config.meta = node.meta;

  const invokes = node.invoke ?? [];
  const on: Config = {};
  const after: Config = {};
  const invokeConfigs = invokes.map((inv) => {
    const c: Config = {};
    if (inv.id) c.id = inv.id;
    if (typeof inv.src === 'string') c.src = inv.src;
    return c;
  });
  let onDone: unknown;
  for (const [eventType, transitions] of Object.entries(node.on ?? {})) {
    const converted = transitions.map((t) => transitionConfig(t, node, parent));
    const value = converted.length === 1 ? converted[0] : converted;
    const delay = transitions[0]?.delay;
    if (eventType.startsWith('xstate.after.') && delay !== undefined) {
      after[String(delay)] = value;
      continue;
    }
    const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
    const invoke = actor ? invokeConfigs[invokes.findIndex((i) => i.id === actor[2])] : undefined;
    if (actor && invoke) {
      invoke[actor[1] === 'done' ? 'onDone' : 'onError'] = value;
      continue;
    }
    if (eventType === `xstate.done.state.${node.id}`) {
      onDone = value;
      continue;
    }
    on[eventType] = value;
  }
  if (invokeConfigs.length) config.invoke = invokeConfigs.length === 1 ? invokeConfigs[0] : invokeConfigs;
  if (Object.keys(on).length) config.on = on;
  if (Object.keys(after).length) config.after = after;
  if (onDone !== undefined) config.onDone = onDone;

  // A delayed transition is implemented as a delayed raise on entry and a cancel on exit; they
  // come back by themselves from `after`, so only the actions beyond those are the user's.
  const delayed = Object.keys(after).length;
  const entry = actions(dropFirst(node.entry ?? [], 'xstate.raise', delayed));
  const exit = actions(dropFirst(node.exit ?? [], 'xstate.cancel', delayed));
  if (entry.length) config.entry = entry.length === 1 ? entry[0] : entry;
  if (exit.length) config.exit = exit.length === 1 ? exit[0] : exit;

  const children = Object.entries(node.states ?? {});
  if (children.length) config.states = Object.fromEntries(children.map(([key, child]) => [key, stateConfig(child, node)]));
  return config;
}

function transitionConfig(t: TransitionJson, source: StateJson, parent: StateJson | undefined): Config | string {
  const config: Config = {};
  const targets = (t.target ?? []).map((target) => targetOf(target, source, parent));
  if (targets.length) config.target = targets.length === 1 ? targets[0] : targets;
  const guard = guardName(t.guard);
  if (guard !== undefined) config.guard = guard;
  const acts = actions(t.actions ?? []);
  if (acts.length) config.actions = acts.length === 1 ? acts[0] : acts;
  if (t.reenter) config.reenter = true;
  if (t.description) config.description = t.description;
  // `on: { NEXT: 'b' }` reads better than `{ target: 'b' }`.
  const keys = Object.keys(config);
  return keys.length === 1 && keys[0] === 'target' && typeof config.target === 'string' ? config.target : config;
}

/**
 * A target as a config writes it: a sibling by its key (`approved`), a child of the source by
 * `.key`, anything else by `#id`. State ids default to the path from the root joined with dots.
 */
function targetOf(target: string, source: StateJson, parent: StateJson | undefined): string {
  const id = target.startsWith('#') ? target.slice(1) : target;
  const keyUnder = (scope: StateJson | undefined) => {
    if (!scope || !id.startsWith(`${scope.id}.`)) return undefined;
    const rest = id.slice(scope.id.length + 1);
    return rest.includes('.') ? undefined : rest;
  };
  const sibling = keyUnder(parent);
  if (sibling !== undefined) return sibling;
  const child = keyUnder(source);
  if (child !== undefined) return `.${child}`;
  return `#${id}`;
}

function guardName(guard: unknown): unknown {
  if (typeof guard === 'string') return guard;
  if (guard && typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    const { type, params } = guard as { type: string; params?: unknown };
    return params === undefined ? type : { type, params };
  }
  return undefined;
}

/** Named actions (and XState built-ins by their type); inline functions serialize as null. */
function actions(list: readonly (ActionJson | null)[]): unknown[] {
  return list.flatMap((a) => {
    if (a === null || a === undefined) return [];
    if (typeof a === 'string') return [a];
    if (typeof a.type !== 'string') return [];
    return [a.params === undefined ? a.type : { type: a.type, params: a.params }];
  });
}

function dropFirst(list: readonly (ActionJson | null)[], type: string, count: number): (ActionJson | null)[] {
  let left = count;
  return list.filter((a) => {
    if (left > 0 && a && typeof a === 'object' && a.type === type) {
      left--;
      return false;
    }
    return true;
  });
}

/** A JavaScript object literal: identifier keys unquoted, two-space indent. */
function literal(value: unknown, depth: number): string {
  const pad = '  '.repeat(depth + 1);
  const end = '  '.repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => typeof v !== 'object' || v === null)) return `[${value.map((v) => literal(v, depth)).join(', ')}]`;
    return `[\n${value.map((v) => `${pad}${literal(v, depth + 1)}`).join(',\n')},\n${end}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
    return `{\n${entries.map(([k, v]) => `${pad}${key(k)}: ${literal(v, depth + 1)}`).join(',\n')},\n${end}}`;
  }
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  return JSON.stringify(value) ?? 'undefined';
}
