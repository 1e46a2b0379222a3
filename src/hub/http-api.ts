import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import type { Authenticator } from './auth.ts';
import type { ClientOps } from './client-ops.ts';
import type { Metrics } from './metrics.ts';

export interface HttpApiDeps {
  engine: Engine;
  ops: ClientOps;
  auth: Authenticator;
  metrics: Metrics;
}

/** The HTTP API (JSON), for the CLI, the web UI and curl. */
export function registerHttpApi(app: FastifyInstance, deps: HttpApiDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
