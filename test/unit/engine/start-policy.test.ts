import { describe, expect, it } from 'vitest';
import type { ExecutionStatus } from '../../../src/common/history.ts';
import { startAction } from '../../../src/engine/core/start-policy.ts';

const id = { namespace: 'default', workflowId: 'w-1' };
const run = (status: ExecutionStatus) => ({ runId: 'r-1', status });

describe('startAction', () => {
  it('starts when the workflow id has no run, whatever the policies', () => {
    expect(startAction(undefined, { ...id, idReusePolicy: 'reject', conflictPolicy: 'fail' })).toEqual({ do: 'start' });
  });

  it.each(['running', 'blocked'] as const)('treats a %s run as open: fail, useExisting, terminateExisting', (status) => {
    expect(() => startAction(run(status), id)).toThrow(expect.objectContaining({ code: 'EXECUTION_ALREADY_STARTED' }));
    expect(startAction(run(status), { ...id, conflictPolicy: 'useExisting' })).toEqual({ do: 'useExisting', runId: 'r-1' });
    expect(startAction(run(status), { ...id, conflictPolicy: 'terminateExisting' })).toEqual({ do: 'terminateThenStart', runId: 'r-1' });
  });

  it('ignores the id reuse policy for an open run, and the conflict policy for a closed one', () => {
    expect(startAction(run('running'), { ...id, idReusePolicy: 'reject', conflictPolicy: 'useExisting' })).toMatchObject({ do: 'useExisting' });
    expect(startAction(run('completed'), { ...id, conflictPolicy: 'fail' })).toEqual({ do: 'start' });
  });

  it.each([
    ['completed', 'allow', true], ['failed', 'allow', true], ['canceled', 'allow', true], ['terminated', 'allow', true],
    ['completed', 'allowIfFailed', false], ['failed', 'allowIfFailed', true], ['canceled', 'allowIfFailed', true], ['terminated', 'allowIfFailed', true],
    ['completed', 'reject', false], ['failed', 'reject', false], ['canceled', 'reject', false], ['terminated', 'reject', false],
  ] as const)('after a %s run, idReusePolicy %s allows a new one: %s', (status, idReusePolicy, allowed) => {
    const decide = () => startAction(run(status), { ...id, idReusePolicy });
    if (allowed) expect(decide()).toEqual({ do: 'start' });
    else expect(decide).toThrow(expect.objectContaining({ code: 'WORKFLOW_ID_REUSE_REJECTED', runId: 'r-1', status }));
  });
});
