import type { AnyStateMachine } from 'xstate';

/**
 * The actor logic a `src` names: a key of `setup({ actors })`, or the id XState gives an inline
 * invoke (`xstate.invoke.<index>.<state node id>`).
 */
export function resolveActorLogic(machine: AnyStateMachine, src: string): unknown {
  const provided = machine.implementations.actors[src];
  if (provided !== undefined) return provided;
  const inline = /^xstate\.invoke\.(\d+)\.(.+)$/.exec(src);
  if (!inline) return undefined;
  try {
    const node = machine.getStateNodeById(inline[2]!);
    const invokes = [node.config.invoke].flat() as { src?: unknown }[];
    return invokes[Number(inline[1])]?.src;
  } catch {
    return undefined;
  }
}
