import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { workflow } from '../../src/index.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';

const machine = (finalName: string) =>
  setup({}).createMachine({ id: 'doc', initial: 'draft', states: { draft: { on: { PUBLISH: finalName } }, [finalName]: { type: 'final' } } });

describe('machine versions', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('keeps running executions on their version while new ones take the newest', async () => {
    const v1 = workflow(machine('published'));
    const v2 = workflow(machine('live'));
    expect(v1.version).not.toBe(v2.version);
    t = await createTestEngine({ workflows: [v1] });
    await t.engine.start('doc', { workflowId: 'old' });
    await t.restart({ workflows: [v1, v2] });
    await t.engine.start('doc', { workflowId: 'new' });
    expect((await t.engine.describe({ workflowId: 'old' })).version).toBe(v1.version);
    expect((await t.engine.describe({ workflowId: 'new' })).version).toBe(v2.version);
    await t.engine.signal({ workflowId: 'old' }, { type: 'PUBLISH' });
    expect((await t.engine.query({ workflowId: 'old' })).value).toBe('published');
  });

  it('reports an execution whose version is missing as blocked, names it, loses nothing, and resumes when it returns', async () => {
    const v1 = workflow(machine('published'));
    const v2 = workflow(machine('live'));
    t = await createTestEngine({ workflows: [v1] });
    await t.engine.start('doc', { workflowId: 'd' });
    await t.restart({ workflows: [v2] });
    const d = await t.engine.describe({ workflowId: 'd' });
    expect(d).toMatchObject({ status: 'blocked', version: v1.version });
    expect(d.blockedReason).toContain(v1.version);
    await expect(t.engine.signal({ workflowId: 'd' }, { type: 'PUBLISH' })).rejects.toMatchObject({ code: 'VERSION_MISSING', message: expect.stringContaining(v1.version) });
    await t.restart({ workflows: [v1, v2] });
    await t.engine.signal({ workflowId: 'd' }, { type: 'PUBLISH' });
    expect(await t.engine.result({ workflowId: 'd' })).toMatchObject({ status: 'completed' });
  });
});
