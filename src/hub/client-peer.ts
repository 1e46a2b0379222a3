import { PerdureError, ProtocolError } from '../common/errors.ts';
import { callFrame, describeZodError } from '../common/wire.ts';
import type { ClientOps } from './client-ops.ts';
import type { PeerContext, PeerRole } from './peer-connection.ts';

/**
 * A client connection: each `call` frame runs one client operation and is answered with `ok`
 * or `error` carrying the same id. Calls run concurrently; the connection limits how many wait.
 */
export function clientPeer(context: PeerContext, ops: ClientOps, onConnectionChange: (delta: number) => void): PeerRole {
  onConnectionChange(1);
  let open = true;
  return {
    handle(frame) {
      const parsed = callFrame.safeParse(frame);
      if (!parsed.success) {
        const id = typeof frame.id === 'number' ? frame.id : undefined;
        if (id === undefined || frame.t !== 'call') {
          throw new ProtocolError('PROTOCOL_ERROR', `clients send call frames: ${describeZodError(parsed.error)}`);
        }
        context.send({ t: 'error', id, code: 'INVALID_ARGUMENT', message: `INVALID_ARGUMENT: ${describeZodError(parsed.error)}` });
        return;
      }
      const { id, op, args } = parsed.data;
      let release: () => void;
      try {
        release = context.track();
      } catch (error) {
        const e = error as PerdureError;
        context.send({ t: 'error', id, code: e.code, message: e.message });
        return;
      }
      ops.call(context.hello.namespace, op, args, context.grant).then(
        (value) => open && context.send({ t: 'ok', id, value }),
        (error: unknown) => open && context.send(errorFrame(id, error)),
      ).finally(release);
    },
    closed() {
      if (open) onConnectionChange(-1);
      open = false;
    },
  };
}

export function errorFrame(id: number, error: unknown): { t: 'error'; id: number; code: string; message: string } {
  if (error instanceof PerdureError) return { t: 'error', id, code: error.code, message: error.message };
  return { t: 'error', id, code: 'INTERNAL', message: `INTERNAL: ${(error as Error)?.message ?? String(error)}` };
}
