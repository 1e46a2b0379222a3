import { z } from 'zod';
import { PARENT_CLOSE_POLICIES } from './parent-close-policy.ts';

/**
 * The operations one node of a cluster calls on another (the `call` frames' `op`): the work of
 * one shard's outbox that must be done in a shard the other node holds — start a child, cancel
 * or terminate one, tell a parent its child closed — and a worker's report on a task of a shard
 * the other node holds, which the worker sent here because the node it had the task from is
 * gone (`node.taskReport`; a stale token is refused as it would be there). Each is idempotent (the outbox does it at
 * least once). Only the nodes of a cluster may call them: a connection that says it is a node,
 * with a token for every namespace when tokens are required (see hub/client-ops.ts).
 */
export const NODE_OPS = ['node.startChild', 'node.closeChild', 'node.childClosed', 'node.taskReport'] as const;
export type NodeOp = (typeof NODE_OPS)[number];

const id = z.string().min(1).max(1000);
const runRef = z.object({ namespace: id, workflowId: id, runId: id });
const parentRef = runRef.extend({ childId: id });

export const nodeCallArgs = {
  'node.startChild': z.object({
    parent: runRef,
    child: z.object({
      childId: id, workflowType: id, workflowId: id, runId: id, input: z.unknown(),
      parentClosePolicy: z.enum(PARENT_CLOSE_POLICIES), started: z.boolean(),
    }),
  }),
  'node.closeChild': z.object({
    namespace: id,
    item: z.object({
      kind: z.literal('closeChild'), id, dueAt: z.number(), childId: id, workflowId: id, runId: id,
      action: z.enum(['cancel', 'terminate']), reason: z.string().max(10_000),
    }),
  }),
  'node.childClosed': z.object({
    parent: parentRef,
    childRunId: id,
    result: z.object({ output: z.unknown().optional(), failure: z.record(z.string(), z.unknown()).optional() }),
  }),
  'node.taskReport': z.object({
    kind: z.enum(['complete', 'fail', 'heartbeat']),
    taskToken: z.string().min(1).max(10_000),
    output: z.unknown().optional(),
    failure: z.record(z.string(), z.unknown()).optional(),
    details: z.unknown().optional(),
  }),
} satisfies Record<NodeOp, z.ZodType>;

export function isNodeOp(op: string): op is NodeOp {
  return (NODE_OPS as readonly string[]).includes(op);
}
