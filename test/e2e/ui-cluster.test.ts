/**
 * The workers page's cluster section in headless Chromium, on a cluster of two nodes on
 * PostgreSQL: the UI's server process (the harness's) and a second node in this process, on one
 * schema. Skipped without PostgreSQL (PERDURE_REQUIRE_PG=1 makes that a failure) or Chromium.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { createServer, type PerdureServer } from '../../src/server/create-server.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { freshSchema, PG_TEST_URL, probePostgres } from '../helpers/postgres.ts';
import { SKIP_BROWSER } from './browser.ts';
import { uiHarness } from './ui-harness.ts';

const postgres = await probePostgres();
const LEASE_MS = 2_000;
const schema = postgres.available ? await freshSchema() : undefined;

describe.skipIf(SKIP_BROWSER || !postgres.available)(`the workers page of a cluster${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  let second: PerdureServer | undefined;
  const ui = uiHarness({ store: `${schema?.url}&lease_ms=${LEASE_MS}` }, async () => {
    const store = new PostgresStore({ url: PG_TEST_URL, schema: schema!.schema, nodeId: 'ui-node-b', leaseMs: LEASE_MS, poolSize: 3 });
    second = await createServer({ workflows: [approvalWorkflow], store, port: 0, logger: false });
  });
  afterAll(async () => {
    await second?.close();
    await schema?.drop();
  });

  it('lists both nodes with their addresses, heartbeats and shards, the epochs on hover', async () => {
    const page = await ui.newPage();
    try {
      await page.goto(`${ui.server.url}/workers`);
      await page.getByTestId('cluster-section').waitFor();
      // The two even out over a few heartbeats: wait for both rows, each with its share.
      const rows = page.getByTestId('cluster-node');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=cluster-node]').length === 2, undefined, { timeout: 30_000 });
      const b = page.locator('[data-testid=cluster-node][data-node-id="ui-node-b"]');
      expect(await b.textContent()).toContain(`127.0.0.1:${second!.port}`);
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=cluster-node-shards]')].every((cell) => !cell.textContent!.startsWith('0 ')), undefined, { timeout: 30_000 });
      const shards = await b.getByTestId('cluster-node-shards').getAttribute('title');
      expect(shards).toMatch(/^shard@epoch: \d+(-\d+)?@\d+/);
      expect(await rows.first().textContent()).toMatch(/just now|s ago/);
      expect(await page.locator('[data-testid=cluster-node] .tag').count(), 'the answering node is marked').toBe(1);
      expect(page.problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
