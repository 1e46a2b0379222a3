import { StateMachine } from 'xstate';
import { activityMarker } from './activity.ts';
import { childWorkflowMarker } from './child-workflow.ts';

/** How the engine treats the logic of an invoked or spawned actor. */
export type ActorKind = 'activity' | 'childWorkflow' | 'localActivity' | 'machine' | 'unsupported';

/**
 * Classifies actor logic. Promise logic is recognised by behaviour, not by shape (promise and
 * callback logic have the same keys): fed the event a settled promise sends, it reaches 'done'.
 */
export function actorKind(logic: unknown): ActorKind {
  if (activityMarker(logic)) return 'activity';
  if (childWorkflowMarker(logic)) return 'childWorkflow';
  if (logic instanceof StateMachine) return 'machine';
  const l = logic as { getInitialSnapshot?: Function; transition?: Function; config?: unknown } | undefined;
  if (!l || typeof l.getInitialSnapshot !== 'function' || typeof l.transition !== 'function' || typeof l.config !== 'function') {
    return 'unsupported';
  }
  try {
    const scope = {} as never;
    const initial = l.getInitialSnapshot(scope, undefined);
    const next = l.transition(initial, { type: 'xstate.promise.resolve', data: undefined }, scope);
    return next?.status === 'done' ? 'localActivity' : 'unsupported';
  } catch {
    return 'unsupported';
  }
}
