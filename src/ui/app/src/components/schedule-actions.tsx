import { useState } from 'react';
import { api, type ApiError } from '../api.ts';

export interface ScheduleActionsProps {
  namespace: string;
  scheduleId: string;
  paused: boolean;
  /** Called after an action so the page fetches at once instead of at the next poll. */
  onDone: () => void;
  /** Called once the schedule is deleted (the page goes back to the list). */
  onDeleted: () => void;
}

type Outcome = { kind: 'ok' | 'error'; text: string } | null;
type Confirm = 'pause' | 'trigger' | 'delete' | null;

/**
 * What a person can do to a schedule, each asked for twice like the execution's actions: pause
 * it (with a note saying why), resume it, trigger it now (one action at the current time, under
 * its overlap policy), or delete it (the workflows it started go on).
 */
export function ScheduleActions({ namespace, scheduleId, paused, onDone, onDeleted }: ScheduleActionsProps) {
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);

  const run = async (what: string, action: () => Promise<string>) => {
    setBusy(true);
    setOutcome(null);
    try {
      setOutcome({ kind: 'ok', text: await action() });
      setConfirm(null);
      setNote('');
    } catch (error) {
      setOutcome({ kind: 'error', text: `${what} failed: ${(error as ApiError).message}` });
    } finally {
      setBusy(false);
      onDone();
    }
  };

  const pause = () => run('pause', async () => {
    await api.schedules.pause(namespace, scheduleId, note.trim() || undefined);
    return 'paused: no action is taken until it is resumed';
  });
  const resume = () => run('resume', async () => {
    await api.schedules.unpause(namespace, scheduleId);
    return 'resumed: the next action is the next time after now';
  });
  const trigger = () => run('trigger', async () => {
    const result = await api.schedules.trigger(namespace, scheduleId);
    if (result.outcome === 'started') return `started ${result.workflowId}`;
    if (result.outcome === 'buffered') return 'buffered: it starts when the open workflow closes';
    return `skipped: ${result.reason}`;
  });
  const remove = async () => {
    setBusy(true);
    setOutcome(null);
    try {
      await api.schedules.delete(namespace, scheduleId);
      onDeleted();
    } catch (error) {
      setOutcome({ kind: 'error', text: `delete failed: ${(error as ApiError).message}` });
      setBusy(false);
    }
  };

  const explain: Record<Exclude<Confirm, null>, string> = {
    pause: 'Pause stops the schedule from taking any action (a buffered one is dropped). Resuming goes on from the next time after then; the times in between are not made up.',
    trigger: 'Trigger takes one action now, under the schedule\'s overlap policy: it starts a workflow unless the last one is still open. It works on a paused schedule too.',
    delete: 'Delete removes the schedule for good. The workflows it started go on.',
  };

  return (
    <div className="actions" data-testid="schedule-actions">
      {confirm === null ? (
        <div className="buttons">
          {paused
            ? <button type="button" className="primary" onClick={() => void resume()} disabled={busy} data-testid="resume-schedule">Resume</button>
            : <button type="button" onClick={() => setConfirm('pause')} disabled={busy} data-testid="pause-schedule">Pause…</button>}
          <button type="button" onClick={() => setConfirm('trigger')} disabled={busy} data-testid="trigger-schedule">Trigger now…</button>
          <button type="button" onClick={() => setConfirm('delete')} disabled={busy} data-testid="delete-schedule">Delete…</button>
        </div>
      ) : (
        <div className="confirm" data-testid="confirm">
          <p>{explain[confirm]}</p>
          {confirm === 'pause' ? <input data-testid="pause-note" placeholder="note: why (optional)" value={note} onChange={(e) => setNote(e.target.value)} /> : null}
          <div className="buttons">
            <button type="button" className={confirm === 'trigger' ? 'primary' : 'danger'} disabled={busy} data-testid="confirm-schedule-action"
              onClick={() => void (confirm === 'pause' ? pause() : confirm === 'trigger' ? trigger() : remove())}>
              {confirm === 'pause' ? 'Pause schedule' : confirm === 'trigger' ? 'Trigger now' : 'Delete schedule'}
            </button>
            <button type="button" onClick={() => setConfirm(null)}>Back</button>
          </div>
        </div>
      )}
      {outcome ? <div className={outcome.kind === 'ok' ? 'ok-note' : 'error-note'} role="status" data-testid="action-outcome">{outcome.text}</div> : null}
    </div>
  );
}
