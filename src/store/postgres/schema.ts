import type { PoolClient } from 'pg';
import { encode } from '../../common/codec.ts';
import { InvalidArgumentError, StoreSchemaTooNewError } from '../../common/errors.ts';
import { DEFAULT_NAMESPACE, DEFAULT_RETENTION_MS } from '../../common/namespaces.ts';
import { DEFAULT_SHARD_COUNT } from '../shard-hash.ts';
import type { NamespaceRecord } from '../store.ts';

/**
 * The PostgreSQL schema of Perdure, created and migrated by the store itself on open.
 *
 * Every hot-path table has `shard` as the first column of its primary key: a commit touches one
 * shard's rows, and the schema can be distributed by that column (Citus) without redesign.
 * Tables a lookup reaches without knowing the shard say why where they are made.
 *
 * Text that is ordered (`run_id`, ids of listings) uses the "C" collation: byte order, the same
 * on every server whatever its locale, so page tokens and tie orders never depend on it.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

  -- Ownership and fencing (docs/cluster.md): a node takes a shard by bumping its epoch; every
  -- commit checks, in its own transaction, that the node still holds the shard at that epoch.
  CREATE TABLE shards (
    shard integer PRIMARY KEY,
    owner text,
    epoch bigint NOT NULL DEFAULT 0,
    lease_until timestamptz
  );

  -- A run's record and its listing row in one: the listing moves in the same row update that
  -- changes the status or the search attributes, so there are no listing entries to keep apart.
  CREATE TABLE runs (
    shard integer NOT NULL,
    run_id text COLLATE "C" NOT NULL,
    namespace text COLLATE "C" NOT NULL,
    workflow_id text COLLATE "C" NOT NULL,
    type text COLLATE "C" NOT NULL,
    version text NOT NULL,
    status text NOT NULL,
    started_at bigint NOT NULL,
    closed_at bigint,
    last_seq integer NOT NULL,
    search_attributes jsonb,
    record bytea NOT NULL,
    PRIMARY KEY (shard, run_id)
  );
  -- getRun and readHistory know the run id only (run ids are UUIDs, unique across shards).
  CREATE UNIQUE INDEX runs_by_id ON runs (run_id);
  CREATE INDEX runs_listing ON runs (namespace, started_at DESC, run_id);
  CREATE INDEX runs_by_status ON runs (namespace, status, started_at DESC, run_id);
  CREATE INDEX runs_by_type ON runs (namespace, type, started_at DESC, run_id);
  CREATE INDEX runs_by_attributes ON runs USING gin (search_attributes jsonb_path_ops);
  -- Retention reads expired runs only, oldest first.
  CREATE INDEX runs_closed ON runs (namespace, closed_at, run_id) WHERE closed_at IS NOT NULL;

  -- History events, each sealed with its CRC-32 (checksum.ts), exactly 1..last_seq per run.
  CREATE TABLE history (
    shard integer NOT NULL,
    run_id text COLLATE "C" NOT NULL,
    seq integer NOT NULL,
    event bytea NOT NULL,
    PRIMARY KEY (shard, run_id, seq)
  );

  -- The run a workflow id points at; its shard is hash(namespace, workflow id).
  CREATE TABLE executions (
    shard integer NOT NULL,
    namespace text COLLATE "C" NOT NULL,
    workflow_id text COLLATE "C" NOT NULL,
    run_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (shard, namespace, workflow_id)
  );

  -- Keyed by (namespace, key) alone: a start looks a key up before it knows which workflow id
  -- (so which shard) holds it. Written in the shard of the run that holds it (column shard).
  CREATE TABLE idempotency_keys (
    namespace text COLLATE "C" NOT NULL,
    idem_key text COLLATE "C" NOT NULL,
    shard integer NOT NULL,
    run_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (namespace, idem_key)
  );

  -- The timer index: the whole entry is the key, as in LevelDB (a delete names the entry it armed).
  CREATE TABLE timers (
    shard integer NOT NULL,
    run_id text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    due_at bigint NOT NULL,
    PRIMARY KEY (shard, run_id, kind, id, due_at)
  );
  CREATE INDEX timers_due ON timers (due_at, run_id, kind, id);
  CREATE INDEX timers_due_by_shard ON timers (shard, due_at);

  CREATE TABLE tasks (
    shard integer NOT NULL,
    run_id text COLLATE "C" NOT NULL,
    activity_id text COLLATE "C" NOT NULL,
    namespace text NOT NULL,
    task_queue text NOT NULL,
    attempt integer NOT NULL,
    PRIMARY KEY (shard, run_id, activity_id)
  );

  CREATE TABLE namespaces (name text COLLATE "C" PRIMARY KEY, record bytea NOT NULL);

  -- A schedule's shard is hash(namespace, schedule id), like an execution's.
  CREATE TABLE schedules (
    shard integer NOT NULL,
    namespace text COLLATE "C" NOT NULL,
    schedule_id text COLLATE "C" NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shard, namespace, schedule_id)
  );
  CREATE INDEX schedules_listing ON schedules (namespace, schedule_id);
  `,
  // 2: membership and leases (docs/cluster.md). Version 1 held shards with an infinite lease;
  // those leases end now, so the first node of this version takes them at once (bumping each
  // epoch, which fences a version-1 server still running on the database).
  `
  CREATE TABLE nodes (
    node_id text PRIMARY KEY,
    address text,
    started_at timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
  );
  UPDATE shards SET lease_until = now() WHERE lease_until = 'infinity';
  `,
  // 3: room on each page of runs for its updates. A run's record is rewritten by every commit,
  // and most commits change no indexed column (the status stays 'running'): with free space on
  // the page PostgreSQL updates the row in place (a HOT update) instead of adding an entry to
  // each of its six indexes. At the default fillfactor of 100 only 17 % of the updates of the
  // 3-step bench were HOT. Pages written from now on keep 30 % free.
  `
  ALTER TABLE runs SET (fillfactor = 70);
  `,
];

/** The schema version this code writes: a database at a higher version is refused. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Creates Perdure's schema, or migrates it to `SCHEMA_VERSION`, in one transaction under an
 * advisory lock (several servers may open one database at the same time: one migrates, the
 * others wait and find it done). Answers the database's shard count.
 *
 * @throws StoreSchemaTooNewError for a database a newer Perdure has migrated.
 * @throws InvalidArgumentError when `shardCount` is given and the database has another.
 * `upTo` stops at an older version: for the test that an old database is migrated.
 */
export async function openSchema(client: PoolClient, schema: string, shardCount: number | undefined, where: string, upTo = SCHEMA_VERSION): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`perdure schema ${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`); // an identifier checked in postgres-options.ts
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_version');
    const found = rows[0]?.version ?? 0;
    if (found > SCHEMA_VERSION) throw new StoreSchemaTooNewError(found, SCHEMA_VERSION, where);
    for (let version = found + 1; version <= upTo; version++) {
      await client.query(MIGRATIONS[version - 1]!);
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [version]);
    }
    await client.query("INSERT INTO meta (key, value) VALUES ('shard_count', $1) ON CONFLICT (key) DO NOTHING", [String(shardCount ?? DEFAULT_SHARD_COUNT)]);
    const stored = Number((await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'shard_count'")).rows[0]!.value);
    if (shardCount !== undefined && shardCount !== stored) {
      throw new InvalidArgumentError(`the database ${where} was initialised with ${stored} shards; it cannot be opened with shardCount ${shardCount} (the shard count never changes).`);
    }
    await client.query('INSERT INTO shards (shard) SELECT generate_series(0, $1::integer - 1) ON CONFLICT (shard) DO NOTHING', [stored]);
    // `default` exists from the first open; an existing one is never touched (its owner may have changed its retention).
    const now = Date.now();
    const record: NamespaceRecord = { name: DEFAULT_NAMESPACE, retention: DEFAULT_RETENTION_MS, createdAt: now, updatedAt: now };
    await client.query('INSERT INTO namespaces (name, record) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [DEFAULT_NAMESPACE, encode(record)]);
    await client.query('COMMIT');
    return stored;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
