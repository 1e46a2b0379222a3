/**
 * The JSON of an XState v5 machine (`machine.toJSON()`, as `GET /api/v1/workflow-types` returns
 * a version's `definition`): the parts Perdure reads back without the machine's code, to draw
 * it (the web UI) and to export it for Stately Studio (`statelyCode`). Functions do not survive
 * JSON: an inline guard is absent, an inline action is `{ type: '' }` or an XState built-in's
 * `{ type: 'xstate.assign' }`.
 *
 * @example
 * const definition = JSON.parse(JSON.stringify(approvalMachine)) as StateJson;
 * definition.states?.waiting?.on?.APPROVE?.[0]?.target; // ['#approval.approved']
 */

/** One transition of a state's `on` (delayed ones under `xstate.after.<delay>.<state id>`). */
export interface TransitionJson {
  /** Target state ids, each as `#id`. */
  target?: string[];
  eventType: string;
  delay?: string | number;
  /** A guard's name (`'isReady'`), or `{ type, params }`; absent for an inline function. */
  guard?: unknown;
  /** `{ type, params? }` each (or a name); inline functions serialize as null or `{ type: '' }`. */
  actions?: unknown[];
  reenter?: boolean;
  description?: string;
  meta?: unknown;
}

/** An actor a state invokes; `src` is the name the machine's `setup({ actors })` gives it. */
export interface InvokeJson {
  id: string;
  src: unknown;
}

/** One state node, the root included. */
export interface StateJson {
  /** `approval.waiting` by default: the path from the root joined with dots. */
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** The initial child of a compound state, as `#id`. */
  initial?: { target: string[] } | null;
  history?: false | 'shallow' | 'deep';
  states?: Record<string, StateJson>;
  on?: Record<string, TransitionJson[]>;
  /**
   * Eventless transitions. `toJSON()` leaves them out; `statelyExport` adds them from the
   * machine's state nodes, so an exported `checking: { always: [...] }` is not left a dead end.
   */
  always?: TransitionJson[];
  invoke?: InvokeJson[];
  entry?: unknown[];
  exit?: unknown[];
  tags?: string[];
  description?: string;
  meta?: unknown;
  output?: unknown;
}
