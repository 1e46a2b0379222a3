import { useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { userEvents } from '../lib/machine-graph.ts';
import { stateText } from '../format.ts';

export interface ActionsPanelProps {
  namespace: string;
  workflowId: string;
  /** Events the current state takes (the server's `accepts`, or read off the diagram). */
  accepts: readonly string[];
  running: boolean;
  /** Called after an action so the page fetches at once instead of at the next poll. */
  onDone: () => void;
}

type Outcome = { kind: 'ok' | 'error'; text: string } | null;

/**
 * What a person can do to a running execution: send a signal or an update (an event the
 * current state accepts, with a JSON payload), cancel it, terminate it with a reason, or reset
 * it: start a new run from the state after one of its events (open or closed executions).
 */
export function ActionsPanel({ namespace, workflowId, accepts, running, onDone }: ActionsPanelProps) {
  const events = userEvents(accepts);
  const [eventType, setEventType] = useState(events[0] ?? '');
  const [custom, setCustom] = useState(false);
  const [payload, setPayload] = useState('{\n  \n}');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [confirm, setConfirm] = useState<'cancel' | 'terminate' | 'reset' | null>(null);
  const [reason, setReason] = useState('');
  const [resetSeq, setResetSeq] = useState('1');

  // Keep the chosen event valid as the state moves on.
  useEffect(() => {
    if (!custom && !events.includes(eventType)) setEventType(events[0] ?? '');
  }, [events.join('\u0000'), custom]); // eslint-disable-line react-hooks/exhaustive-deps

  const parsed = parsePayload(payload);

  const run = async (what: string, action: () => Promise<string>) => {
    setBusy(true);
    setOutcome(null);
    try {
      setOutcome({ kind: 'ok', text: await action() });
      setConfirm(null);
    } catch (error) {
      const e = error as ApiError;
      setOutcome({ kind: 'error', text: `${what} failed: ${e.message}` });
    } finally {
      setBusy(false);
      onDone();
    }
  };

  const event = () => ({ ...(parsed.value ?? {}), type: eventType });
  const send = () => run('signal', async () => {
    await api.signal(namespace, workflowId, event());
    return `signal ${eventType} sent`;
  });
  const update = () => run('update', async () => {
    const state = await api.update(namespace, workflowId, event());
    return `update ${eventType} applied: now in ${stateText(state.value)}`;
  });

  const seq = Number(resetSeq);
  const reset = () => run('reset', async () => {
    const { runId } = await api.reset(namespace, workflowId, seq, reason.trim() || undefined);
    return `reset to event #${seq}: new run ${runId.slice(0, 8)}`;
  });
  const resetForm = (
    <div className="confirm" data-testid="reset-form">
      <p>Reset starts a new run from the state after an event the machine took (see the history below); an open run is terminated first.</p>
      <label className="field">
        <span>after event #</span>
        <input data-testid="reset-seq" type="number" min={1} value={resetSeq} onChange={(e) => setResetSeq(e.target.value)} />
      </label>
      <input data-testid="reset-reason" placeholder="reason (optional)" value={reason} onChange={(e) => setReason(e.target.value)} />
      <div className="buttons">
        <button type="button" className="danger" disabled={busy || !Number.isInteger(seq) || seq < 1} data-testid="confirm-reset" onClick={() => void reset()}>Reset execution</button>
        <button type="button" onClick={() => setConfirm(null)}>Back</button>
      </div>
    </div>
  );

  if (!running) {
    return (
      <div className="actions" data-testid="actions-closed">
        <p className="muted">The execution is closed: nothing to send.</p>
        {confirm === 'reset' ? resetForm : (
          <div className="buttons"><button type="button" onClick={() => setConfirm('reset')} data-testid="reset-execution" disabled={busy}>Reset…</button></div>
        )}
        {outcome ? <div className={outcome.kind === 'ok' ? 'ok-note' : 'error-note'} role="status" data-testid="action-outcome">{outcome.text}</div> : null}
      </div>
    );
  }

  const canSend = eventType.trim() !== '' && parsed.error === null && !busy;
  return (
    <div className="actions" data-testid="actions">
      <form className="signal-form" data-testid="signal-form" onSubmit={(e) => { e.preventDefault(); if (canSend) void send(); }}>
        <label className="field">
          <span>Event</span>
          {custom ? (
            <input data-testid="signal-event-input" value={eventType} onChange={(e) => setEventType(e.target.value)} placeholder="EVENT_TYPE" />
          ) : events.length === 0 ? <span className="muted">none</span> : (
            <select data-testid="signal-event" value={eventType} onChange={(e) => setEventType(e.target.value)}>
              {events.map((e) => <option key={e} value={e}>{e}</option>)}
            </select>
          )}
          <button type="button" className="link" onClick={() => setCustom(!custom)} title="Send an event the current state does not list (it will be recorded, and ignored by the machine)">
            {custom ? 'accepted events' : 'other…'}
          </button>
        </label>
        {events.length === 0 && !custom ? (
          <p className="muted">The current state takes no events from outside: it waits on activities or timers.</p>
        ) : (
          <>
            <label className="field column">
              <span>Payload (JSON object; <code>type</code> is added)</span>
              <textarea data-testid="signal-payload" className={parsed.error ? 'invalid' : ''} rows={4} spellCheck={false} value={payload} onChange={(e) => setPayload(e.target.value)} />
              {parsed.error ? <span className="field-error">{parsed.error}</span> : null}
            </label>
            <div className="buttons">
              <button type="submit" className="primary" disabled={!canSend} data-testid="send-signal">Send signal</button>
              <button type="button" disabled={!canSend} onClick={() => void update()} data-testid="send-update" title="Send and wait until the machine has processed it; refused if the state does not accept it">Send as update</button>
            </div>
          </>
        )}
      </form>

      <div className="danger-zone">
        {confirm === null ? (
          <div className="buttons">
            <button type="button" onClick={() => setConfirm('cancel')} data-testid="cancel-execution" disabled={busy}>Cancel…</button>
            <button type="button" onClick={() => setConfirm('terminate')} data-testid="terminate-execution" disabled={busy}>Terminate…</button>
            <button type="button" onClick={() => setConfirm('reset')} data-testid="reset-execution" disabled={busy}>Reset…</button>
          </div>
        ) : confirm === 'reset' ? resetForm : (
          <div className="confirm" data-testid="confirm">
            <p>
              {confirm === 'cancel'
                ? 'Cancel asks the execution to stop: a machine that handles perdure.cancel runs its cleanup; otherwise it ends canceled and its pending activities and timers are cancelled.'
                : 'Terminate ends the execution at once, without running any of its logic.'}
            </p>
            <input data-testid="reason" placeholder={confirm === 'cancel' ? 'reason (optional)' : 'reason'} value={reason} onChange={(e) => setReason(e.target.value)} />
            <div className="buttons">
              <button type="button" className="danger" disabled={busy || (confirm === 'terminate' && reason.trim() === '')} data-testid="confirm-action"
                onClick={() => void (confirm === 'cancel'
                  ? run('cancel', async () => { await api.cancel(namespace, workflowId, reason.trim() || undefined); return 'cancel requested'; })
                  : run('terminate', async () => { await api.terminate(namespace, workflowId, reason.trim()); return 'terminated'; }))}>
                {confirm === 'cancel' ? 'Cancel execution' : 'Terminate execution'}
              </button>
              <button type="button" onClick={() => setConfirm(null)}>Back</button>
            </div>
          </div>
        )}
      </div>
      {outcome ? <div className={outcome.kind === 'ok' ? 'ok-note' : 'error-note'} role="status" data-testid="action-outcome">{outcome.text}</div> : null}
    </div>
  );
}

function parsePayload(text: string): { value: Record<string, unknown> | null; error: string | null } {
  const trimmed = text.trim();
  if (trimmed === '' || /^\{\s*\}$/.test(trimmed)) return { value: {}, error: null };
  try {
    const value = JSON.parse(trimmed) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { value: null, error: 'the payload must be a JSON object' };
    return { value: value as Record<string, unknown>, error: null };
  } catch (e) {
    return { value: null, error: (e as Error).message };
  }
}
