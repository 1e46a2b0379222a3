import { describe, expect, it } from 'vitest';
import { serverStore } from '../../../src/server/server-store.ts';
import { LevelStore } from '../../../src/store/level-store.ts';
import { PostgresStore } from '../../../src/store/postgres/postgres-store.ts';

const embedded = { dataDir: './.perdure-never-opened' };

describe('the store a server runs on', () => {
  it('is the embedded LevelDB store unless one is given', async () => {
    const { store, label } = await serverStore(undefined, embedded);
    expect(store).toBeInstanceOf(LevelStore);
    expect(label).toBe(embedded.dataDir);
  });

  it('is a PostgresStore for a postgres:// URL, labelled without its password (nothing is connected yet)', async () => {
    const { store, label } = await serverStore('postgres://perdure:s3cret@db.internal/app?schema=tenant_a', embedded);
    expect(store).toBeInstanceOf(PostgresStore);
    expect(label).toBe('postgres://perdure:***@db.internal/app?schema=tenant_a (schema tenant_a)');
  });

  it('refuses a string that is not a PostgreSQL URL, pointing at --data for LevelDB', async () => {
    await expect(serverStore('./.perdure', embedded)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/--data/) });
  });
});
