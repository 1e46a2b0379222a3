import type { FormEvent } from 'react';
import { api } from '../api.ts';
import { usePoll } from '../hooks.ts';

/** How often the list of namespaces is read again (they are created rarely). */
const REFRESH_MS = 30_000;

/**
 * The namespace the lists are of: a menu of the namespaces the server has (those the token may
 * see), or a text field while the server will not list them (a refused token, a server that
 * cannot be reached), so a namespace can still be typed. The namespace of the URL is always
 * offered, even one the server does not have: its page then says it does not exist.
 */
export function NamespacePicker({ namespace, onChange }: { namespace: string; onChange: (ns: string) => void }) {
  const listed = usePoll((signal) => api.namespaces(signal), [], REFRESH_MS);

  if (listed.data) {
    const names = listed.data.namespaces.map((n) => n.name);
    const options = names.includes(namespace) ? names : [namespace, ...names];
    return (
      <label className="ns-form" data-testid="namespace-picker">
        namespace
        <select value={namespace} onChange={(e) => onChange(e.target.value)} aria-label="namespace" data-testid="namespace-select">
          {options.map((n) => (
            <option key={n} value={n} title={listed.data?.namespaces.find((x) => x.name === n)?.description}>{n}</option>
          ))}
        </select>
      </label>
    );
  }

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const value = new FormData(e.currentTarget).get('namespace');
    if (typeof value === 'string' && value.trim()) onChange(value.trim());
  };
  return (
    <form className="ns-form" onSubmit={submit} key={namespace} data-testid="namespace-form">
      <label>namespace <input name="namespace" defaultValue={namespace} size={10} aria-label="namespace" /></label>
    </form>
  );
}
