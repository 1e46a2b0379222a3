import { z } from 'zod';
import { decode } from '../common/codec.ts';
import type { ErrorCode } from '../common/error-codes.ts';
import {
  ForbiddenError, InvalidArgumentError, PerdureError, ProtocolError, TaskTokenStaleError, UnauthorizedError,
} from '../common/errors.ts';
import { describeZodError } from '../common/wire.ts';
import type { ActivityTask } from '../common/worker-protocol.ts';

/**
 * What a worker or a client accepts from the server, validated like the server validates what
 * it gets: an SDK trusts the server no more than the server trusts it. A frame that fails here
 * is a broken server (or a man in the middle): SdkSocket drops the connection (PROTOCOL_ERROR)
 * and makes it again. The schema is the receiving side of `ServerFrame` in common/wire.ts.
 */
const text = z.string().min(1).max(10_000);
const optionalMs = z.number().nonnegative().nullish();
const address = z.string().min(1).max(1000);
/** More nodes than a worker would keep connections to: a list this long is a broken server. */
const MAX_NODES = 1000;

const task = z.object({
  taskToken: text,
  namespace: text,
  taskQueue: text,
  activityType: text,
  activityId: text,
  workflowId: text,
  workflowType: text,
  runId: text,
  attempt: z.number().int().min(1),
  input: z.unknown(),
  heartbeatDetails: z.unknown().optional(),
  scheduledAt: z.number(),
  startToCloseTimeoutMs: optionalMs,
  heartbeatTimeoutMs: optionalMs,
});

const serverFrame = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('welcome'), v: z.number().int(), sessionId: z.string().max(1000), serverVersion: z.string().max(1000).optional(),
    // A cluster's answer to a worker that follows it: this node and every live node (host:port).
    node: address.optional(), nodes: z.array(address).max(MAX_NODES).optional(),
  }),
  z.object({ t: z.literal('nodes'), nodes: z.array(address).max(MAX_NODES) }),
  z.object({ t: z.literal('ok'), id: z.number().int().nonnegative(), value: z.unknown().optional() }),
  z.object({
    t: z.literal('error'), id: z.number().int().nonnegative().nullish(), code: z.string().min(1).max(100), message: z.string().max(100_000),
    supported: z.array(z.number().int()).max(100).nullish(), fatal: z.boolean().nullish(),
  }),
  z.object({ t: z.literal('task'), task }),
  z.object({ t: z.literal('cancel'), taskToken: text, reason: z.string().max(10_000).optional().default('cancelled') }),
]);

type ParsedFrame = z.infer<typeof serverFrame>;
export type IncomingFrame = Exclude<ParsedFrame, { t: 'task' }> | { t: 'task'; task: ActivityTask };
export type ErrorFrame = Extract<IncomingFrame, { t: 'error' }>;
/** The answer to one request: `ok` or `error`, with the request's id. */
export type AnswerFrame = Extract<IncomingFrame, { t: 'ok' }> | (ErrorFrame & { id: number });
/** Frames that are neither the welcome nor an answer: what the socket's owner handles (task, cancel, nodes). */
export type PushedFrame = Extract<IncomingFrame, { t: 'task' } | { t: 'cancel' } | { t: 'nodes' }>;
export type WelcomeFrame = Extract<IncomingFrame, { t: 'welcome' }>;

/** Decodes and validates one frame from the server; a string says why it is not one. */
export function parseServerFrame(data: Uint8Array): IncomingFrame | string {
  let value: unknown;
  try {
    value = decode(data);
  } catch (error) {
    return (error as Error).message;
  }
  const parsed = serverFrame.safeParse(value);
  if (!parsed.success) return `not a server frame: ${describeZodError(parsed.error)}`;
  const frame = parsed.data;
  return frame.t === 'task' ? { t: 'task', task: toTask(frame.task) } : frame;
}

/**
 * A server error, rebuilt as the same class the server threw where the worker knows it
 * (`UnauthorizedError`, `ForbiddenError`, `ProtocolError` with `supported`, `TaskTokenStaleError`
 * …), with the same `code`; `PerdureError` carrying the code otherwise.
 *
 * @example
 * worker.run().catch((e) => { if (e.code === 'UNAUTHORIZED') console.error('check PERDURE_AUTH_TOKEN') })
 */
export function errorFromServer(code: string, message: string, details: { supported?: readonly number[] | null; taskToken?: string } = {}): PerdureError {
  // The server's message already starts with "CODE: "; the constructors add it again.
  const bare = message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
  switch (code) {
    case 'UNAUTHORIZED':
      return new UnauthorizedError(bare);
    case 'FORBIDDEN':
      return new ForbiddenError(bare);
    case 'INVALID_ARGUMENT':
      return new InvalidArgumentError(bare);
    case 'PROTOCOL_ERROR':
    case 'PROTOCOL_VERSION':
    case 'FRAME_TOO_LARGE':
    case 'TOO_MANY_REQUESTS':
      return new ProtocolError(code, bare, details.supported ?? undefined);
    case 'TASK_TOKEN_STALE':
      if (details.taskToken !== undefined) return new TaskTokenStaleError(details.taskToken);
  }
  return new PerdureError(code as ErrorCode, bare || 'the server gave no message');
}

/** The task as the SDK's type has it: absent fields absent, not null (msgpack has no undefined). */
function toTask(t: Extract<ParsedFrame, { t: 'task' }>['task']): ActivityTask {
  const { startToCloseTimeoutMs, heartbeatTimeoutMs, heartbeatDetails, ...rest } = t;
  const task: ActivityTask = rest;
  if (startToCloseTimeoutMs != null) task.startToCloseTimeoutMs = startToCloseTimeoutMs;
  if (heartbeatTimeoutMs != null) task.heartbeatTimeoutMs = heartbeatTimeoutMs;
  if (heartbeatDetails !== undefined) task.heartbeatDetails = heartbeatDetails;
  return task;
}
