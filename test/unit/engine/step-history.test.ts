import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as examples from '../../../machines/index.ts';
import type { HistoryEvent } from '../../../src/common/history.ts';
import type { RunRecord } from '../../../src/common/run-model.ts';
import type { WorkflowDefinition } from '../../../src/definition/workflow.ts';
import { foldEvents } from '../../../src/engine/core/run-state.ts';
import { historyStart, stepHistory, type HistoryStep } from '../../../src/engine/core/step-history.ts';
import type { HistoryFixture } from '../../../scripts/record-histories.ts';

const dir = new URL('../../replay/histories/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as HistoryFixture) }));
const byType = new Map<string, WorkflowDefinition>(Object.values(examples).map((d) => [d.type, d]));

/** A step as compared here: its kind, its event and, when delivered, the state it led to. */
const summary = (step: HistoryStep) => [step.kind, step.event.seq, step.kind === 'delivered' ? step.decision.snapshot.value : null];

describe('stepHistory', () => {
  it.each(fixtures)('folds $file into the same pending work as the engine\'s run record', ({ workflowType, history }) => {
    const definition = byType.get(workflowType)!;
    const position = historyStart(history);
    const fresh: RunRecord = {
      runId: '', namespace: '', workflowId: position.tracker.run.workflowId, type: '', version: '', status: 'running',
      startedAt: 0, lastSeq: 0, snapshot: null, activities: {}, timers: {},
    };
    let run = fresh;
    for (const step of stepHistory(definition, history, position)) {
      expect(step.kind).not.toBe('stopped');
      // After every event, the walk's fold and the engine's agree on what is outstanding.
      run = foldEvents(run, [step.event]).run;
      const walked = position.tracker.run;
      expect([Object.keys(walked.activities), Object.keys(walked.timers), Object.keys(walked.children ?? {}), walked.lastSeq, walked.historyBytes])
        .toEqual([Object.keys(run.activities), Object.keys(run.timers), Object.keys(run.children ?? {}), run.lastSeq, run.historyBytes]);
    }
    expect(position.snapshot?.status).not.toBe('active');
  });

  it('goes on from a kept position exactly as a walk from the start does', () => {
    const { workflowType, history } = fixtures.find((f) => f.file === 'order-compensated.json')!;
    const definition = byType.get(workflowType)!;
    const whole = [...stepHistory(definition, history)].map(summary);
    const position = historyStart(history);
    const half = Math.floor(history.length / 2);
    const first = [...stepHistory(definition, history.slice(0, half), position)].map(summary);
    const rest = [...stepHistory(definition, history.slice(half), position)].map(summary);
    expect([...first, ...rest]).toEqual(whole);
  });

  it('stops at an event the machine cannot take, before folding it', () => {
    const { workflowType, history } = fixtures.find((f) => f.file === 'order-shipped.json')!;
    const definition = byType.get(workflowType)!;
    // A delivered event before the run started: decide refuses it.
    const broken: HistoryEvent[] = [{ ...history[1]!, kind: 'SignalReceived', event: { type: 'X' }, seq: 1 } as HistoryEvent];
    const position = historyStart(broken);
    const steps = [...stepHistory(definition, broken, position)];
    expect(steps.map((s) => s.kind)).toEqual(['stopped']);
    expect(position.tracker.run.lastSeq).toBe(0);
  });

  // The UI's state path must walk a history with the engine's one stepper, not with decide and a
  // fold of its own (issue 13): it takes nothing else from the engine.
  it('is all the UI\'s state path takes from the engine', async () => {
    const text = await readFile(new URL('../../../src/hub/web-ui/state-path.ts', import.meta.url), 'utf8');
    const engineImports = [...text.matchAll(/from\s*['"]([^'"]*engine\/[^'"]+)['"]/g)].map((m) => m[1]);
    expect(engineImports).toEqual(['../../engine/core/step-history.ts']);
  });
});
