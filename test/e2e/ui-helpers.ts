import type { HistoryEvent } from '../../src/common/history.ts';

/** One JSON call to the HTTP API; throws with the server's `{ code, message }` on an error status. */
export async function api(base: string, method: string, path: string, body?: unknown, token?: string): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await response.json().catch(() => undefined) as unknown;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Waits until the server answers `/` with the app (200), not with the "being built" page (503)
 * that a server shows while it builds a missing or stale bundle.
 */
export async function waitForUi(base: string, timeoutMs = 200_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const response = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    const text = await response.text();
    if (response.status === 200 && text.includes('id="root"')) return;
    last = `${response.status}: ${text.slice(0, 300)}`;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the web UI did not become available at ${base}/ within ${timeoutMs} ms; last answer ${last}`);
}

/** A history of `count` events: the start, then PING signals carrying their number. */
export function syntheticHistory(workflowId: string, count: number): HistoryEvent[] {
  const at = Date.now() - count * 10;
  const events: HistoryEvent[] = [{ seq: 1, at, kind: 'WorkflowStarted', type: 'approval', version: 'synthetic', namespace: 'default', workflowId, input: { request: 'long' } }];
  for (let seq = 2; seq <= count; seq++) events.push({ seq, at: at + seq * 10, kind: 'SignalReceived', event: { type: 'PING', n: seq } });
  return events;
}
