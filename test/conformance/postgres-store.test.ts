import { describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { Store } from '../../src/store/store.ts';
import { storeConformanceSuite } from '../../src/testing/store-conformance.ts';
import { freshSchema, PG_TEST_URL, probePostgres } from '../helpers/postgres.ts';

const postgres = await probePostgres();

if (postgres.available) {
  storeConformanceSuite({
    name: 'PostgresStore',
    test: { describe, it, expect },
    factory: async () => {
      const schema = await freshSchema();
      const make = () => new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 3 });
      let store: Store = make();
      await store.open();
      return {
        store,
        async reopen() {
          await store.close();
          store = make();
          await store.open();
          return store;
        },
        async cleanup() {
          await store.close();
          await schema.drop();
        },
      };
    },
  });
} else {
  // Skipped only on a machine without PostgreSQL, and the name says why. probePostgres() throws
  // instead when PERDURE_REQUIRE_PG=1 (set by .ci/run), so CI can never skip this suite.
  describe.skip(`Store conformance: PostgresStore — skipped: ${postgres.reason}`, () => {
    it('needs PostgreSQL', async () => {});
  });
}
