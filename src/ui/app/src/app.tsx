import { useEffect, useState } from 'react';
import { tokenStore } from './api.ts';
import { TokenDialog, useNeedsToken } from './auth.tsx';
import { NamespacePicker } from './components/namespace-picker.tsx';
import { ExecutionPage } from './pages/execution-page.tsx';
import { ExecutionsPage } from './pages/executions-page.tsx';
import { SchedulePage } from './pages/schedule-page.tsx';
import { SchedulesPage } from './pages/schedules-page.tsx';
import { WorkersPage } from './pages/workers-page.tsx';
import { WorkflowTypesPage } from './pages/workflow-types-page.tsx';
import { Link, match, navigate, paths, useLocation } from './router.tsx';

/** The namespace a path is in (`/namespaces/billing/…`), if any. */
function namespaceOf(path: string): string | undefined {
  const m = /^\/namespaces\/([^/]+)/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/** The app's frame: the navigation bar, the routed page, and the token dialog when the API asks for one. */
export function App() {
  const { path, query } = useLocation();
  const [needsToken, tokenGiven] = useNeedsToken();
  // A new token remounts the page, so everything is fetched again with it.
  const [generation, setGeneration] = useState(0);
  // Pages outside a namespace (workers, types) keep the last one, so the links back lead to it.
  const [lastNamespace, setLastNamespace] = useState('default');
  const namespace = namespaceOf(path) ?? lastNamespace;
  useEffect(() => setLastNamespace(namespace), [namespace]);

  let page;
  let section = '';
  let params: Record<string, string> | null;
  if (path === '/' || path === '') {
    section = 'executions';
    page = <ExecutionsPage namespace={namespace} query={query} />;
  } else if ((params = match('/namespaces/:ns/workflows', path))) {
    section = 'executions';
    page = <ExecutionsPage namespace={params.ns!} query={query} />;
  } else if ((params = match('/namespaces/:ns/workflows/:id', path))) {
    section = 'executions';
    // Keyed by the run too: another run is another page, with nothing of the last one kept.
    const run = query.get('run') || undefined;
    page = <ExecutionPage key={`${params.ns}/${params.id}/${run ?? ''}`} namespace={params.ns!} workflowId={params.id!} requestedRun={run} />;
  } else if ((params = match('/namespaces/:ns/schedules', path))) {
    section = 'schedules';
    page = <SchedulesPage key={params.ns} namespace={params.ns!} />;
  } else if ((params = match('/namespaces/:ns/schedules/:id', path))) {
    section = 'schedules';
    page = <SchedulePage key={`${params.ns}/${params.id}`} namespace={params.ns!} scheduleId={params.id!} />;
  } else if (path === '/workflow-types' || (params = match('/workflow-types/:type', path))) {
    section = 'types';
    page = <WorkflowTypesPage selected={match('/workflow-types/:type', path)?.type} namespace={namespace} />;
  } else if (path === '/workers') {
    section = 'workers';
    page = <WorkersPage />;
  } else {
    page = <div className="page"><h1>Not found</h1><p>No page at {path}. <Link to="/">Go to executions</Link>.</p></div>;
  }

  // Another namespace: the same list there (an execution or schedule page goes to its list).
  const changeNamespace = (ns: string) => {
    if (ns === namespace) return;
    setLastNamespace(ns);
    if (section === 'schedules') navigate(paths.schedules(ns));
    else if (section === 'executions') navigate(paths.executions(ns));
  };
  const token = tokenStore.get();

  return (
    <>
      <header className="topbar">
        <Link to="/" className="brand"><img src="/favicon.svg" alt="" width={22} height={22} /> Perdure</Link>
        <nav>
          <Link to={paths.executions(namespace)} className={section === 'executions' ? 'current' : ''}>Executions</Link>
          <Link to={paths.schedules(namespace)} className={section === 'schedules' ? 'current' : ''} data-testid="nav-schedules">Schedules</Link>
          <Link to={paths.types()} className={section === 'types' ? 'current' : ''}>Workflow types</Link>
          <Link to={paths.workers()} className={section === 'workers' ? 'current' : ''}>Workers</Link>
        </nav>
        <NamespacePicker key={generation} namespace={namespace} onChange={changeNamespace} />
        {token ? (
          <span className="token-state" title="A token is kept in this browser">
            token ••••{token.slice(-4)} <button type="button" className="link" onClick={() => { tokenStore.set(null); setGeneration(generation + 1); }}>forget</button>
          </span>
        ) : null}
      </header>
      <main key={generation}>{page}</main>
      {needsToken ? <TokenDialog onDone={() => { tokenGiven(); setGeneration(generation + 1); }} /> : null}
    </>
  );
}
