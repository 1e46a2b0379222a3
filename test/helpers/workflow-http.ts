import { expect } from 'vitest';

/** One history event as the HTTP API returns it (only the fields the fault tests read). */
export interface HttpHistoryEvent {
  seq: number;
  kind: string;
  activityId?: string;
  attempt?: number;
  [key: string]: unknown;
}

/**
 * The HTTP calls the fault tests make against a server in another process, in namespace
 * `default`.
 *
 * @example
 * const api = workflowApi(server.url);
 * await api.start('boundedTask', 'b-1', { steps: 4, stepMs: 100 });
 * const { status } = await api.result('b-1');
 */
export function workflowApi(url: string) {
  const base = `${url}/api/v1/namespaces/default/workflows`;
  return {
    base,
    async start(type: string, workflowId: string, input: unknown): Promise<{ status: number; body: { runId?: string; code?: string; message?: string } }> {
      const response = await fetch(base, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, workflowId, input }),
      });
      return { status: response.status, body: (await response.json()) as { runId?: string; code?: string; message?: string } };
    },
    async signal(workflowId: string, event: Record<string, unknown>): Promise<number> {
      const response = await fetch(`${base}/${workflowId}/signal`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event }),
      });
      await response.arrayBuffer();
      return response.status;
    },
    /** Waits (long-polling, up to `rounds` × 30 s) until the execution closes. */
    async result(workflowId: string, rounds = 4): Promise<{ status: string; output?: unknown; failure?: unknown }> {
      for (let i = 0; ; i++) {
        const response = await fetch(`${base}/${workflowId}/result?wait=30s`);
        const body = (await response.json()) as { status: string; output?: unknown; failure?: unknown };
        if (response.status === 200 || i + 1 >= rounds) return body;
      }
    },
    async history(workflowId: string): Promise<HttpHistoryEvent[]> {
      const response = await fetch(`${base}/${workflowId}/history`);
      expect(response.status, `history of ${workflowId}`).toBe(200);
      return ((await response.json()) as { events: HttpHistoryEvent[] }).events;
    },
  };
}

/** Asserts a history is seq 1..n and returns how many ActivityCompleted each activity has. */
export function checkHistory(workflowId: string, events: HttpHistoryEvent[]): Map<string, number> {
  expect(events.map((e) => e.seq), `${workflowId}: history seq is 1..n`).toEqual(events.map((_, i) => i + 1));
  const completed = new Map<string, number>();
  for (const e of events) if (e.kind === 'ActivityCompleted') completed.set(e.activityId!, (completed.get(e.activityId!) ?? 0) + 1);
  return completed;
}
