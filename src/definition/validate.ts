import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { actorKind } from './actor-kind.ts';

/**
 * Finds what in a machine the engine cannot make durable, as sentences that say what to do
 * instead. Actions hidden inside `enqueueActions` or `assign(({ spawn }) => …)` cannot be seen
 * here; the engine checks those when they run and fails the execution with the same advice.
 */
export function findDefinitionProblems(machine: AnyStateMachine): string[] {
  const problems: string[] = [];
  if (typeof machine.id !== 'string' || machine.id === '' || machine.id === '(machine)') {
    problems.push('the machine has no id: give it one (createMachine({ id: "order", … })); the id is the workflow type name');
  }
  for (const node of allNodes(machine.root)) {
    const invokes = node.config.invoke === undefined ? [] : [node.config.invoke].flat();
    invokes.forEach((invoke: { src?: unknown; id?: string }, index: number) => {
      const where = `state "${node.id}" invoke #${index}${invoke.id ? ` ("${invoke.id}")` : ''}`;
      const logic = typeof invoke.src === 'string' ? machine.implementations.actors[invoke.src] : invoke.src;
      if (logic === undefined) {
        problems.push(`${where}: src "${String(invoke.src)}" is not in setup({ actors }); add it there`);
        return;
      }
      problems.push(...kindProblems(where, actorKind(logic)));
    });
    for (const action of nodeActions(node)) problems.push(...actionProblems(machine, node, action));
  }
  return problems;
}

function kindProblems(where: string, kind: ReturnType<typeof actorKind>): string[] {
  if (kind === 'machine') {
    return [`${where}: an inline child machine cannot be made durable; run the work as an activity() (child workflows come with childWorkflow())`];
  }
  if (kind === 'unsupported') {
    return [`${where}: callback, observable and transition actors cannot be made durable; use activity() (runs on a worker) or fromPromise (a local activity)`];
  }
  return [];
}

interface BuiltinAction {
  type?: string;
  id?: unknown;
  src?: unknown;
  delay?: unknown;
}

function actionProblems(machine: AnyStateMachine, node: AnyStateNode, reference: unknown): string[] {
  const action = resolveAction(machine, reference);
  const a = action as BuiltinAction;
  if (typeof action !== 'function' && (typeof action !== 'object' || action === null)) return [];
  if (a.type === 'xstate.spawnChild') {
    const where = `state "${node.id}" spawnChild(${typeof a.src === 'string' ? `"${a.src}"` : '…'})`;
    if (typeof a.id !== 'string') {
      return [`${where}: a spawned actor needs an explicit id (spawnChild(src, { id })); generated ids differ between runs and break replay`];
    }
    const logic = typeof a.src === 'string' ? machine.implementations.actors[a.src] : a.src;
    return logic === undefined ? [`${where}: src is not in setup({ actors }); add it there`] : kindProblems(where, actorKind(logic));
  }
  return [];
}

/**
 * The implementation behind an action reference: `entry: 'spawnWorker'` and
 * `entry: { type: 'spawnWorker', params }` name an action of `setup({ actions })`, which may be
 * a built-in such as `spawnChild(…)` and must be checked like an inline one.
 */
function resolveAction(machine: AnyStateMachine, reference: unknown): unknown {
  const name = typeof reference === 'string' ? reference
    : typeof reference === 'object' && reference !== null && typeof (reference as { type?: unknown }).type === 'string'
      ? (reference as { type: string }).type : undefined;
  if (name === undefined) return reference;
  const actions = machine.implementations.actions as Record<string, unknown>;
  return Object.hasOwn(actions, name) ? actions[name] : reference;
}

function* allNodes(node: AnyStateNode): Generator<AnyStateNode> {
  yield node;
  for (const child of Object.values(node.states) as AnyStateNode[]) yield* allNodes(child);
}

function nodeActions(node: AnyStateNode): unknown[] {
  const actions: unknown[] = [...node.entry, ...node.exit];
  for (const transitions of node.transitions.values()) for (const t of transitions) actions.push(...t.actions);
  for (const t of node.always ?? []) actions.push(...t.actions);
  return actions;
}
