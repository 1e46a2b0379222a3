import { createHash } from 'node:crypto';
import type { AnyStateMachine, ContextFrom, EventFromLogic, InputFrom, OutputFrom } from 'xstate';
import { InvalidDefinitionError } from '../common/errors.ts';
import { activityMarker } from './activity.ts';
import { actorKind } from './actor-kind.ts';
import { childWorkflowMarker } from './child-workflow.ts';
import { findSearchAttributeProblems, type SearchAttributeDeclarations } from './search-attributes.ts';
import { findDefinitionProblems } from './validate.ts';

const WORKFLOW = Symbol.for('perdure.workflow');

export interface WorkflowOptions<TMachine extends AnyStateMachine = AnyStateMachine> {
  /**
   * Overrides the version name. By default the version is a content hash of the machine's
   * definition and implementations, so any change to the machine makes a new version.
   */
  version?: string;
  /**
   * Validators of updates, by event type: an update is accepted only when the current state can
   * take the event and its validator (if any) allows it. A validator is the name of a guard of
   * `setup({ guards })` or a function of `{ context, event }` returning true to accept, false or
   * a reason (string) to reject. A rejected update leaves no trace; its caller gets the reason.
   */
  updateValidators?: Partial<Record<EventFromLogic<TMachine>['type'], string | UpdateValidator<TMachine>>>;
  /**
   * Migration functions, by the version they move running executions from: each maps a run's
   * state (`value` and `context`, as the old machine left them) to a state of this machine.
   * `perdure workflow migrate` (or `engine.migrate()`) applies them; pending activities,
   * timers and children carry over by id.
   */
  migrations?: Record<string, Migration<TMachine>>;
  /**
   * Values to list and count executions by, read from the context after every committed step
   * (see docs/visibility.md, "Search attributes"). Not part of the version: a changed mapping
   * applies to every open execution from its next step on.
   *
   * @example
   * workflow(machine, { searchAttributes: {
   *   customerId: { type: 'keyword', from: (ctx) => ctx.customerId },
   *   amount: { type: 'number', from: (ctx) => ctx.amount },
   * } })
   */
  searchAttributes?: SearchAttributeDeclarations<ContextFrom<TMachine>>;
}

/** The state of a run as a migration sees and returns it. */
export interface MigratedState<TContext = unknown> {
  value: unknown;
  context: TContext;
}

// The old machine's context type is not known here: `any` lets a migration read it without casts.
export type Migration<TMachine extends AnyStateMachine = AnyStateMachine> =
  (state: MigratedState<any>) => MigratedState<ContextFrom<TMachine>>;

export type UpdateValidator<TMachine extends AnyStateMachine = AnyStateMachine> =
  (args: { context: ContextFrom<TMachine>; event: EventFromLogic<TMachine> }) => boolean | string;

/**
 * A machine registered as a workflow type. The type parameter keeps the machine's events,
 * input and output types for typed clients.
 */
export interface WorkflowDefinition<TMachine extends AnyStateMachine = AnyStateMachine> {
  readonly [WORKFLOW]: true;
  /** Workflow type name: the machine's id. */
  readonly type: string;
  /** Content hash of the definition (or the version given in options). */
  readonly version: string;
  readonly machine: TMachine;
  readonly updateValidators: Readonly<Record<string, string | UpdateValidator>>;
  readonly migrations: Readonly<Record<string, Migration>>;
  /** The declared search attributes (an empty object when none). */
  readonly searchAttributes: Readonly<SearchAttributeDeclarations>;
}

export type WorkflowInput<W> = W extends WorkflowDefinition<infer M> ? InputFrom<M> : never;
export type WorkflowOutput<W> = W extends WorkflowDefinition<infer M> ? OutputFrom<M> : never;
export type WorkflowEvent<W> = W extends WorkflowDefinition<infer M> ? EventFromLogic<M> : never;

/**
 * Registers an XState machine as a workflow type, after checking that the engine can run it
 * durably (InvalidDefinitionError lists every problem and what to do instead).
 *
 * @example
 * export const approval = workflow(setup({ … }).createMachine({ id: 'approval', … }));
 * const engine = await Engine.start({ workflows: [approval], store: new LevelStore({ directory: './.perdure' }) });
 */
export function workflow<TMachine extends AnyStateMachine>(machine: TMachine, options: WorkflowOptions<TMachine> = {}): WorkflowDefinition<TMachine> {
  const updateValidators = (options.updateValidators ?? {}) as Record<string, string | UpdateValidator>;
  const migrationProblems = Object.entries(options.migrations ?? {})
    .filter(([, migrate]) => typeof migrate !== 'function')
    .map(([from]) => `migrations["${from}"]: expected a function ({ value, context }) => ({ value, context })`);
  const problems = [
    ...findDefinitionProblems(machine), ...validatorProblems(machine, updateValidators), ...migrationProblems,
    ...findSearchAttributeProblems(options.searchAttributes),
  ];
  if (problems.length > 0) throw new InvalidDefinitionError(String(machine.id), problems);
  return Object.freeze({
    [WORKFLOW]: true as const, type: machine.id, version: options.version ?? machineVersion(machine), machine,
    updateValidators: Object.freeze({ ...updateValidators }),
    migrations: Object.freeze({ ...(options.migrations as Record<string, Migration> | undefined) }),
    // The mapping is deliberately not hashed into the version: it only reads the context, never
    // changes what the machine does, so replay and running executions are unaffected by it.
    searchAttributes: Object.freeze({ ...(options.searchAttributes as SearchAttributeDeclarations | undefined) }),
  });
}

function validatorProblems(machine: AnyStateMachine, validators: Record<string, unknown>): string[] {
  const guards = machine.implementations.guards as Record<string, unknown>;
  return Object.entries(validators).flatMap(([type, validator]) => {
    if (typeof validator === 'function') return [];
    if (typeof validator === 'string' && Object.hasOwn(guards, validator)) return [];
    return [`updateValidators.${type}: expected a guard name of setup({ guards }) (${Object.keys(guards).join(', ') || 'none'}) or a function of { context, event }`];
  });
}

export function isWorkflowDefinition(value: unknown): value is WorkflowDefinition {
  return typeof value === 'object' && value !== null && (value as { [WORKFLOW]?: boolean })[WORKFLOW] === true;
}

/**
 * The content hash of a machine's definition: its states, transitions, events, invoked actors,
 * delays and data given to XState's built-in actions (assign values, raise delays, guard
 * combinations), plus each activity's name and options. 12 hex digits.
 *
 * Function *bodies* are not hashed: their source text is whatever the build tool emitted
 * (tsx, vitest, a bundler — and their versions — print the same function differently), and a
 * hash of it would block every running execution after a tooling upgrade. A change inside a
 * function keeps the version; replay (`perdure replay`, `replayHistory`) is what tells whether
 * it breaks running executions. Give `workflow(machine, { version })` to name versions yourself.
 */
export function machineVersion(machine: AnyStateMachine): string {
  const impl = machine.implementations;
  const actors = Object.fromEntries(
    Object.entries(impl.actors).map(([k, logic]) => [k, activityMarker(logic) ?? childWorkflowMarker(logic) ?? actorKind(logic)]),
  );
  const content = stableStringify({ config: machine.config, actions: impl.actions, guards: impl.guards, delays: impl.delays, actors });
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}

function stableStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' && typeof v !== 'function') return v;
    if (v === null) return v;
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (Array.isArray(v)) return v.map(walk);
    const fields = Object.fromEntries(Object.keys(v).sort().map((k) => [k, walk((v as Record<string, unknown>)[k])]));
    // XState's built-in actions and guards (assign, raise, sendTo, spawnChild, and, not…) are
    // one library function each, told apart by the properties set on it (`assignment`,
    // `delay`, `guards`…): those are hashed; the function's own source is not (see above).
    return typeof v === 'function' ? { fn: true, ...fields } : fields;
  };
  return JSON.stringify(walk(value));
}
