import { webSocketUrl } from '../common/address.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { checkPayloadCodecOptions, type PayloadCodecOptions } from '../common/payload-codec.ts';
import type { ExecutionStatus } from '../common/history.ts';
import type { ConflictPolicy, IdReusePolicy } from '../common/start-policies.ts';
import { CodecTransport, type ClientTransport } from './codec-transport.ts';
import { isRange, type SearchAttributeRange, type SearchAttributeValue } from '../common/search-attributes.ts';
import type { EventOf, InputOf, WorkflowExecutionPage, WorkflowLike, WorkflowTypeInfo } from './types.ts';
import { WorkflowHandle } from './workflow-handle.ts';
import { NamespaceClient } from './namespace-client.ts';
import { ScheduleClient } from './schedule-client.ts';
import { WsTransport } from './ws-transport.ts';

export interface ClientOptions {
  /** The server: `host:port`, `http://host:port`, or `ws://host:port/ws`. */
  address: string;
  /** Default 'default'. Others must exist: calls in a namespace never created answer NAMESPACE_NOT_FOUND (see `client.namespaces.create`). */
  namespace?: string;
  /** Bearer token, when the server requires one (a client or admin token for the namespace). */
  token?: string;
  /** Shown in server logs. */
  identity?: string;
  /**
   * Reconnection after a dropped connection. The client reconnects by itself, without limit,
   * until `close()`; these say how often it tries and how long a call waits for it.
   */
  reconnect?: {
    /** First delay; doubles with each failed attempt (jittered). Default 100 ms. */
    initialDelayMs?: number;
    /** Longest delay between attempts. Default 5 s. */
    maxDelayMs?: number;
    /**
     * How long a call made while disconnected (start, signal, query, describe, …) waits for the
     * connection to come back before it rejects with CONNECTION_LOST. Default 30,000 ms;
     * `Infinity` waits for ever. `handle.result()` is not bound by it: it waits across outages
     * until its own `timeoutMs` (for ever without one).
     *
     * @example
     * reconnect: { waitMs: 120_000 } // ride out a two-minute server restart in every call
     */
    waitMs?: number;
  };
  /** Time allowed for one connection attempt: the upgrade plus hello and welcome. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * How long `Client.connect` keeps trying a server that cannot be reached yet (it is still
   * starting, or restarting), with the reconnect backoff, before it rejects with CONNECTION_LOST.
   * Default 0: one attempt, and an unreachable server rejects at once. `Infinity` waits for ever.
   * A refused token or protocol version rejects at once whatever this is.
   *
   * @example
   * const client = await Client.connect({ address: 'localhost:7233', waitForServerMs: 30_000 }); // beside a server starting up
   */
  waitForServerMs?: number;
  /**
   * Encodes (encrypts) the `encodeFields` of workflow inputs and events before they leave, and
   * decodes every envelope in results, queries, descriptions and histories. See docs/payloads.md.
   *
   * @example
   * payloadCodec: { codec: aesGcmCodec({ keys: { k1: key }, currentKeyId: 'k1' }), encodeFields: ['card'] }
   */
  payloadCodec?: PayloadCodecOptions;
}

export interface StartWorkflowOptions<W = unknown> {
  /** Unique among open executions of the namespace; the server makes one (a UUID) if absent. */
  workflowId?: string;
  input?: InputOf<W>;
  /** A second start with the same key (and workflow id) returns the run the first made. */
  idempotencyKey?: string;
  /** When the workflow id's latest run is closed: 'allow' (default), 'allowIfFailed' (only after a failed, canceled or terminated run), 'reject'. */
  idReusePolicy?: IdReusePolicy;
  /** When the workflow id has an open run: 'fail' (default: ExecutionAlreadyStartedError), 'useExisting' (its handle), 'terminateExisting'. */
  conflictPolicy?: ConflictPolicy;
}

export interface SignalWithStartOptions<W = unknown> extends StartWorkflowOptions<W> {
  /** Required: the signal goes to the open run of this id, or to the run the call starts. */
  workflowId: string;
  event: EventOf<W>;
  /** Default 'useExisting': signal the open run. 'terminateExisting' replaces it; 'fail' refuses. */
  conflictPolicy?: ConflictPolicy;
}

/**
 * Filters of `client.list()` and `client.count()`; every one given must match. Times are a
 * `Date` or ms since epoch; `…After` is inclusive, `…Before` exclusive.
 */
export interface CountWorkflowsOptions {
  status?: ExecutionStatus;
  type?: string;
  startedAfter?: Date | number;
  startedBefore?: Date | number;
  /** Closed executions only: open ones never match a close-time filter. */
  closedAfter?: Date | number;
  closedBefore?: Date | number;
  /** Executions whose workflow id starts with this string. */
  workflowIdPrefix?: string;
  /**
   * Executions whose search attributes match, by name: a value matches exactly, a range
   * `{ gte?, gt?, lte?, lt? }` bounds a number or datetime attribute (a `Date` or ms).
   *
   * @example
   * { customerId: 'c-1', amount: { gte: 10, lt: 100 }, dueAt: { lt: new Date('2026-02-01') } }
   */
  searchAttributes?: SearchAttributeQuery;
}

/** Search-attribute filters of `client.list()` and `client.count()`; datetimes may be `Date`s. */
export type SearchAttributeQuery = Record<string, SearchAttributeValue | Date | SearchAttributeRange<number | Date>>;

export interface ListWorkflowsOptions extends CountWorkflowsOptions {
  /**
   * `nextPageToken` of the previous page. A page may hold fewer than `limit` executions (even
   * none) and still have a `nextPageToken` when close-time or prefix filters are given: the
   * listing has ended only when `nextPageToken` is absent.
   */
  pageToken?: string;
  /** Page size, default 100, at most 1000. */
  limit?: number;
}

/**
 * A connection to a Perdure server for starting and steering workflow executions.
 *
 * The connection is one WebSocket. When it drops, calls in flight reject with
 * `ConnectionLostError` (code CONNECTION_LOST, `retryable`), the client reconnects with backoff,
 * and calls made meanwhile wait for it. `handle.result()` rides over reconnections by itself.
 *
 * @example
 * import { Client } from 'perdure/client';
 * import type { approvalWorkflow } from './machines/approval.ts';
 *
 * const client = await Client.connect({ address: '127.0.0.1:7233' });
 * const handle = await client.start<typeof approvalWorkflow>('approval', {
 *   workflowId: 'approval-42', input: { request: 'new laptop', timeoutMs: 86_400_000 },
 * });
 * await handle.signal({ type: 'APPROVE', approver: 'ann' });
 * console.log(await handle.result()); // { decision: 'approved', … }
 * await client.close();
 */
export class Client {
  /** Create, list, describe and update the server's namespaces (see {@link NamespaceClient}). */
  readonly namespaces: NamespaceClient;
  /** Schedules of the client's namespace: create, list, and handles to describe, pause, trigger, update, delete. */
  readonly schedules: ScheduleClient;

  private constructor(private readonly transport: ClientTransport, readonly namespace: string) {
    this.namespaces = new NamespaceClient(transport);
    this.schedules = new ScheduleClient(transport, namespace);
  }

  /**
   * Connects and says hello as a client. Rejects when the server cannot be reached
   * (CONNECTION_LOST; at once, or after `waitForServerMs`), refuses the token (UNAUTHORIZED,
   * FORBIDDEN) or speaks another protocol version (PROTOCOL_VERSION).
   *
   * @throws InvalidArgumentError for a `waitForServerMs` or `reconnect.waitMs` that is not a number ≥ 0.
   */
  static async connect(options: ClientOptions): Promise<Client> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('Client.connect({ address, namespace?, token? })');
    for (const [name, value] of [['waitForServerMs', options.waitForServerMs], ['reconnect.waitMs', options.reconnect?.waitMs]] as const) {
      if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value) || value < 0)) {
        throw new InvalidArgumentError(`Client.connect: ${name} must be a number of ms ≥ 0 (Infinity waits for ever), got ${String(value)}`);
      }
    }
    const namespace = options.namespace ?? 'default';
    const payloads = options.payloadCodec === undefined ? undefined : checkPayloadCodecOptions(options.payloadCodec, 'Client.connect');
    const transport = await WsTransport.open({
      url: webSocketUrl(options.address), namespace, token: options.token, identity: options.identity,
      initialDelayMs: options.reconnect?.initialDelayMs, maxDelayMs: options.reconnect?.maxDelayMs,
      reconnectWaitMs: options.reconnect?.waitMs, connectTimeoutMs: options.connectTimeoutMs, waitForServerMs: options.waitForServerMs,
    });
    return new Client(payloads ? new CodecTransport(transport, payloads) : transport, namespace);
  }

  /**
   * Starts an execution and resolves with its handle once the start is durable. Rejects with
   * `ExecutionAlreadyStartedError` when an open execution has the workflow id, and
   * `WorkflowTypeNotFoundError` for an unknown type.
   *
   * Typed by the workflow: pass the definition (`client.start(approvalWorkflow, …)`) or name
   * it as a type argument (`client.start<typeof approvalWorkflow>('approval', …)`).
   */
  start<W extends WorkflowLike>(workflow: W, options?: StartWorkflowOptions<W>): Promise<WorkflowHandle<W>>;
  start<W = unknown>(type: string, options?: StartWorkflowOptions<W>): Promise<WorkflowHandle<W>>;
  async start<W>(workflow: string | WorkflowLike, options: StartWorkflowOptions<W> = {}): Promise<WorkflowHandle<W>> {
    const type = typeof workflow === 'string' ? workflow : workflow?.type;
    const { workflowId, input, idempotencyKey, idReusePolicy, conflictPolicy } = options;
    const started = (await this.transport.call('start', { type, workflowId, input, idempotencyKey, idReusePolicy, conflictPolicy }, {
      namespace: this.namespace, workflowId,
    })) as { workflowId: string; runId: string };
    return new WorkflowHandle<W>(this.transport, this.namespace, started.workflowId, started.runId);
  }

  /**
   * Signals the open execution of `workflowId`, or starts one whose first event after its start
   * is the signal; resolves with its handle (`handle.runId` is the run signalled). The server
   * serialises it with every other start of the id, so no concurrent start makes it signal
   * nothing. Rejects like `start` when the policies refuse.
   *
   * @example
   * const handle = await client.signalWithStart<typeof approvalWorkflow>('approval', {
   *   workflowId: 'approval-42', input: { request: 'laptop', timeoutMs: 86_400_000 },
   *   event: { type: 'APPROVE', approver: 'ann' },
   * });
   */
  signalWithStart<W extends WorkflowLike>(workflow: W, options: SignalWithStartOptions<W>): Promise<WorkflowHandle<W>>;
  signalWithStart<W = unknown>(type: string, options: SignalWithStartOptions<W>): Promise<WorkflowHandle<W>>;
  async signalWithStart<W>(workflow: string | WorkflowLike, options: SignalWithStartOptions<W>): Promise<WorkflowHandle<W>> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('signalWithStart(type, { workflowId, event, input? })');
    const type = typeof workflow === 'string' ? workflow : workflow?.type;
    const { workflowId, input, event, idempotencyKey, idReusePolicy, conflictPolicy } = options;
    const result = (await this.transport.call('signalWithStart', { type, workflowId, input, event, idempotencyKey, idReusePolicy, conflictPolicy }, {
      namespace: this.namespace, workflowId, eventType: (event as { type?: string } | undefined)?.type,
    })) as { workflowId: string; runId: string };
    return new WorkflowHandle<W>(this.transport, this.namespace, result.workflowId, result.runId);
  }

  /** A handle on an existing execution (no request is made until you use it). */
  getHandle<W = unknown>(workflowId: string, options: { runId?: string } = {}): WorkflowHandle<W> {
    if (typeof workflowId !== 'string' || workflowId === '') throw new InvalidArgumentError('workflowId: expected a non-empty string');
    return new WorkflowHandle<W>(this.transport, this.namespace, workflowId, options.runId);
  }

  /**
   * One page of the namespace's executions, newest first, filtered by status, type, start and
   * close time windows, workflow id prefix and search attributes.
   *
   * @example
   * const page = await client.list({ type: 'order', startedAfter: new Date('2026-01-01'), workflowIdPrefix: 'cust-42/' });
   * const big = await client.list({ searchAttributes: { customerId: 'c-1', amount: { gte: 100 } } });
   */
  async list(options: ListWorkflowsOptions = {}): Promise<WorkflowExecutionPage> {
    const { pageToken, limit } = options;
    const page = (await this.transport.call('list', { ...filtersOf(options), pageToken, limit })) as WorkflowExecutionPage;
    return page.nextPageToken === undefined || page.nextPageToken === null ? { executions: page.executions } : page;
  }

  /**
   * How many executions match the filters. The server counts by scanning; past a million it
   * stops and answers `capped: true` (the count is then a lower bound).
   *
   * @example
   * const { count } = await client.count({ status: 'failed', closedAfter: new Date(Date.now() - 86_400_000) });
   */
  async count(options: CountWorkflowsOptions = {}): Promise<{ count: number; capped?: boolean }> {
    return (await this.transport.call('count', filtersOf(options))) as { count: number; capped?: boolean };
  }

  /** The workflow types the server has registered, with their versions and machine definitions. */
  async workflowTypes(): Promise<WorkflowTypeInfo[]> {
    return ((await this.transport.call('types', {})) as { types: WorkflowTypeInfo[] }).types;
  }

  /** True while the connection is up (false while it reconnects). */
  get connected(): boolean {
    return this.transport.connected;
  }

  /** Closes the connection; calls still waiting reject with CONNECTION_LOST. */
  close(): Promise<void> {
    return this.transport.close();
  }
}

/** The filters as the wire carries them: times in ms since epoch. */
function filtersOf(options: CountWorkflowsOptions): Record<string, unknown> {
  const { status, type, workflowIdPrefix } = options;
  const ms = <T>(time: T | Date) => (time instanceof Date ? time.getTime() : time);
  let searchAttributes: Record<string, unknown> | undefined;
  if (options.searchAttributes !== undefined) {
    searchAttributes = Object.fromEntries(Object.entries(options.searchAttributes).map(([name, filter]) => [name,
      isRange(filter) && !(filter instanceof Date)
        ? Object.fromEntries(Object.entries(filter).map(([bound, value]) => [bound, ms(value)]))
        : ms(filter)]));
  }
  return {
    status, type, workflowIdPrefix, searchAttributes,
    startedAfter: ms(options.startedAfter), startedBefore: ms(options.startedBefore),
    closedAfter: ms(options.closedAfter), closedBefore: ms(options.closedBefore),
  };
}
