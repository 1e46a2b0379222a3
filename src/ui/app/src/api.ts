import type { WorkerView } from '../../../common/worker-protocol.ts';
import type { ClusterNode, ClusterStatus } from '../../../common/cluster-status.ts';
import type { ExecutionStatus, HistoryEvent, MachineEvent } from '../../../common/history.ts';
import type { ExecutionDetail, QueryResult, RunSummary } from '../../../common/execution-types.ts';
import type { FailureInfo } from '../../../common/failures.ts';
import type { SearchAttributeType } from '../../../common/search-attributes.ts';
import type { NamespaceInfo } from '../../../common/namespaces.ts';
import type { ScheduleDescription, ScheduleOptions, ScheduleSummary, TriggerResult } from '../../../common/schedule-types.ts';
import type { StatelyExport } from '../../../definition/stately-export.ts';
import type { PathStep, StateJson } from './lib/machine-graph.ts';

/**
 * The browser's side of the HTTP API (and the two UI endpoints of src/hub/web-ui/serve.ts). Every call
 * sends the stored token as Bearer when there is one; a 401 asks the user for one (see auth.tsx).
 */

// The server's own shapes (src/common): a field it adds is seen here without a second declaration.
export type { ExecutionStatus, HistoryEvent, MachineEvent, FailureInfo, ExecutionDetail, QueryResult };
export type { NamespaceInfo, ScheduleDescription, ScheduleOptions, ScheduleSummary, TriggerResult };
export type { ClusterNode, ClusterStatus };

/** One execution in a listing. */
export type ExecutionSummary = RunSummary;

export interface ExecutionPage {
  executions: ExecutionSummary[];
  nextPageToken: string | null;
}

export interface WorkflowType {
  type: string;
  /** `definition` is the machine's `toJSON()` (drawn); `stately` its export (Open in Stately, Download JSON). */
  versions: { version: string; definition: StateJson; stately: StatelyExport; searchAttributes?: Record<string, SearchAttributeType> }[];
}

/** One worker session as the server's workers endpoint describes it. */
export type WorkerInfo = WorkerView;

export interface RunPath {
  runId: string;
  steps: PathStep[];
  accepts: string[];
  stoppedAt?: number;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

const TOKEN_KEY = 'perdure.token';
type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

export const tokenStore = {
  get(): string | null {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string | null): void {
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch {
      // private mode: the token lives as long as the page
    }
  },
  /** Called when the server answers 401: the app shows the token form. */
  onUnauthorized(listener: Listener): () => void {
    unauthorizedListeners.add(listener);
    return () => unauthorizedListeners.delete(listener);
  },
};

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = tokenStore.get();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'CONNECTION_LOST', 'the server cannot be reached; retrying');
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const err = (json ?? {}) as { code?: string; message?: string };
    if (response.status === 401) for (const l of unauthorizedListeners) l();
    throw new ApiError(response.status, err.code ?? `HTTP_${response.status}`, err.message ?? `${method} ${path}: HTTP ${response.status}`);
  }
  return json as T;
}

const enc = encodeURIComponent;

/** The server-side filters of a listing; times in ms since epoch. */
export interface ListFilters {
  status?: string;
  type?: string;
  startedAfter?: number;
  startedBefore?: number;
  workflowIdPrefix?: string;
  /** Search-attribute expressions (`customerId=c-1`, `amount>=10`), each an `attr` parameter. */
  attr?: string[];
}

function filterParams(query: ListFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key === 'pageToken' || key === 'limit' || value === undefined || value === '' || value === null) continue;
    if (Array.isArray(value)) for (const one of value) params.append(key, String(one));
    else params.set(key, String(value));
  }
  return params;
}
const wf = (ns: string, id: string) => `/api/v1/namespaces/${enc(ns)}/workflows/${enc(id)}`;
/** `?runId=` naming one run of a workflow id; none for its current run. */
const run = (runId?: string) => (runId ? `?runId=${enc(runId)}` : '');
const sched = (ns: string, id?: string) => `/api/v1/namespaces/${enc(ns)}/schedules${id === undefined ? '' : `/${enc(id)}`}`;

export const api = {
  /** One page, filtered by the server; with a prefix or close-time filter a page may be short and still have a next one. */
  list(ns: string, query: ListFilters & { pageToken?: string | null; limit?: number }, signal?: AbortSignal): Promise<ExecutionPage> {
    const params = filterParams(query);
    if (query.pageToken) params.set('pageToken', query.pageToken);
    if (query.limit) params.set('limit', String(query.limit));
    const qs = params.toString();
    return request('GET', `/api/v1/namespaces/${enc(ns)}/workflows${qs ? `?${qs}` : ''}`, undefined, signal);
  },
  count(ns: string, query: ListFilters, signal?: AbortSignal): Promise<{ count: number; capped?: boolean }> {
    const qs = filterParams(query).toString();
    return request('GET', `/api/v1/namespaces/${enc(ns)}/workflow-count${qs ? `?${qs}` : ''}`, undefined, signal);
  },
  /** The workflow id's current run, or with `runId` that run of it (404 EXECUTION_NOT_FOUND when it has no such run). */
  describe: (ns: string, id: string, runId?: string, signal?: AbortSignal) => request<ExecutionDetail>('GET', `${wf(ns, id)}${run(runId)}`, undefined, signal),
  history: (ns: string, id: string, runId?: string, signal?: AbortSignal) => request<{ events: HistoryEvent[] }>('GET', `${wf(ns, id)}/history${run(runId)}`, undefined, signal),
  path: (ns: string, id: string, runId?: string, signal?: AbortSignal) => request<RunPath>('GET', `${wf(ns, id)}/path${run(runId)}`, undefined, signal),
  start: (ns: string, body: { type: string; workflowId?: string; input?: unknown }) => request<{ workflowId: string; runId: string }>('POST', `/api/v1/namespaces/${enc(ns)}/workflows`, body),
  signal: (ns: string, id: string, event: MachineEvent) => request<unknown>('POST', `${wf(ns, id)}/signal`, { event }),
  update: (ns: string, id: string, event: MachineEvent) => request<QueryResult>('POST', `${wf(ns, id)}/update`, { event }),
  cancel: (ns: string, id: string, reason?: string) => request<unknown>('POST', `${wf(ns, id)}/cancel`, reason ? { reason } : {}),
  terminate: (ns: string, id: string, reason: string) => request<unknown>('POST', `${wf(ns, id)}/terminate`, { reason }),
  reset: (ns: string, id: string, eventSeq: number, reason?: string) =>
    request<{ workflowId: string; runId: string }>('POST', `${wf(ns, id)}/reset`, reason ? { eventSeq, reason } : { eventSeq }),
  types: (signal?: AbortSignal) => request<{ types: WorkflowType[] }>('GET', '/api/v1/workflow-types', undefined, signal),
  workers: (signal?: AbortSignal) => request<{ workers: WorkerInfo[]; now: number }>('GET', '/api/v1/workers', undefined, signal),
  /** The cluster's nodes and their shards (needs a token for every namespace: FORBIDDEN otherwise). */
  cluster: (signal?: AbortSignal) => request<ClusterStatus>('GET', '/api/v1/cluster', undefined, signal),
  /** The namespaces the token may see (a token scoped to one sees only its own). */
  namespaces: (signal?: AbortSignal) => request<{ namespaces: NamespaceInfo[] }>('GET', '/api/v1/namespaces', undefined, signal),
  schedules: {
    list: (ns: string, pageToken: string | null, signal?: AbortSignal) =>
      request<{ schedules: ScheduleSummary[]; nextPageToken: string | null }>('GET', `${sched(ns)}${pageToken ? `?pageToken=${enc(pageToken)}` : ''}`, undefined, signal),
    describe: (ns: string, id: string, signal?: AbortSignal) => request<ScheduleDescription>('GET', sched(ns, id), undefined, signal),
    create: (ns: string, options: ScheduleOptions) => request<ScheduleDescription>('POST', sched(ns), options),
    pause: (ns: string, id: string, note?: string) => request<ScheduleDescription>('POST', `${sched(ns, id)}/pause`, note ? { note } : {}),
    unpause: (ns: string, id: string) => request<ScheduleDescription>('POST', `${sched(ns, id)}/unpause`, {}),
    trigger: (ns: string, id: string) => request<TriggerResult>('POST', `${sched(ns, id)}/trigger`, {}),
    delete: (ns: string, id: string) => request<{ deleted: true }>('DELETE', sched(ns, id)),
  },
};
