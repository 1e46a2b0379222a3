import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../common/errors.ts';
import type { ScheduleDescription } from '../common/schedule-types.ts';
import type { ClientOp } from '../common/wire.ts';

interface NsParams { ns: string }
interface ScheduleParams extends NsParams { scheduleId: string }

/** How a route runs a client operation in the path's namespace (authorised by the caller). */
export type CallOp = (request: FastifyRequest<{ Params: NsParams }>, op: ClientOp, args: Record<string, unknown>) => Promise<unknown>;

/**
 * The schedule routes of the HTTP API, shaped like Temporal's:
 *
 * ```
 * POST   /api/v1/namespaces/{ns}/schedules            {scheduleId, spec, action, policies?, paused?, note?}  201 description
 * POST   /api/v1/namespaces/{ns}/schedules/{id}       {spec, action, policies?, paused?, note?}              201 description
 * GET    /api/v1/namespaces/{ns}/schedules?limit=&pageToken=                      200 { schedules, nextPageToken }
 * GET    /api/v1/namespaces/{ns}/schedules/{id}                                   200 description
 * POST   /api/v1/namespaces/{ns}/schedules/{id}/update  {spec?, action?, policies?} 200 description
 * POST   /api/v1/namespaces/{ns}/schedules/{id}/pause   {note?}                    200 description
 * POST   /api/v1/namespaces/{ns}/schedules/{id}/unpause {note?}                    200 description
 * POST   /api/v1/namespaces/{ns}/schedules/{id}/trigger {overlap?}                 200 { outcome, workflowId?, runId? }
 * DELETE /api/v1/namespaces/{ns}/schedules/{id}                                   200 { deleted: true }
 * ```
 * Errors: 400 INVALID_ARGUMENT (names the field or the bad cron expression), 404
 * SCHEDULE_NOT_FOUND, 404 WORKFLOW_TYPE_NOT_FOUND, 409 SCHEDULE_ALREADY_EXISTS.
 */
export function registerScheduleRoutes(api: FastifyInstance, call: CallOp, prefix: string): void {
  const base = '/namespaces/:ns/schedules';
  const one = `${base}/:scheduleId`;
  const location = (ns: string, id: string) => `${prefix}/namespaces/${encodeURIComponent(ns)}/schedules/${encodeURIComponent(id)}`;

  api.post<{ Params: NsParams }>(base, async (request, reply) => {
    const body = objectBody(request.body, '{ "scheduleId": "nightly", "spec": { "cron": "0 2 * * *" }, "action": { "workflowType": "report" } }');
    const created = await call(request, 'createSchedule', body) as ScheduleDescription;
    reply.code(201).header('location', location(request.params.ns, created.scheduleId));
    return created;
  });

  api.post<{ Params: ScheduleParams }>(one, async (request, reply) => {
    const body = objectBody(request.body, '{ "spec": { "cron": "0 2 * * *" }, "action": { "workflowType": "report" } }');
    const { scheduleId } = request.params;
    if (body.scheduleId !== undefined && body.scheduleId !== scheduleId) {
      throw new InvalidArgumentError(`body.scheduleId "${String(body.scheduleId)}" differs from the path's "${scheduleId}": give it once, in the path.`);
    }
    const created = await call(request, 'createSchedule', { ...body, scheduleId }) as ScheduleDescription;
    reply.code(201).header('location', location(request.params.ns, scheduleId));
    return created;
  });

  api.get<{ Params: NsParams; Querystring: { limit?: unknown; pageToken?: unknown } }>(base, async (request) => {
    const { limit, pageToken } = request.query;
    const page = await call(request, 'listSchedules', { limit: typeof limit === 'string' && /^\d+$/.test(limit) ? Number(limit) : limit, pageToken }) as { schedules: unknown[]; nextPageToken?: string };
    return { schedules: page.schedules, nextPageToken: page.nextPageToken ?? null };
  });

  api.get<{ Params: ScheduleParams }>(one, async (request) => call(request, 'describeSchedule', { scheduleId: request.params.scheduleId }));

  api.post<{ Params: ScheduleParams }>(`${one}/update`, async (request) => {
    const body = objectBody(request.body, '{ "spec"?: { … }, "action"?: { … }, "policies"?: { … } }');
    return call(request, 'updateSchedule', { ...body, scheduleId: request.params.scheduleId });
  });

  for (const action of ['pause', 'unpause'] as const) {
    api.post<{ Params: ScheduleParams }>(`${one}/${action}`, async (request) => {
      const { note } = objectBody(request.body ?? {}, '{ "note"?: "…" }');
      return call(request, action === 'pause' ? 'pauseSchedule' : 'unpauseSchedule', { scheduleId: request.params.scheduleId, note });
    });
  }

  api.post<{ Params: ScheduleParams }>(`${one}/trigger`, async (request) => {
    const { overlap } = objectBody(request.body ?? {}, '{ "overlap"?: "skip" | "bufferOne" | "allowAll" }');
    return call(request, 'triggerSchedule', { scheduleId: request.params.scheduleId, overlap });
  });

  api.delete<{ Params: ScheduleParams }>(one, async (request) => call(request, 'deleteSchedule', { scheduleId: request.params.scheduleId }));
}

/** The body as an object; anything else is INVALID_ARGUMENT showing the expected shape. */
function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError(`body: expected a JSON object like ${shape}, got ${body === undefined ? 'no body' : Array.isArray(body) ? 'an array' : typeof body}`);
  }
  return body as Record<string, unknown>;
}
