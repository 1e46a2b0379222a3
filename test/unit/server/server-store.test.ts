import { describe, expect, it } from 'vitest';
import { serverStore } from '../../../src/server/server-store.ts';
import { PostgresStore } from '../../../src/store/postgres/postgres-store.ts';

const noBatches = () => {};

describe('the store a server runs on', () => {
  it('is the embedded LevelDB store unless one is given', async () => {
    expect(await serverStore(undefined, noBatches)).toEqual({});
  });

  it('is a PostgresStore for a postgres:// URL, labelled without its password (nothing is connected yet)', async () => {
    const { store, label } = await serverStore('postgres://perdure:s3cret@db.internal/app?schema=tenant_a', noBatches);
    expect(store).toBeInstanceOf(PostgresStore);
    expect(label).toBe('postgres://perdure:***@db.internal/app?schema=tenant_a (schema tenant_a)');
  });

  it('refuses a string that is not a PostgreSQL URL, pointing at --data for LevelDB', async () => {
    await expect(serverStore('./.perdure', noBatches)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/--data/) });
  });
});
