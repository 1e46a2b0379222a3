import type { WebSocket } from 'ws';

/**
 * Sends a binary frame, coalescing every frame sent in the same turn of the event loop into one
 * socket write.
 * Without it each frame is its own `writev` system call; under load (a task, an answer, another
 * task…) that was the largest single cost of the hub. `ws` has no public cork: its socket is.
 */
export function sendCorked(ws: WebSocket, bytes: Buffer, callback: (error?: Error) => void = () => {}): void {
  const socket = (ws as unknown as { _socket?: CorkableSocket })._socket;
  if (socket && !socket[CORKED]) {
    socket[CORKED] = true;
    socket.cork();
    // setImmediate, not nextTick: frames sent from promise continuations of the same I/O event
    // (one group commit resolves hundreds of steps) must land in the same write.
    setImmediate(() => {
      socket[CORKED] = false;
      socket.uncork();
    });
  }
  ws.send(bytes, { binary: true }, callback);
}

const CORKED = Symbol('perdure.corked');

interface CorkableSocket {
  cork(): void;
  uncork(): void;
  [CORKED]?: boolean;
}
