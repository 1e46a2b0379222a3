import { z } from 'zod';
import { CONFLICT_POLICIES, ID_REUSE_POLICIES } from './start-policies.ts';
import { NODE_OPS, nodeCallArgs } from './node-wire.ts';
import { EXECUTION_STATUSES } from './history.ts';
import { NAMESPACE_OPS, namespaceCallArgs } from './namespace-wire.ts';
import { scheduleArgs } from './schedule-schema.ts';
import { MAX_KEYWORD_LENGTH, MAX_SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_NAME } from './search-attributes.ts';

/**
 * The WebSocket protocol between the server and its workers and clients: one msgpack map per
 * binary frame, with a string `t` naming the frame. Every frame is validated against the schema
 * of its `t` before use; anything else is a protocol error.
 *
 * ```
 *  peer                                   server
 *   │── HTTP upgrade (Authorization: Bearer …) ─►│  401 before any frame without a valid token
 *   │── hello { v, role, namespace } ───────────►│
 *   │◄─────────────── welcome { v, sessionId } ──│  or error { code: 'PROTOCOL_VERSION', supported }
 *  worker:                                          (hello { cluster: true }: welcome { node, nodes } too)
 *   │◄──────────────────────────── nodes { nodes } ────│  the cluster's live nodes changed (cluster: true)
 *   │── slots { id, taskQueue, slots } ───────────────►│  a new credit for the queue on this connection
 *   │── register { taskQueue, activityTypes, slots } ─►│
 *   │◄──────────────────────────── task { task } ──────│  at most `slots` in flight
 *   │── complete / fail / heartbeat { id, taskToken } ─►│
 *   │◄──────────────────── ok { id } | error { id } ────│
 *   │◄──────────────────── cancel { taskToken } ────────│
 *   │── unregister { id, taskQueue } ───────────────────►│  no more tasks; reports still accepted
 *  client:
 *   │── call { id, op, args } ─►│
 *   │◄─ ok { id, value } | error { id, code, message } ──│
 * ```
 */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

/** Default limits; the server's options override them. */
export const WIRE_LIMITS = {
  /** Largest frame accepted (bytes). */
  maxFrameBytes: 4 * 1024 * 1024,
  /** Requests a peer may have waiting for an answer at once. */
  maxInFlightRequests: 1000,
  /**
   * Interval of WebSocket pings; a peer silent for two intervals is dropped, so a dead worker's
   * tasks are retried elsewhere within 10 s. A ping is a 2-byte frame: cheap even every second.
   */
  pingIntervalMs: 5_000,
  /** How long a new connection may take to send its hello before it is closed (HELLO_TIMEOUT). */
  helloTimeoutMs: 10_000,
  /**
   * Bytes the server may hold for one connection that the peer has not read yet (ws
   * `bufferedAmount`); past it the connection is closed (SEND_BUFFER_FULL). Above the frame
   * limit, so one large answer fits.
   */
  maxSendBufferBytes: 16 * 1024 * 1024,
  /** How long an HTTP request (or WebSocket upgrade) may take to send its headers (slow loris). */
  headersTimeoutMs: 10_000,
} as const;

const id = z.string().min(1).max(1000);
const requestId = z.number().int().nonnegative();
const event = z.object({ type: z.string().min(1).max(1000) }).passthrough();
const failure: z.ZodType<unknown> = z.lazy(() => z.object({
  code: z.string(), message: z.string(), type: z.string().optional(), nonRetryable: z.boolean().optional(),
  details: z.array(z.unknown()).optional(), timeoutType: z.string().optional(), stack: z.string().optional(),
  cause: failure.optional(),
}).passthrough());

export const helloFrame = z.object({
  t: z.literal('hello'),
  v: z.number().int(),
  role: z.enum(['worker', 'client']),
  namespace: id.default('default'),
  identity: z.string().max(200).optional(),
  /**
   * A worker that follows the cluster (it keeps a connection to every node): the server then
   * lists the cluster's live nodes in its welcome and sends `nodes` whenever they change. Peers
   * that do not say it get neither, so the single-node wire is unchanged for them.
   */
  cluster: z.boolean().optional(),
});

export const registerFrame = z.object({
  t: z.literal('register'),
  id: requestId,
  taskQueue: id,
  activityTypes: z.array(id).max(10_000),
  slots: z.number().int().min(1).max(100_000),
});

/** Stops tasks of a queue from being pushed (graceful shutdown); tasks in flight may still be reported. */
export const unregisterFrame = z.object({ t: z.literal('unregister'), id: requestId, taskQueue: id });

/**
 * Changes how many tasks of a queue may be in flight on this connection (a worker that shares
 * its `maxConcurrentActivities` between the nodes of a cluster). Sent only to a server whose
 * welcome listed `nodes`: older servers do not know it.
 */
export const slotsFrame = z.object({ t: z.literal('slots'), id: requestId, taskQueue: id, slots: z.number().int().min(1).max(100_000) });

export const completeFrame = z.object({ t: z.literal('complete'), id: requestId, taskToken: z.string().min(1).max(10_000), output: z.unknown() });
export const failFrame = z.object({ t: z.literal('fail'), id: requestId, taskToken: z.string().min(1).max(10_000), failure });
export const heartbeatFrame = z.object({ t: z.literal('heartbeat'), id: requestId, taskToken: z.string().min(1).max(10_000), details: z.unknown() });

export const CLIENT_OPS = [
  'start', 'signalWithStart', 'signal', 'update', 'query', 'cancel', 'terminate', 'reset', 'migrate', 'result', 'describe', 'history', 'list', 'count', 'types',
  ...NAMESPACE_OPS, ...NODE_OPS,
  'createSchedule', 'describeSchedule', 'listSchedules', 'updateSchedule', 'pauseSchedule', 'unpauseSchedule', 'triggerSchedule', 'deleteSchedule',
] as const;
export type ClientOp = (typeof CLIENT_OPS)[number];

export const callFrame = z.object({ t: z.literal('call'), id: requestId, op: z.enum(CLIENT_OPS), args: z.record(z.string(), z.unknown()).default({}) });

/** Frames a worker may send after hello. */
export const workerFrame = z.discriminatedUnion('t', [registerFrame, unregisterFrame, slotsFrame, completeFrame, failFrame, heartbeatFrame]);
/** Frames a client may send after hello. */
export const clientFrame = callFrame;

export type HelloFrame = z.infer<typeof helloFrame>;
export type WorkerFrame = z.infer<typeof workerFrame>;
export type CallFrame = z.infer<typeof callFrame>;

/** Frames the server sends. */
export type ServerFrame =
  /** `node` and `nodes` (`host:port` of this node and of every live node, itself included) only to a hello with `cluster: true`, on a cluster. */
  | { t: 'welcome'; v: number; sessionId: string; serverVersion: string; node?: string; nodes?: readonly string[] }
  /** The live nodes changed (only to a worker whose hello said `cluster: true`). */
  | { t: 'nodes'; nodes: readonly string[] }
  | { t: 'ok'; id: number; value?: unknown }
  | { t: 'error'; id?: number; code: string; message: string; supported?: readonly number[]; fatal?: boolean }
  | { t: 'task'; task: import('./worker-protocol.ts').ActivityTask }
  | { t: 'cancel'; taskToken: string; reason: string };

/**
 * The filters of `list` and `count` (visibility). Times are ms since epoch; lower bounds are
 * inclusive and upper bounds exclusive.
 */
const time = z.number().finite().min(0);
/**
 * Search-attribute filters: a value to match, or a range. Values may be text (from a query
 * string): the server reads them by the attribute's declared type.
 */
const attributeValue = z.union([z.string().max(MAX_KEYWORD_LENGTH), z.number(), z.boolean()]);
const attributeBound = z.union([z.number(), z.string().max(100)]).optional();
const searchAttributeFilters = z.record(
  z.string().regex(SEARCH_ATTRIBUTE_NAME, 'a search attribute name is letters, digits and _, not starting with a digit'),
  z.union([attributeValue, z.strictObject({ gte: attributeBound, gt: attributeBound, lte: attributeBound, lt: attributeBound })]),
).refine((filters) => Object.keys(filters).length <= MAX_SEARCH_ATTRIBUTES, `at most ${MAX_SEARCH_ATTRIBUTES} search attribute filters`);
const listFilters = z.object({
  status: z.enum(EXECUTION_STATUSES).optional(),
  type: id.optional(),
  startedAfter: time.optional(), startedBefore: time.optional(),
  closedAfter: time.optional(), closedBefore: time.optional(),
  workflowIdPrefix: z.string().min(1).max(1000).optional(),
  searchAttributes: searchAttributeFilters.optional(),
});

/** Argument schemas of client calls (shared by the WebSocket hub and the HTTP API). */
export const callArgs = {
  start: z.object({
    type: id, workflowId: id.optional(), input: z.unknown().optional(), idempotencyKey: id.optional(),
    idReusePolicy: z.enum(ID_REUSE_POLICIES).optional(), conflictPolicy: z.enum(CONFLICT_POLICIES).optional(),
  }),
  signalWithStart: z.object({
    type: id, workflowId: id, input: z.unknown().optional(), event, idempotencyKey: id.optional(),
    idReusePolicy: z.enum(ID_REUSE_POLICIES).optional(), conflictPolicy: z.enum(CONFLICT_POLICIES).optional(),
  }),
  signal: z.object({ workflowId: id, event }),
  update: z.object({ workflowId: id, event }),
  query: z.object({ workflowId: id, runId: id.optional() }),
  cancel: z.object({ workflowId: id, reason: z.string().max(10_000).optional() }),
  terminate: z.object({ workflowId: id, reason: z.string().max(10_000).optional() }),
  reset: z.object({ workflowId: id, eventSeq: z.number().int().min(1), reason: z.string().max(10_000).optional() }),
  migrate: z.object({ type: id, fromVersion: id, toVersion: id.optional(), workflowIds: z.array(id).max(10_000).optional() }),
  result: z.object({ workflowId: id, runId: id.optional(), timeoutMs: z.number().int().min(0).max(3_600_000).optional() }),
  describe: z.object({ workflowId: id, runId: id.optional() }),
  history: z.object({ workflowId: id, runId: id.optional() }),
  list: listFilters.extend({ pageToken: z.string().max(10_000).optional(), limit: z.number().int().min(1).max(1000).optional() }),
  count: listFilters,
  types: z.object({}),
  ...namespaceCallArgs,
  ...nodeCallArgs,
  ...scheduleArgs,
} satisfies Record<ClientOp, z.ZodType>;

export type CallArgs<Op extends ClientOp> = z.infer<(typeof callArgs)[Op]>;

/**
 * A zod error as one sentence naming the field: "event.type: expected string, received number".
 */
export function describeZodError(error: z.ZodError): string {
  return error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(frame)'}: ${i.message}`).join('; ');
}
