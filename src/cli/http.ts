import { CliError, EXIT } from './cli-error.ts';

/** Where the CLI sends its requests, and as whom. */
export interface ApiTarget {
  /** `http://127.0.0.1:7233`; a bare `host:port` or a `ws://` URL work too. */
  address: string;
  namespace: string;
  token?: string;
}

export const DEFAULT_ADDRESS = 'http://127.0.0.1:7233';

export interface ApiResponse<T> {
  status: number;
  body: T;
}

/**
 * A small `fetch` wrapper for the server's HTTP API: JSON in and out, the bearer token, and
 * errors as CliErrors that keep the server's `{ code, message }`.
 *
 * @example
 * const api = new HttpApi({ address: 'http://127.0.0.1:7233', namespace: 'default' });
 * const { body } = await api.request<{ workflowId: string }>('POST', api.workflows(), { body: { type: 'approval' } });
 */
export class HttpApi {
  readonly baseUrl: string;

  constructor(readonly target: ApiTarget) {
    this.baseUrl = normalizeAddress(target.address);
  }

  /** `/api/v1/namespaces/{ns}/workflows[/{workflowId}[/{action}]]` */
  workflows(workflowId?: string, action?: string): string {
    let path = `/api/v1/namespaces/${encodeURIComponent(this.target.namespace)}/workflows`;
    if (workflowId !== undefined) path += `/${encodeURIComponent(workflowId)}`;
    if (action !== undefined) path += `/${action}`;
    return path;
  }

  /** `/api/v1/namespaces/{ns}/workflow-types/{type}/{action}` */
  workflowType(type: string, action: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.target.namespace)}/workflow-types/${encodeURIComponent(type)}/${action}`;
  }

  /**
   * Sends one request. Statuses outside `accept` (default: any 2xx) become a CliError carrying
   * the server's code and message.
   */
  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: { body?: unknown; query?: Record<string, string | string[] | undefined>; accept?: readonly number[] } = {}): Promise<ApiResponse<T>> {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      // An array is a repeated parameter (`attr=a&attr=b`).
      for (const one of [value ?? []].flat()) if (one !== '') url.searchParams.append(key, one);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;

    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError('SERVER_UNREACHABLE',
        `no Perdure server answered at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}). ` +
          'Start one with `perdure server`, or pass --address (or set PERDURE_ADDRESS).', EXIT.failure);
    }
    const text = await response.text();
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new CliError('BAD_RESPONSE', `${method} ${url.pathname} answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`);
      }
    }
    const ok = options.accept ? options.accept.includes(response.status) : response.status >= 200 && response.status < 300;
    if (!ok) {
      const error = (body ?? {}) as { code?: unknown; message?: unknown; error?: unknown };
      const code = typeof error.code === 'string' ? error.code : statusCode(response.status);
      const message = typeof error.message === 'string' ? error.message : `${method} ${url.pathname} answered ${response.status} ${String(error.error ?? response.statusText)}`;
      const hint = code === 'UNAUTHORIZED' ? ' Pass --token (or set PERDURE_TOKEN).' : '';
      throw new CliError(code, message + hint);
    }
    return { status: response.status, body: body as T };
  }
}

/**
 * The HTTP base URL of an address given on the command line: `127.0.0.1:7233`,
 * `http://host:7233/`, `ws://host:7233/ws` all become `http://host:7233`.
 */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (!/^[a-z]+:\/\//i.test(a)) a = `http://${a}`;
  a = a.replace(/^ws:\/\//i, 'http://').replace(/^wss:\/\//i, 'https://');
  const url = new URL(a);
  return `${url.protocol}//${url.host}`;
}

/** A code for an error answer without one (a proxy, an old server). */
function statusCode(status: number): string {
  switch (status) {
    case 400: return 'INVALID_ARGUMENT';
    case 401: return 'UNAUTHORIZED';
    case 403: return 'FORBIDDEN';
    case 404: return 'NOT_FOUND';
    case 408: return 'TIMEOUT';
    case 429: return 'TOO_MANY_REQUESTS';
    default: return status >= 500 ? 'INTERNAL' : 'BAD_RESPONSE';
  }
}
