import type { z } from 'zod';
import { InvalidArgumentError, PerdureError } from '../common/errors.ts';
import { isNodeOp, type NodeOp } from '../common/node-wire.ts';
import type { ChildResult, OtherRuns } from '../engine/runtime/outbox.ts';
import type { ExecutionDetail } from '../common/execution-types.ts';
import type { FailureInfo } from '../common/failures.ts';
import type { TaskReports } from '../common/worker-protocol.ts';
import { callArgs, describeZodError, type CallArgs, type ClientOp } from '../common/wire.ts';
import type { ExecutionService } from '../engine/api.ts';
import { NAMESPACE_OPS, type NamespaceOp } from '../common/namespace-wire.ts';
import { Authenticator, type TokenGrant } from './auth.ts';
import { namespaceOp } from './namespace-ops.ts';
import type { ScheduleOperations } from '../schedules/schedule-service.ts';
import { isScheduleOp, runScheduleOp } from './schedule-ops.ts';

/** Longest a `result` call waits when the caller names no wait (the client SDK asks again). */
export const MAX_RESULT_WAIT_MS = 60_000;

/**
 * The client operations, once, for both transports: the WebSocket hub's `call` frames and the
 * HTTP API. Arguments from outside are validated here; errors keep their stable codes.
 */
export class ClientOps {
  /** `auth` decides the namespace operations (the others are authorized by the transport). */
  constructor(
    private readonly engine: ExecutionService,
    private readonly auth: Authenticator = new Authenticator(),
    private readonly schedules?: ScheduleOperations,
    /** The cross-shard work other nodes send this one (node-wire.ts): only on the ops that serve node connections. */
    private readonly crossShard?: OtherRuns,
    /** Worker reports other nodes forward to this one, the holder of the task's shard: with crossShard. */
    private readonly taskReports?: TaskReports,
  ) {}

  /**
   * Validates `args` for `op` (INVALID_ARGUMENT naming the field) and runs it in `namespace`.
   * `grant` is the caller's token: namespace operations check it themselves.
   */
  async call(namespace: string, op: ClientOp, args: unknown, grant?: TokenGrant): Promise<unknown> {
    const schema = callArgs[op] as z.ZodType;
    const parsed = schema.safeParse(args ?? {});
    if (!parsed.success) throw new InvalidArgumentError(`${op}: ${describeZodError(parsed.error)}`);
    if (isNamespaceOp(op)) return namespaceOp(this.engine, this.auth, grant, op, parsed.data);
    if (isNodeOp(op)) return this.nodeOp(op, parsed.data as never, grant);
    return this.run(namespace, op, parsed.data as never);
  }

  /** An operation of another node of the cluster: its shard's outbox work, run in this node's shard. */
  private async nodeOp<Op extends NodeOp>(op: Op, args: CallArgs<Op>, grant: TokenGrant | undefined): Promise<unknown> {
    if (!this.crossShard) throw new PerdureError('FORBIDDEN', `${op} is called by the nodes of a cluster on each other, not by clients.`);
    if (this.auth.required && (grant?.namespace !== '*' || grant.role !== 'admin')) {
      throw new PerdureError('FORBIDDEN', `${op} needs the cluster token (an admin token for every namespace): give every node --cluster-token.`);
    }
    switch (op) {
      case 'node.startChild': {
        const { parent, child } = args as CallArgs<'node.startChild'>;
        await this.crossShard.startChild(parent, child);
        break;
      }
      case 'node.closeChild': {
        const { namespace, item } = args as CallArgs<'node.closeChild'>;
        await this.crossShard.closeChild(namespace, item);
        break;
      }
      case 'node.childClosed': {
        const { parent, childRunId, result } = args as CallArgs<'node.childClosed'>;
        await this.crossShard.childClosed(parent, childRunId, result as ChildResult);
        break;
      }
      case 'node.taskReport': {
        const report = args as CallArgs<'node.taskReport'>;
        if (!this.taskReports) throw new PerdureError('FORBIDDEN', `${op} is not served here.`);
        if (report.kind === 'heartbeat') return this.taskReports.heartbeat(report.taskToken, report.details);
        if (report.kind === 'complete') await this.taskReports.complete(report.taskToken, report.output);
        else await this.taskReports.fail(report.taskToken, (report.failure ?? {}) as unknown as FailureInfo);
        break;
      }
    }
    return { done: true };
  }

  private async run<Op extends ClientOp>(namespace: string, op: Op, args: CallArgs<Op>): Promise<unknown> {
    // A namespace another node of a cluster made since this one read them is read now.
    await this.engine.namespaces.lookUp(namespace);
    if (isScheduleOp(op)) return runScheduleOp(this.schedules, namespace, op, args);
    const e = this.engine;
    const a = args as Record<string, never>;
    const ref = { namespace, workflowId: a.workflowId, runId: a.runId as string | undefined };
    switch (op) {
      case 'start': {
        const { type, ...options } = args as CallArgs<'start'>;
        return e.start(type, { ...options, namespace });
      }
      case 'signalWithStart': {
        const { type, ...options } = args as CallArgs<'signalWithStart'>;
        return e.signalWithStart(type, { ...options, namespace });
      }
      case 'signal':
        await e.signal(ref, (args as CallArgs<'signal'>).event);
        return { accepted: true };
      case 'update':
        return e.update(ref, (args as CallArgs<'update'>).event);
      case 'query':
        return e.query(ref);
      case 'cancel':
        await e.cancel(ref, (args as CallArgs<'cancel'>).reason);
        return { accepted: true };
      case 'terminate':
        await e.terminate(ref, (args as CallArgs<'terminate'>).reason);
        return { accepted: true };
      case 'reset': {
        const { eventSeq, reason } = args as CallArgs<'reset'>;
        return { workflowId: ref.workflowId, ...(await e.reset(ref, { eventSeq, reason })) };
      }
      case 'migrate':
        return e.migrate({ ...(args as CallArgs<'migrate'>), namespace });
      case 'result':
        // Bounded, so a caller that goes away leaves no waiter behind for long: clients ask again.
        return e.result(ref, { timeoutMs: (args as CallArgs<'result'>).timeoutMs ?? MAX_RESULT_WAIT_MS });
      case 'describe': {
        // The description with the machine's current state beside it, as the HTTP API's
        // GET …/workflows/{id} shows it: one call answers "where is it and how is it doing".
        const [description, state] = await Promise.all([e.describe(ref), e.query(ref)]);
        const detail: ExecutionDetail = { ...description, state: { value: state.value, context: state.context, tags: state.tags, accepts: state.accepts } };
        return detail;
      }
      case 'history':
        return { events: await e.history(ref) };
      case 'list': {
        const page = await e.list({ ...(args as CallArgs<'list'>), namespace });
        return { executions: page.runs, nextPageToken: page.nextPageToken };
      }
      case 'count':
        return e.count({ ...(args as CallArgs<'count'>), namespace });
      case 'types':
        return { types: e.workflowTypes() };
      default:
        throw new InvalidArgumentError(`unknown operation "${String(op)}"`);
    }
  }
}


function isNamespaceOp(op: ClientOp): op is NamespaceOp {
  return (NAMESPACE_OPS as readonly string[]).includes(op);
}
