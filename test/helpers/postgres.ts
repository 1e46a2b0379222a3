import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { PostgresStoreOptions } from '../../src/store/postgres/postgres-options.ts';

/**
 * Real PostgreSQL for tests (never mocked). The database is `PERDURE_TEST_PG_URL`, by default
 * the local one of the development machine and CI. Each test makes its own schema and drops it.
 *
 * When the database cannot be reached, PostgreSQL tests are skipped with a line that says so —
 * unless `PERDURE_REQUIRE_PG=1` (CI sets it in `.ci/run`): then the probe throws and they fail.
 *
 * @example
 * const postgres = await probePostgres();
 * describe.skipIf(!postgres.available)('…', () => { … await freshSchema() … });
 */
export const PG_TEST_URL = process.env.PERDURE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PostgresProbe {
  available: boolean;
  /** Why it is unavailable, for the skip line. */
  reason?: string;
}

let probed: Promise<PostgresProbe> | undefined;

/** Whether the test database answers; throws when it does not and PERDURE_REQUIRE_PG=1. */
export function probePostgres(): Promise<PostgresProbe> {
  probed ??= (async () => {
    const client = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { available: true };
    } catch (error) {
      const reason = `PostgreSQL is unreachable at ${PG_TEST_URL} (${(error as Error).message})`;
      if (process.env.PERDURE_REQUIRE_PG === '1') throw new Error(`${reason}, and PERDURE_REQUIRE_PG=1 requires it.`);
      console.warn(`skipping PostgreSQL tests: ${reason}. Set PERDURE_TEST_PG_URL, or PERDURE_REQUIRE_PG=1 to fail instead.`);
      return { available: false, reason };
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probed;
}

/** A new, empty schema of the test database, and how to drop it. */
export interface TestSchema {
  schema: string;
  /** The test database's URL with `?schema=` naming this schema (for a server child process). */
  url: string;
  drop(): Promise<void>;
}

export async function freshSchema(): Promise<TestSchema> {
  const schema = `perdure_test_${randomBytes(6).toString('hex')}`;
  const url = `${PG_TEST_URL}${PG_TEST_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  return {
    schema,
    url,
    async drop() {
      const client = new pg.Client({ connectionString: PG_TEST_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); // a name made above, not input
      } finally {
        await client.end();
      }
    },
  };
}

/** An open PostgresStore on a fresh schema; `cleanup` closes it and drops the schema. */
export async function tempPostgresStore(options: Partial<PostgresStoreOptions> = {}): Promise<{ store: PostgresStore; schema: TestSchema; cleanup(): Promise<void> }> {
  const schema = await freshSchema();
  const store = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 3, ...options });
  await store.open();
  return {
    store,
    schema,
    async cleanup() {
      await store.close();
      await schema.drop();
    },
  };
}
