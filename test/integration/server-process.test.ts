import { describe, expect, it } from 'vitest';
import { startServerProcess } from '../helpers/server-process.ts';

describe('the server process', () => {
  it('answers /healthz, serves /metrics, and exits 0 on SIGTERM', async () => {
    const server = await startServerProcess();
    try {
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain('perdure_workers_connected');
      expect(await server.stop()).toBe(0);
    } finally {
      await server.cleanup();
    }
  });
});
