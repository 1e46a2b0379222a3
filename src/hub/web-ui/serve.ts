import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ExecutionService } from '../../engine/api.ts';
import type { Authenticator } from '../auth.ts';
import { statePath, type PathCursor } from './state-path.ts';
import { UiBundle } from './ui-bundle.ts';

export interface UiOptions {
  engine: ExecutionService;
  auth: Authenticator;
  /** The built UI. Default dist/web at the package root (built by `npm ci`, or on first start). */
  dir?: string;
  /** Build a missing or stale bundle on start (in a checkout with Vite). Default true. */
  build?: boolean;
}

/** Paths the UI never answers: the API, the WebSocket, health and metrics keep their own 404s. */
const RESERVED = /^\/(api|ws|healthz|metrics)(\/|$)/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8', '.map': 'application/json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.map', '.txt']);

/**
 * Everything bundled, nothing from elsewhere. React sets styles through the CSSOM (allowed);
 * the diagram's SVG uses style attributes, hence 'unsafe-inline' for styles only.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Serves the web UI at `/` on the server's port, and the two endpoints it needs beyond the HTTP
 * API:
 *
 * ```
 * GET /api/v1/workers[?namespace=]                 200 { workers: WorkerView[] }
 * GET /api/v1/namespaces/{ns}/workflows/{id}/path  200 { runId, steps: [{ seq, at, event, value }], accepts, stoppedAt? }
 * GET /assets/…, /favicon.svg, …                   the bundle's files (hashed names cached for a year)
 * GET /, and any other path but /api, /ws, /healthz and /metrics asked for as text/html
 *                                                  → index.html (the app routes it)
 * ```
 *
 * Auth, when the server has tokens: the two endpoints need a Bearer token like the API
 * (`/path`: the client role in its namespace; `/workers`: any token, scoped to its namespace
 * unless it is for '*'). The static files are open: they hold no data, and the app asks for a
 * token when the API answers 401.
 *
 * @example
 * registerUi(app, { engine, auth }); // after registerHttpApi, before listen
 */
export function registerUi(app: FastifyInstance, options: UiOptions): void {
  const { engine, auth } = options;
  const bundle = new UiBundle({ dir: options.dir, build: options.build, log: { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m) } });
  // Not awaited: the server listens at once; until the bundle is there the UI says it is being built.
  void bundle.load();

  app.get<{ Querystring: { namespace?: string } }>('/api/v1/workers', async (request) => {
    const grant = auth.authenticate(request.headers.authorization);
    const asked = typeof request.query.namespace === 'string' && request.query.namespace !== '' ? request.query.namespace : undefined;
    if (grant && grant.namespace !== '*') auth.authorize(grant, asked ?? grant.namespace, grant.role === 'worker' ? 'worker' : 'client');
    const scope = grant && grant.namespace !== '*' ? grant.namespace : asked;
    return { workers: engine.workers(scope), now: Date.now() };
  });

  // The path of a run is kept between polls, so a live page steps only the new events.
  const paths = new Map<string, PathCursor>();
  app.get<{ Params: { ns: string; workflowId: string }; Querystring: { runId?: string } }>('/api/v1/namespaces/:ns/workflows/:workflowId/path', async (request) => {
    const { ns, workflowId } = request.params;
    auth.authorize(auth.authenticate(request.headers.authorization), ns, 'client');
    // `?runId=` for one run of the workflow id (an older run of a continue-as-new chain or a reset).
    const runId = typeof request.query.runId === 'string' && request.query.runId !== '' ? request.query.runId : undefined;
    const ref = { namespace: ns, workflowId, runId };
    const description = await engine.describe(ref);
    const definition = engine.definition(description.type, description.version);
    const query = await engine.query(ref);
    if (!definition) return { runId: description.runId, steps: [], accepts: query.accepts, stoppedAt: 1 };
    const key = `${ns}\u0000${workflowId}\u0000${runId ?? ''}`;
    const cursor = statePath(definition, await engine.history(ref), paths.get(key), description.runId);
    paths.delete(key);
    paths.set(key, cursor);
    if (paths.size > 64) paths.delete(paths.keys().next().value!);
    return { runId: cursor.runId, steps: cursor.steps, accepts: query.accepts, stoppedAt: cursor.stoppedAt };
  });

  const compressed = new Map<string, Buffer>();
  const send = async (request: FastifyRequest, reply: FastifyReply, urlPath: string, file: string) => {
    const ext = extname(file);
    const body = await readFile(file);
    reply.header('content-type', TYPES[ext] ?? 'application/octet-stream');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (ext === '.html') {
      reply.header('content-security-policy', CSP);
      reply.header('referrer-policy', 'no-referrer');
    }
    const gzip = COMPRESSIBLE.has(ext) && body.length > 1024 && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    reply.header('vary', 'accept-encoding');
    if (!gzip) return reply.send(body);
    let zipped = compressed.get(file);
    if (!zipped) {
      zipped = gzipSync(body);
      compressed.set(file, zipped);
    }
    reply.header('content-encoding', 'gzip');
    return reply.send(zipped);
  };

  app.get('/*', async (request, reply) => {
    const urlPath = safeDecode(request.url.split('?')[0]!);
    if (urlPath === undefined || RESERVED.test(urlPath)) return reply.callNotFound();
    const page = urlPath === '/' || wantsHtml(request);
    const state = bundle.state;
    if (state.kind !== 'ready') {
      if (!page) return reply.callNotFound();
      reply.code(503).header('content-type', 'text/html; charset=utf-8').header('retry-after', '2').header('cache-control', 'no-store');
      return placeholder(state.kind === 'building' ? null : state.reason);
    }
    const file = state.files.get(urlPath);
    if (file) return send(request, reply, urlPath, file);
    // A path with an extension names a file that is not there; a page asked for is a route of the app.
    if (extname(urlPath) !== '' || !page) return reply.callNotFound();
    return send(request, reply, '/index.html', state.files.get('/index.html')!);
  });
}

function safeDecode(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/**
 * Only a browser navigating (it asks for text/html) gets the app for an unknown path; curl and
 * API clients (`*\/*`, JSON) keep the server's JSON 404 NOT_FOUND.
 */
function wantsHtml(request: FastifyRequest): boolean {
  return String(request.headers.accept ?? '').includes('text/html');
}

/** The page shown while the bundle is built (refreshes itself), or why there is none. */
function placeholder(reason: string | null): string {
  const message = reason === null
    ? '<p>The web UI is being built (first start after install or update). This page reloads by itself.</p><script>setTimeout(() => location.reload(), 2000)</script>'
    : `<p>${reason.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)}</p><p>The HTTP API is available at <code>/api/v1</code>.</p>`;
  return `<!doctype html><meta charset="utf-8"><title>Perdure</title><body style="font:16px system-ui;margin:3rem;max-width:40rem"><h1>Perdure</h1>${message}</body>`;
}
