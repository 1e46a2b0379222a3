import { useMemo, useState } from 'react';
import { statelyCode, type StatelyExport } from '../../../../definition/stately-export.ts';
import { api, type WorkflowType } from '../api.ts';
import { shortVersion } from '../format.ts';
import { ErrorNote, Panel } from '../components/panel.tsx';
import { Statechart } from '../components/statechart.tsx';
import { usePoll } from '../hooks.ts';
import { machineGraph, type StateJson } from '../lib/machine-graph.ts';
import { Link, paths } from '../router.tsx';

/** Every registered workflow type, each version with its diagram, its Stately code and its JSON. */
export function WorkflowTypesPage({ selected, namespace }: { selected?: string; namespace: string }) {
  const types = usePoll((signal) => api.types(signal), [], 0);
  const list = types.data?.types ?? [];
  const current = list.find((t) => t.type === selected) ?? list[0];
  return (
    <div className="page" data-testid="types-page">
      <div className="page-header"><h1>Workflow types</h1></div>
      <ErrorNote error={types.error} />
      <div className="types-layout">
        <nav className="type-list">
          {list.map((t) => (
            <Link key={t.type} to={paths.types(t.type)} className={t === current ? 'selected' : ''}>
              {t.type} <span className="muted small">{t.versions.length} version{t.versions.length === 1 ? '' : 's'}</span>
            </Link>
          ))}
          {types.data && list.length === 0 ? <p className="muted">No workflow types registered.</p> : null}
        </nav>
        <div className="type-detail">
          {current ? [...current.versions].reverse().map((v, i) => (
            <VersionView key={v.version} type={current} version={v.version} definition={v.definition} exported={v.stately} latest={i === 0} namespace={namespace} />
          )) : null}
        </div>
      </div>
    </div>
  );
}

function VersionView({ type, version, definition, exported, latest, namespace }: {
  type: WorkflowType; version: string; definition: StateJson; exported: StatelyExport; latest: boolean; namespace: string;
}) {
  const graph = useMemo(() => machineGraph(definition), [definition]);
  const [showCode, setShowCode] = useState(false);
  const [copied, setCopied] = useState(false);
  const code = useMemo(() => statelyCode(exported), [exported]);
  // The config createMachine(json) loads back (the definition itself does not: its `initial` is an object).
  const download = () => {
    const blob = new Blob([JSON.stringify(exported.config, null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${type.type}@${shortVersion(version)}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const copy = () => {
    void navigator.clipboard?.writeText(code).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  };
  return (
    <Panel
      testId="type-version"
      title={<>{type.type} <span className="mono muted" title={`version ${version}`} data-testid="version">@{shortVersion(version)}</span>{latest ? <span className="tag">latest</span> : null}</>}
      actions={(
        <span className="buttons">
          <button type="button" onClick={() => setShowCode(!showCode)} data-testid="open-in-stately">Open in Stately</button>
          <button type="button" onClick={download}>Download JSON</button>
          <Link to={`${paths.executions(namespace)}?type=${encodeURIComponent(type.type)}`}>executions →</Link>
        </span>
      )}
    >
      {showCode ? (
        <div className="stately-export" data-testid="stately-code">
          <p>
            Copy this code, then in Stately Studio choose <strong>Import</strong> (or paste it into a new machine's code panel):
            the diagram comes with its states, events, timers and invoked activities. Guards and actions keep their names;
            their code stays in yours. Delays come with their values (ms) for a run started without input.
          </p>
          <div className="buttons">
            <button type="button" className="primary" onClick={copy}>{copied ? 'Copied' : 'Copy code'}</button>
            <a href="https://stately.ai/editor" target="_blank" rel="noreferrer noopener">Open Stately Studio ↗</a>
          </div>
          <pre className="code">{code}</pre>
        </div>
      ) : null}
      <Statechart graph={graph} testId="type-statechart" />
    </Panel>
  );
}
