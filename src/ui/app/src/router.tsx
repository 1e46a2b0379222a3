import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';

/**
 * A small history router: the server answers every app path with index.html (SPA fallback),
 * and these links and routes take it from there. Filters live in the query string, so a
 * filtered list or an execution page is a link one can share.
 */

const listeners = new Set<() => void>();

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((t) => t + 1);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** Matches `pattern` (`/namespaces/:ns/workflows/:id`) against `path`; params are decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(':')) {
      try {
        params[p[i]!.slice(1)] = decodeURIComponent(s[i]!);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) return null;
  }
  return params;
}

export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={onClick} {...rest}>{children}</a>;
}

export const paths = {
  executions: (ns: string, query?: URLSearchParams) => `/namespaces/${encodeURIComponent(ns)}/workflows${query && [...query].length ? `?${query}` : ''}`,
  /** An execution's page shows its workflow id's current run, or with `run` that run (an older one with a banner leading to the current one). */
  execution: (ns: string, id: string, run?: string) => `/namespaces/${encodeURIComponent(ns)}/workflows/${encodeURIComponent(id)}${run ? `?run=${encodeURIComponent(run)}` : ''}`,
  schedules: (ns: string) => `/namespaces/${encodeURIComponent(ns)}/schedules`,
  schedule: (ns: string, id: string) => `/namespaces/${encodeURIComponent(ns)}/schedules/${encodeURIComponent(id)}`,
  types: (type?: string) => (type ? `/workflow-types/${encodeURIComponent(type)}` : '/workflow-types'),
  workers: () => '/workers',
};
