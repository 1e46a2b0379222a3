import { useState, type FormEvent } from 'react';
import type { Duration } from '../../../../common/activity-options.ts';
import { api, type ScheduleOptions } from '../api.ts';
import { usePoll } from '../hooks.ts';
import { Panel } from './panel.tsx';

type Overlap = NonNullable<NonNullable<ScheduleOptions['policies']>['overlap']>;

/**
 * A new schedule in a few fields: its id, the workflow type it starts with an input, when (a
 * cron expression or an interval), the overlap policy, and whether it starts paused. The server
 * checks everything and its message names a bad field or expression.
 */
export function ScheduleForm({ namespace, onCreated, onCancel }: { namespace: string; onCreated: (scheduleId: string) => void; onCancel: () => void }) {
  const types = usePoll((signal) => api.types(signal), [], 0);
  const [scheduleId, setScheduleId] = useState('');
  const [workflowType, setWorkflowType] = useState('');
  const [when, setWhen] = useState<'cron' | 'every'>('cron');
  const [expression, setExpression] = useState('0 9 * * MON-FRI');
  const [timezone, setTimezone] = useState('');
  const [input, setInput] = useState('');
  const [overlap, setOverlap] = useState<Overlap>('skip');
  const [paused, setPaused] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const typeNames = types.data?.types.map((t) => t.type) ?? [];
  const chosenType = workflowType || typeNames[0] || '';
  const parsedInput = parseInput(input);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (parsedInput.error !== null) return;
    setBusy(true);
    setError(null);
    try {
      const spec: ScheduleOptions['spec'] = when === 'cron'
        ? { cron: expression.trim(), ...(timezone.trim() ? { timezone: timezone.trim() } : {}) }
        : { interval: { every: everyOf(expression) } };
      const created = await api.schedules.create(namespace, {
        scheduleId: scheduleId.trim(), spec, paused,
        action: { workflowType: chosenType, ...(parsedInput.value === undefined ? {} : { input: parsedInput.value }) },
        policies: { overlap },
      });
      onCreated(created.scheduleId);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel title="New schedule" testId="schedule-form">
      <form className="schedule-form" onSubmit={(e) => void submit(e)}>
        <label className="field"><span>Id</span><input data-testid="schedule-id" required value={scheduleId} onChange={(e) => setScheduleId(e.target.value)} placeholder="nightly-report" /></label>
        <label className="field">
          <span>Starts</span>
          <select data-testid="schedule-type" value={chosenType} onChange={(e) => setWorkflowType(e.target.value)}>
            {typeNames.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        <label className="field">
          <select value={when} onChange={(e) => {
            const next = e.target.value as 'cron' | 'every';
            setWhen(next);
            setExpression(next === 'cron' ? '0 9 * * MON-FRI' : '1h');
          }} aria-label="when" data-testid="schedule-when">
            <option value="cron">cron</option>
            <option value="every">every</option>
          </select>
          <input data-testid="schedule-expression" required value={expression} onChange={(e) => setExpression(e.target.value)}
            placeholder={when === 'cron' ? '0 9 * * MON-FRI' : '30s, 5m, 1h, 7d'} className="mono" />
        </label>
        {when === 'cron' ? (
          <label className="field"><span>Time zone</span><input value={timezone} onChange={(e) => setTimezone(e.target.value)} placeholder="UTC" /></label>
        ) : <span />}
        <label className="field">
          <span>Overlap</span>
          <select value={overlap} onChange={(e) => setOverlap(e.target.value as Overlap)} title="When the workflow of the previous action is still open">
            <option value="skip">skip (default)</option>
            <option value="bufferOne">bufferOne</option>
            <option value="allowAll">allowAll</option>
          </select>
        </label>
        <label className="field"><input type="checkbox" checked={paused} onChange={(e) => setPaused(e.target.checked)} style={{ flex: 'none' }} /> <span>create paused</span></label>
        <label className="field column wide">
          <span>Input (JSON, optional)</span>
          <textarea rows={3} spellCheck={false} value={input} onChange={(e) => setInput(e.target.value)} className={parsedInput.error ? 'invalid' : ''} data-testid="schedule-input" />
          {parsedInput.error ? <span className="field-error">{parsedInput.error}</span> : null}
        </label>
        <div className="buttons wide">
          <button type="submit" className="primary" disabled={busy || !scheduleId.trim() || !chosenType || parsedInput.error !== null} data-testid="create-schedule">Create schedule</button>
          <button type="button" onClick={onCancel}>Cancel</button>
        </div>
        {error ? <div className="error-note wide" role="alert">{error}</div> : null}
      </form>
    </Panel>
  );
}

/** `'90'` is 90 s; anything else (`'30s'`, `'5m'`) goes to the server as written, which names it if it is bad. */
function everyOf(text: string): Duration {
  const t = text.trim();
  return (/^\d+$/.test(t) ? `${t}s` : t) as Duration;
}

function parseInput(text: string): { value: unknown; error: string | null } {
  if (text.trim() === '') return { value: undefined, error: null };
  try {
    return { value: JSON.parse(text) as unknown, error: null };
  } catch (e) {
    return { value: undefined, error: (e as Error).message };
  }
}
