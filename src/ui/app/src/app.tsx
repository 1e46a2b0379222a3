import { useState, type FormEvent } from 'react';
import { tokenStore } from './api.ts';
import { TokenDialog, useNeedsToken } from './auth.tsx';
import { ExecutionPage } from './pages/execution-page.tsx';
import { ExecutionsPage } from './pages/executions-page.tsx';
import { WorkersPage } from './pages/workers-page.tsx';
import { WorkflowTypesPage } from './pages/workflow-types-page.tsx';
import { Link, match, navigate, paths, useLocation } from './router.tsx';

/** The app's frame: the navigation bar, the routed page, and the token dialog when the API asks for one. */
export function App() {
  const { path, query } = useLocation();
  const [needsToken, tokenGiven] = useNeedsToken();
  // A new token remounts the page, so everything is fetched again with it.
  const [generation, setGeneration] = useState(0);
  const namespace = match('/namespaces/:ns/workflows', path)?.ns ?? match('/namespaces/:ns/workflows/:id', path)?.ns ?? 'default';

  let page;
  let section = '';
  let params: Record<string, string> | null;
  if (path === '/' || path === '') {
    section = 'executions';
    page = <ExecutionsPage namespace="default" query={query} />;
  } else if ((params = match('/namespaces/:ns/workflows', path))) {
    section = 'executions';
    page = <ExecutionsPage namespace={params.ns!} query={query} />;
  } else if ((params = match('/namespaces/:ns/workflows/:id', path))) {
    section = 'executions';
    page = <ExecutionPage key={`${params.ns}/${params.id}`} namespace={params.ns!} workflowId={params.id!} />;
  } else if (path === '/workflow-types' || (params = match('/workflow-types/:type', path))) {
    section = 'types';
    page = <WorkflowTypesPage selected={match('/workflow-types/:type', path)?.type} />;
  } else if (path === '/workers') {
    section = 'workers';
    page = <WorkersPage />;
  } else {
    page = <div className="page"><h1>Not found</h1><p>No page at {path}. <Link to="/">Go to executions</Link>.</p></div>;
  }

  const changeNamespace = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const value = new FormData(e.currentTarget).get('namespace');
    if (typeof value === 'string' && value.trim()) navigate(paths.executions(value.trim()));
  };
  const token = tokenStore.get();

  return (
    <>
      <header className="topbar">
        <Link to="/" className="brand"><img src="/favicon.svg" alt="" width={22} height={22} /> Perdure</Link>
        <nav>
          <Link to={paths.executions(namespace)} className={section === 'executions' ? 'current' : ''}>Executions</Link>
          <Link to={paths.types()} className={section === 'types' ? 'current' : ''}>Workflow types</Link>
          <Link to={paths.workers()} className={section === 'workers' ? 'current' : ''}>Workers</Link>
        </nav>
        <form className="ns-form" onSubmit={changeNamespace} key={namespace}>
          <label>namespace <input name="namespace" defaultValue={namespace} size={10} aria-label="namespace" /></label>
        </form>
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
