import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Duration } from '../common/activity-options.ts';
import { toMs } from '../common/duration.ts';
import type { ErrorCode } from '../common/error-codes.ts';
import { InvalidArgumentError, PerdureError } from '../common/errors.ts';
import { CLOSED_STATUSES, type ExecutionStatus } from '../common/history.ts';
import { parseAttributeExpressions } from '../common/search-attribute-expressions.ts';
import type { ClientOp } from '../common/wire.ts';
import { DEFAULT_NAMESPACE, type NamespaceInfo } from '../common/namespaces.ts';
import type { ExecutionService } from '../engine/api.ts';
import type { Authenticator, TokenGrant } from './auth.ts';
import type { ClientOps } from './client-ops.ts';
import type { Metrics } from './metrics.ts';
import { registerScheduleRoutes } from './schedule-routes.ts';
import { registerClusterRoutes } from './cluster-routes.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';

export interface HttpApiDeps {
  engine: ExecutionService;
  ops: ClientOps;
  auth: Authenticator;
  metrics: Metrics;
  /** Shard ownership, for GET /cluster (absent: the route is not served). */
  cluster?: ShardOwnership;
}

/** Where the JSON API lives. */
export const API_PREFIX = '/api/v1';

/**
 * The HTTP status of every error code. A `Record` over the whole catalog, so a new code does not
 * compile until it has a status here.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  EXECUTION_NOT_FOUND: 404,
  WORKFLOW_TYPE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  NAMESPACE_NOT_FOUND: 404,
  NAMESPACE_ALREADY_EXISTS: 409,
  SCHEDULE_NOT_FOUND: 404,
  SCHEDULE_ALREADY_EXISTS: 409,
  EXECUTION_ALREADY_STARTED: 409,
  EXECUTION_CLOSED: 409,
  WORKFLOW_ID_REUSE_REJECTED: 409,
  UPDATE_REJECTED: 409,
  PAYLOAD_TOO_LARGE: 413,
  PAYLOAD_TOO_DEEP: 400,
  // The execution exists but the server lacks its machine version: a conflict with the
  // deployed code, not a server fault, and retrying does not help until the version is registered.
  VERSION_MISSING: 409,
  NONDETERMINISM: 409,
  // The machine's code broke a step limit or threw: a conflict with the deployed machine, which
  // retrying the same request does not resolve.
  MICROSTEP_LIMIT_EXCEEDED: 409,
  STEP_TIME_BUDGET_EXCEEDED: 409,
  MACHINE_CODE_FAILED: 409,
  TASK_TOKEN_STALE: 409,
  // Two writers of one run: the request raced another and may be retried once it is re-read.
  COMMIT_CONFLICT: 409,
  INVALID_ARGUMENT: 400,
  PROTOCOL_ERROR: 400,
  PROTOCOL_VERSION: 400,
  FRAME_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TOO_MANY_REQUESTS: 429,
  HELLO_TIMEOUT: 408,
  SEND_BUFFER_FULL: 429,
  // A wait that ended is answered 202 by GET …/result; any other TIMEOUT is the request's own.
  TIMEOUT: 408,
  ENGINE_STOPPED: 503,
  STORE_LOCKED: 503,
  STORE_FAILED: 503,
  STORE_CLOSED: 503,
  STORE_SCHEMA_TOO_NEW: 503,
  SHARD_OWNERSHIP_LOST: 503,
  SHARD_NOT_HELD: 503,
  CONNECTION_LOST: 503,
  INVALID_DEFINITION: 500,
  HISTORY_CORRUPTED: 500,
  RUN_CORRUPTED: 500,
  STORE_CORRUPTED: 500,
  INTERNAL: 500,
  // Payload codec codes: raised by the SDKs, which encode and decode; the server never does.
  PAYLOAD_DECODE_FAILED: 400,
  PAYLOAD_KEY_UNKNOWN: 400,
  PAYLOAD_CODEC_UNKNOWN: 400,
  PAYLOAD_ENCODE_FAILED: 400,
  // The `perdure` command's own codes: raised by the CLI, never answered by the server. They
  // have a status only because this map covers the whole catalog.
  USAGE: 400,
  SERVER_UNREACHABLE: 502,
  ADDRESS_IN_USE: 500,
  BAD_RESPONSE: 502,
};

/** Longest `?wait=` of GET …/result (the `result` call's limit). */
const MAX_WAIT_MS = 3_600_000;

interface NsParams { ns: string }
interface WorkflowParams extends NsParams { workflowId: string }
interface RunQuery { runId?: string }

/**
 * The HTTP API (JSON), for the CLI, the web UI and curl. Every route runs a `ClientOps` call, so
 * arguments are validated exactly as on the WebSocket; errors are `{ code, message }` with the
 * status of `HTTP_STATUS`.
 *
 * ```
 * POST /api/v1/namespaces/{ns}/workflows                        201 { workflowId, runId } (200: useExisting found it open)
 *      body { type, workflowId?, input?, idempotencyKey?, idReusePolicy?, conflictPolicy? }
 * POST /api/v1/namespaces/{ns}/workflows/{id}/signal-with-start {type, event, input?, …}
 *                                                               201 (started) | 200 (signalled) { workflowId, runId, started }
 * GET  /api/v1/namespaces/{ns}/workflows?status=&type=&pageToken=&limit=
 *        &startedAfter=&startedBefore=&closedAfter=&closedBefore=&workflowIdPrefix=
 *        &attr=customerId=c-1&attr=amount>=10   (search attributes; repeatable, all must match)
 *                                                               200 { executions, nextPageToken }
 * GET  /api/v1/namespaces/{ns}/workflow-count?(the same filters) 200 { count, capped? }
 * GET  /api/v1/namespaces/{ns}/workflows/{id}                   200 description + state { value, context, tags, accepts }
 * GET  /api/v1/namespaces/{ns}/workflows/{id}/query             200 { status, value, context, tags, accepts }
 * POST /api/v1/namespaces/{ns}/workflows/{id}/signal   {event}  202 { accepted }
 * POST /api/v1/namespaces/{ns}/workflows/{id}/update   {event}  200 state | 409 UPDATE_REJECTED
 * POST /api/v1/namespaces/{ns}/workflows/{id}/cancel   {reason?} 202 { accepted }
 * POST /api/v1/namespaces/{ns}/workflows/{id}/terminate {reason?} 200 { accepted }
 * POST /api/v1/namespaces/{ns}/workflows/{id}/reset     {eventSeq, reason?} 200 { workflowId, runId } (the new run)
 * GET  /api/v1/namespaces/{ns}/workflows/{id}/result?wait=30s   200 { status, output?, failure? } | 202 { status }
 * GET  /api/v1/namespaces/{ns}/workflows/{id}/history           200 { events }
 * GET  /api/v1/workflow-types                                   200 { types }
 * POST /api/v1/namespaces/{ns}/workflow-types/{type}/migrate {fromVersion, toVersion?, workflowIds?}
 *                                                               200 { toVersion, migrated, failed }
 * POST /api/v1/namespaces  {name, description?, retention?}     201 namespace | 409 NAMESPACE_ALREADY_EXISTS
 * GET  /api/v1/namespaces                                       200 { namespaces }
 * GET  /api/v1/namespaces/{ns}                                  200 namespace | 404 NAMESPACE_NOT_FOUND
 * PATCH /api/v1/namespaces/{ns}  {description?, retention?}     200 namespace
 * …/namespaces/{ns}/schedules[/{id}[/update|/pause|/unpause|/trigger]]  schedules: see schedule-routes.ts
 * GET  /healthz (open)   GET /metrics (Prometheus text)
 * ```
 *
 * Auth, when the server has tokens: every `/api/…` request needs `Authorization: Bearer` (401
 * before the body is read), and the token must allow the role `client` in the path's namespace
 * (403). `GET /api/v1/workflow-types` is not in a namespace: any client or admin token may read
 * it. `/healthz` stays open for load balancers. `/metrics` needs a token valid for every
 * namespace (`*`, any role): its labels name every namespace and workflow type, which a token
 * scoped to one namespace must not learn; Prometheus sends one with `authorization.credentials`.
 * Namespace routes decide for themselves (hub/namespace-ops.ts): creating needs an admin token for
 * `*`, updating an admin token for the namespace.
 */
export function registerHttpApi(app: FastifyInstance, deps: HttpApiDeps): void {
  const { auth, ops } = deps;
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    sendError(reply, 404, 'NOT_FOUND', `NOT_FOUND: no route ${request.method} ${path}. The API is under ${API_PREFIX}/namespaces/{namespace}/workflows.`);
  });

  // Unhealthy once the store has stopped taking writes (fail-stop): it does not recover by
  // itself, so an orchestrator's liveness probe must see it and restart the server.
  app.get('/healthz', async (_request, reply) => {
    const failure = deps.engine.storeFailure();
    if (!failure) return { status: 'ok' };
    return reply.code(503).send({ status: 'unhealthy', code: failure.code, message: failure.message });
  });
  app.get('/metrics', async (request, reply) => {
    const grant = authenticate(auth, request);
    if (grant && grant.namespace !== '*') {
      throw new PerdureError('FORBIDDEN', `/metrics reports every namespace: it needs a token for all namespaces ("*"), not one for "${grant.namespace}".`);
    }
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  app.register(async (api) => {
    // Authenticate before the body is read: an anonymous caller never gets to make us parse it.
    const grants = new WeakMap<FastifyRequest, TokenGrant | undefined>();
    api.addHook('onRequest', async (request) => {
      grants.set(request, authenticate(auth, request));
    });
    const call = (request: FastifyRequest<{ Params: NsParams }>, op: ClientOp, args: Record<string, unknown>) => {
      auth.authorize(grants.get(request), request.params.ns, 'client');
      return ops.call(request.params.ns, op, args);
    };

    // An empty body with Content-Type: application/json counts as no body, so `curl -X POST -H
    // 'content-type: application/json' …/cancel` works; anything else goes to fastify's parser
    // (which refuses __proto__ and constructor.prototype keys).
    const json = api.getDefaultJsonParser('error', 'error');
    api.removeContentTypeParser('application/json');
    api.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (typeof body === 'string' && body.trim() === '') done(null, undefined);
      else json(request, body as string, done);
    });

    const ns = '/namespaces/:ns/workflows';
    const one = `${ns}/:workflowId`;

    api.post<{ Params: NsParams }>(ns, async (request, reply) => {
      const body = objectBody(request.body, '{ "type": "order", "workflowId"?, "input"?, "idempotencyKey"?, "idReusePolicy"?, "conflictPolicy"? }');
      const started = await call(request, 'start', body) as { workflowId: string; runId: string; started: boolean };
      // 200 when conflictPolicy "useExisting" answered with the open run: nothing was created.
      reply.code(started.started ? 201 : 200).header('location', `${API_PREFIX}/namespaces/${encodeURIComponent(request.params.ns)}/workflows/${encodeURIComponent(started.workflowId)}`);
      return { workflowId: started.workflowId, runId: started.runId };
    });

    api.get<{ Params: NsParams; Querystring: Record<string, unknown> }>(ns, async (request) => {
      const { pageToken, limit } = request.query;
      const page = await call(request, 'list', { ...listFilters(request.query), pageToken, limit: numeric(limit) }) as { executions: unknown[]; nextPageToken?: string };
      return { executions: page.executions, nextPageToken: page.nextPageToken ?? null };
    });

    // Not `…/workflows/count`: that path would shadow GET of a workflow whose id is "count".
    // Temporal's HTTP API names it the same way (`/namespaces/{ns}/workflow-count`).
    api.get<{ Params: NsParams; Querystring: Record<string, unknown> }>('/namespaces/:ns/workflow-count', async (request) =>
      call(request, 'count', listFilters(request.query)));

    // `?runId=` reads one run of the workflow id (default: its current run).
    api.get<{ Params: WorkflowParams; Querystring: RunQuery }>(one, async (request) => call(request, 'describe', { workflowId: request.params.workflowId, runId: request.query.runId }));

    // The current state alone: cheaper than describe (no pending work), and what `perdure
    // workflow query` and `handle.query()` show.
    api.get<{ Params: WorkflowParams; Querystring: RunQuery }>(`${one}/query`, async (request) => call(request, 'query', { workflowId: request.params.workflowId, runId: request.query.runId }));

    api.post<{ Params: WorkflowParams }>(`${one}/signal`, async (request, reply) => {
      const event = eventOf(request.body);
      reply.code(202);
      return call(request, 'signal', { workflowId: request.params.workflowId, event });
    });

    // Signal the open run, or start one whose first event is the signal: 201 when it started one.
    api.post<{ Params: WorkflowParams }>(`${one}/signal-with-start`, async (request, reply) => {
      const body = objectBody(request.body, '{ "type": "approval", "event": { "type": "APPROVE", … }, "input"? }');
      const result = await call(request, 'signalWithStart', { ...body, workflowId: request.params.workflowId }) as { workflowId: string; runId: string; started: boolean };
      reply.code(result.started ? 201 : 200);
      return { workflowId: result.workflowId, runId: result.runId, started: result.started };
    });

    api.post<{ Params: WorkflowParams }>(`${one}/update`, async (request) => {
      const event = eventOf(request.body);
      return call(request, 'update', { workflowId: request.params.workflowId, event });
    });

    // Cancel is a request the machine may handle (202); terminate is done once it answers (200).
    api.post<{ Params: WorkflowParams }>(`${one}/cancel`, async (request, reply) => {
      const { reason } = objectBody(request.body ?? {}, '{ "reason"?: "…" }');
      reply.code(202);
      return call(request, 'cancel', { workflowId: request.params.workflowId, reason });
    });

    api.post<{ Params: WorkflowParams }>(`${one}/terminate`, async (request) => {
      const { reason } = objectBody(request.body ?? {}, '{ "reason": "…" }');
      return call(request, 'terminate', { workflowId: request.params.workflowId, reason });
    });

    api.post<{ Params: WorkflowParams }>(`${one}/reset`, async (request) => {
      const { eventSeq, reason } = objectBody(request.body ?? {}, '{ "eventSeq": 3, "reason"?: "…" }');
      return call(request, 'reset', { workflowId: request.params.workflowId, eventSeq, reason });
    });

    api.get<{ Params: WorkflowParams; Querystring: { wait?: unknown } }>(`${one}/result`, async (request, reply) => {
      const workflowId = request.params.workflowId;
      const timeoutMs = waitMs(request.query.wait);
      try {
        return await call(request, 'result', { workflowId, timeoutMs });
      } catch (error) {
        if (!(error instanceof PerdureError) || error.code !== 'TIMEOUT') throw error;
      }
      // The wait ended. Read the run once more: it may have closed in between, and a blocked
      // run is worth telling apart from a running one.
      const run = await call(request, 'describe', { workflowId }) as { status: ExecutionStatus; output?: unknown; failure?: unknown };
      if (CLOSED_STATUSES.has(run.status)) return { status: run.status, output: run.output, failure: run.failure };
      reply.code(202);
      return { status: run.status };
    });

    api.get<{ Params: WorkflowParams; Querystring: RunQuery }>(`${one}/history`, async (request) => call(request, 'history', { workflowId: request.params.workflowId, runId: request.query.runId }));

    // Moves the open runs of a version to another with the target's migration function.
    api.post<{ Params: NsParams & { type: string } }>('/namespaces/:ns/workflow-types/:type/migrate', async (request) => {
      const body = objectBody(request.body, '{ "fromVersion": "3f2a…", "toVersion"?: "…", "workflowIds"?: ["…"] }');
      return call(request, 'migrate', { ...body, type: request.params.type });
    });

    // Namespaces: not scoped by the path's namespace like the routes above; namespace-ops.ts
    // authorizes each (creating needs an admin token for "*").
    api.post('/namespaces', async (request, reply) => {
      const body = objectBody(request.body, '{ "name": "billing", "description"?: "…", "retention"?: "30d" }');
      const created = await ops.call(DEFAULT_NAMESPACE, 'createNamespace', body, grants.get(request)) as NamespaceInfo;
      reply.code(201).header('location', `${API_PREFIX}/namespaces/${encodeURIComponent(created.name)}`);
      return created;
    });
    api.get('/namespaces', async (request) => ops.call(DEFAULT_NAMESPACE, 'listNamespaces', {}, grants.get(request)));
    api.get<{ Params: NsParams }>('/namespaces/:ns', async (request) =>
      ops.call(DEFAULT_NAMESPACE, 'describeNamespace', { name: request.params.ns }, grants.get(request)));
    api.patch<{ Params: NsParams }>('/namespaces/:ns', async (request) => {
      const body = objectBody(request.body, '{ "description"?: "…", "retention"?: "7d" }');
      if (body.name !== undefined && body.name !== request.params.ns) throw new InvalidArgumentError('name: a namespace cannot be renamed; leave "name" out of the body');
      return ops.call(DEFAULT_NAMESPACE, 'updateNamespace', { ...body, name: request.params.ns }, grants.get(request));
    });
    registerScheduleRoutes(api, call, API_PREFIX);
    if (deps.cluster) registerClusterRoutes(api, { cluster: deps.cluster, auth });

    api.get('/workflow-types', async (request) => {
      const grant = grants.get(request);
      // Types are server-wide: any client (or admin) token may read them, whatever its namespace.
      if (grant) auth.authorize(grant, grant.namespace === '*' ? 'default' : grant.namespace, 'client');
      return ops.call('default', 'types', {});
    });
  }, { prefix: API_PREFIX });
}

function authenticate(auth: Authenticator, request: FastifyRequest): TokenGrant | undefined {
  return auth.authenticate(request.headers.authorization);
}

/** The body as an object; a missing or non-object body is INVALID_ARGUMENT showing the expected shape. */
function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError(`body: expected a JSON object like ${shape}, got ${body === undefined ? 'no body' : Array.isArray(body) ? 'an array' : typeof body}`);
  }
  return body as Record<string, unknown>;
}

const EVENT_BODY = '{ "event": { "type": "APPROVE", … } }';

/**
 * The `event` of a signal or update body. A body without one (a bare event such as
 * `{ "type": "APPROVE" }` is the usual slip) is refused showing the shape, as a start is.
 */
function eventOf(body: unknown): unknown {
  const { event } = objectBody(body, EVENT_BODY);
  if (event === undefined) {
    const bare = typeof (body as { type?: unknown }).type === 'string' ? ' (the event goes inside "event", not at the top level)' : '';
    throw new InvalidArgumentError(`body: expected a JSON object like ${EVENT_BODY}, got no "event" field${bare}`);
  }
  return event;
}

/**
 * The visibility filters of a query string; times are ISO 8601 (`2026-01-02T03:04:05Z`) or ms
 * since epoch. An unreadable time is INVALID_ARGUMENT naming the parameter. Search attributes
 * are `attr` expressions (`attr=customerId=c-1&attr=amount>=10`, see search-attribute-expressions.ts).
 */
function listFilters(query: Record<string, unknown>): Record<string, unknown> {
  const { status, type, workflowIdPrefix } = query;
  const filters: Record<string, unknown> = { status, type, workflowIdPrefix };
  for (const name of ['startedAfter', 'startedBefore', 'closedAfter', 'closedBefore'] as const) {
    filters[name] = timeParam(query[name], name);
  }
  const attr = query.attr === undefined || query.attr === '' ? [] : [query.attr].flat().map(String);
  if (attr.length > 0) filters.searchAttributes = parseAttributeExpressions(attr);
  return filters;
}

function timeParam(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value);
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw new InvalidArgumentError(`${name}: expected an ISO 8601 time (2026-01-02T03:04:05Z) or ms since epoch, got ${JSON.stringify(text)}`);
  }
  return ms;
}

/** A query-string number ("50") as a number; anything else as given, for the schema to refuse by name. */
function numeric(value: unknown): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

/** `?wait=30s` (or a number of ms) as ms; absent means "answer now". */
function waitMs(wait: unknown): number {
  if (wait === undefined || wait === '') return 0;
  if (typeof wait !== 'string') throw new InvalidArgumentError('wait: expected one duration like "30s" or "500ms"');
  const ms = /^\d+$/.test(wait) ? Number(wait) : toMs(wait as Duration, 'wait');
  if (ms > MAX_WAIT_MS) throw new InvalidArgumentError(`wait: at most 1h, got "${wait}"`);
  return Math.ceil(ms);
}

function handleError(error: FastifyError | PerdureError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof PerdureError) {
    if (error.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
    sendError(reply, HTTP_STATUS[error.code] ?? 500, error.code, error.message);
    return;
  }
  // fastify's own errors: body parsing, limits, media types.
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 413) {
    sendError(reply, 413, 'FRAME_TOO_LARGE', `the request body is larger than the server's limit. ${error.message}`);
  } else if (status === 404) {
    sendError(reply, 404, 'NOT_FOUND', error.message);
  } else if (status >= 400 && status < 500) {
    const what = error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'send a JSON body with Content-Type: application/json' : 'the body must be valid JSON';
    sendError(reply, status, 'INVALID_ARGUMENT', `body: ${error.message} (${what}).`);
  } else {
    request.log.error({ err: error }, 'HTTP API request failed');
    sendError(reply, 500, 'INTERNAL', error.message);
  }
}

/**
 * `{ code, message }`. A PerdureError's message starts with its code (for logs and stack
 * traces); the body carries the code in its own field, so the message drops that prefix.
 */
function sendError(reply: FastifyReply, status: number, code: string, message: string): void {
  reply.code(status).type('application/json').send({ code, message: withoutCode(code, message) });
}

function withoutCode(code: string, message: string): string {
  return message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
}
