import { Client } from '../../src/client/index.ts';
import type { WorkflowDefinition } from '../../src/definition/workflow.ts';
import type { ClusterStatus } from '../../src/hub/cluster-routes.ts';
import { createServer, type PerdureServer } from '../../src/server/create-server.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { freshSchema, PG_TEST_URL, type TestSchema } from './postgres.ts';

/**
 * Nodes of a cluster in this process, on one fresh PostgreSQL schema with a short lease, and the
 * clients a test opens on them: what the in-process cluster tests share. `close()` after each.
 *
 * @example
 * const cluster = await TestCluster.create({ workflows: [timerWorkflow] });
 * const [a, b] = [await cluster.node('node-a'), await cluster.node('node-b')];
 * const viaB = await cluster.connect(b);
 * await cluster.close();
 */
export class TestCluster {
  private readonly servers: PerdureServer[] = [];
  private readonly clients: Client[] = [];

  private constructor(readonly schema: TestSchema, private readonly options: { workflows: readonly WorkflowDefinition[]; leaseMs: number }) {}

  static async create(options: { workflows: readonly WorkflowDefinition[]; leaseMs?: number }): Promise<TestCluster> {
    return new TestCluster(await freshSchema(), { workflows: options.workflows, leaseMs: options.leaseMs ?? 1_500 });
  }

  /** A server on the schema, under a node id of its own. */
  async node(nodeId: string): Promise<PerdureServer> {
    const store = new PostgresStore({ url: PG_TEST_URL, schema: this.schema.schema, nodeId, leaseMs: this.options.leaseMs, poolSize: 4 });
    const server = await createServer({ workflows: this.options.workflows, store, port: 0, logger: false });
    this.servers.push(server);
    return server;
  }

  /** Closes one node (SIGTERM's path: its shards are handed over at once). */
  async stop(server: PerdureServer): Promise<void> {
    this.servers.splice(this.servers.indexOf(server), 1);
    await server.close();
  }

  async connect(server: PerdureServer, namespace?: string): Promise<Client> {
    const client = await Client.connect({ address: server.wsUrl, ...(namespace ? { namespace } : {}) });
    this.clients.push(client);
    return client;
  }

  /** `GET /api/v1/cluster` of a node. */
  async status(server: PerdureServer): Promise<ClusterStatus> {
    return (await fetch(`${server.url}/api/v1/cluster`)).json() as Promise<ClusterStatus>;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
    await this.schema.drop();
  }
}

/**
 * A cluster per test of a describe block: `start` makes one, `afterEach` closes it. The rest
 * act on the test's cluster.
 *
 * @example
 * const { start, node, connect } = clusterPerTest(afterEach);
 * it('…', async () => { await start({ workflows }); const a = await node('node-a'); … });
 */
export function clusterPerTest(afterEach: (hook: () => Promise<void>) => void) {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  const current = () => cluster ?? (() => { throw new Error('call start() first: this test has no cluster'); })();
  return {
    start: async (options: { workflows: readonly WorkflowDefinition[]; leaseMs?: number }) => (cluster = await TestCluster.create(options)),
    node: (name: string) => current().node(name),
    stop: (server: PerdureServer) => current().stop(server),
    connect: (server: PerdureServer, namespace?: string) => current().connect(server, namespace),
    status: (server: PerdureServer) => current().status(server),
  };
}
