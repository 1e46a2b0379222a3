import { afterEach, describe, expect, it } from 'vitest';
import { approvalV2Workflow } from '../../machines/approval-v2.ts';
import { approvalWorkflow } from '../../machines/approval.ts';
import { workflow } from '../../src/index.ts';
import { assertReplays } from '../../src/engine/core/replay.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';
import { createServer } from '../../src/server/index.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { perdure } from '../helpers/cli.ts';

const input = { request: 'laptop', timeoutMs: 3_600_000 };

describe('moving running executions to a new version with a migration function', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('moves blocked runs of a version no longer deployed, keeps their timers, and replays on the new version', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    await t.engine.start('approval', { workflowId: 'a-1', input });
    await t.engine.start('approval', { workflowId: 'a-2', input });
    // Deploy version 2 only: the version-1 runs are blocked until they are migrated.
    await t.restart({ workflows: [approvalV2Workflow] });
    expect((await t.engine.describe({ workflowId: 'a-1' })).status).toBe('blocked');

    const result = await t.engine.migrate({ type: 'approval', fromVersion: approvalWorkflow.version, workflowIds: ['a-1'] });
    expect(result).toEqual({ toVersion: approvalV2Workflow.version, migrated: [{ workflowId: 'a-1', runId: expect.any(String) }], failed: [] });

    const described = await t.engine.describe({ workflowId: 'a-1' });
    expect(described).toMatchObject({ status: 'running', version: approvalV2Workflow.version });
    expect(described.pendingTimers.map((timer) => timer.timerId).sort()).toEqual(['xstate.after.approvalTimeout.approval.waiting', 'xstate.after.reminderDelay.approval.waiting']);
    expect((await t.engine.query({ workflowId: 'a-1' })).context).toMatchObject({ request: 'laptop', escalations: 0 });
    expect((await t.engine.describe({ workflowId: 'a-2' })).status).toBe('blocked'); // not chosen

    await t.engine.signal({ workflowId: 'a-1' }, { type: 'ESCALATE' });
    await t.engine.signal({ workflowId: 'a-1' }, { type: 'APPROVE', approver: 'ann' });
    expect(await t.engine.result({ workflowId: 'a-1' })).toMatchObject({ status: 'completed', output: { decision: 'approved', approver: 'ann' } });
    const history = await t.engine.history({ workflowId: 'a-1' });
    expect(history.find((e) => e.kind === 'WorkflowMigrated')).toMatchObject({ fromVersion: approvalWorkflow.version, toVersion: approvalV2Workflow.version, value: 'waiting' });
    assertReplays(approvalV2Workflow, history, { storedSnapshot: (await t.engine.store.getRun(described.runId))!.snapshot });
  });

  it('moves a loaded run on a registered old version, and keeps it across a restart', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow, approvalV2Workflow] });
    await t.engine.start('approval', { workflowId: 'old', input, }); // takes v2, the newest…
    expect((await t.engine.describe({ workflowId: 'old' })).version).toBe(approvalV2Workflow.version);
    await t.restart({ workflows: [approvalV2Workflow, approvalWorkflow] }); // …now v1 is the newest
    await t.engine.start('approval', { workflowId: 'v1-run', input });
    await t.restart({ workflows: [approvalWorkflow, approvalV2Workflow] });

    const { migrated } = await t.engine.migrate({ type: 'approval', fromVersion: approvalWorkflow.version });
    expect(migrated.map((m) => m.workflowId)).toEqual(['v1-run']);
    await t.restart();
    await t.engine.signal({ workflowId: 'v1-run' }, { type: 'ESCALATE' });
    expect((await t.engine.query({ workflowId: 'v1-run' })).context).toMatchObject({ escalations: 1 });
  });

  it('reports a run whose state the migration cannot map and leaves it as it was', async () => {
    const broken = workflow(approvalV2Workflow.machine, {
      version: 'broken', migrations: { [approvalWorkflow.version]: ({ context }) => ({ value: 'nowhere', context }) },
    });
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    await t.engine.start('approval', { workflowId: 'b-1', input });
    const before = await t.engine.history({ workflowId: 'b-1' });
    await t.restart({ workflows: [broken] });

    const result = await t.engine.migrate({ type: 'approval', fromVersion: approvalWorkflow.version });
    expect(result.migrated).toEqual([]);
    expect(result.failed).toEqual([{ workflowId: 'b-1', runId: expect.any(String), code: 'INVALID_ARGUMENT', message: expect.stringMatching(/gave the state "nowhere", which machine "approval" version broken does not have/) }]);
    expect(await t.engine.history({ workflowId: 'b-1' })).toEqual(before);
    expect((await t.engine.describe({ workflowId: 'b-1' })).status).toBe('blocked');
  });

  it('refuses a migration the target version does not declare', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    await expect(t.engine.migrate({ type: 'approval', fromVersion: 'abc' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', message: expect.stringMatching(/has no migration from version abc: give workflow\(machine, \{ migrations/),
    });
  });
});

describe('migration over HTTP and the CLI', () => {
  it('POST …/workflow-types/approval/migrate and `perdure workflow migrate` move the open runs', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'perdure-migrate-'));
    try {
      const v1 = await createServer({ workflows: [approvalWorkflow], dataDir, port: 0, logger: false });
      await v1.engine.start('approval', { workflowId: 'h-1', input });
      await v1.engine.start('approval', { workflowId: 'c-1', input });
      await v1.close();

      const server = await createServer({ workflows: [approvalV2Workflow], dataDir, port: 0, logger: false });
      try {
        const bad = await fetch(`${server.url}/api/v1/namespaces/default/workflow-types/approval/migrate`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fromVersion: 'nope' }),
        });
        expect(bad.status).toBe(400);
        expect(await bad.json()).toMatchObject({ code: 'INVALID_ARGUMENT' });

        const response = await fetch(`${server.url}/api/v1/namespaces/default/workflow-types/approval/migrate`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fromVersion: approvalWorkflow.version, workflowIds: ['h-1'] }),
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ toVersion: approvalV2Workflow.version, migrated: [{ workflowId: 'h-1' }], failed: [] });

        const cli = await perdure(['workflow', 'migrate', 'approval', '--from', approvalWorkflow.version, '--address', server.url]);
        expect(cli.code, cli.stderr).toBe(0);
        expect(cli.stdout).toMatch(new RegExp(`Migrated 1 execution\\(s\\) of approval from version ${approvalWorkflow.version} to ${approvalV2Workflow.version}`));
        expect((await server.engine.describe({ workflowId: 'c-1' })).status).toBe('running');
      } finally {
        await server.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
