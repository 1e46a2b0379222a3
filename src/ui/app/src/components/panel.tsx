import type { ReactNode } from 'react';

export function Panel({ title, children, actions, testId }: { title: ReactNode; children: ReactNode; actions?: ReactNode; testId?: string }) {
  return (
    <section className="panel" data-testid={testId}>
      <header className="panel-header"><h3>{title}</h3>{actions}</header>
      <div className="panel-body">{children}</div>
    </section>
  );
}

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  return <div className="error-note" role="alert">{error.message}</div>;
}
