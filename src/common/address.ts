import { InvalidArgumentError } from './errors.ts';

/** The port a Perdure server listens on unless told otherwise. */
export const DEFAULT_PORT = 7233;
/** The path the server takes WebSocket peers (workers and clients) on. */
export const WS_PATH = '/ws';

/**
 * The WebSocket URL of a server address, which may be given the way a user has it at hand. The
 * worker and client SDKs both read their `address` option through this one function.
 *
 * | address | URL |
 * |---|---|
 * | `ws://127.0.0.1:7233/ws`, `wss://…` | as given (`/ws` added when there is no path) |
 * | `http://127.0.0.1:7233`, `https://…` | `ws://…/ws`, `wss://…/ws` |
 * | `127.0.0.1:7233`, `localhost` | `ws://127.0.0.1:7233/ws`, `ws://localhost:7233/ws` |
 *
 * @throws InvalidArgumentError for anything that is not a host, `host:port` or such a URL.
 * @example
 * webSocketUrl('localhost:7233')            // 'ws://localhost:7233/ws'
 * webSocketUrl('https://perdure.internal')  // 'wss://perdure.internal/ws'
 */
export function webSocketUrl(address: string): string {
  if (typeof address !== 'string' || address.trim() === '') {
    throw new InvalidArgumentError('address must be a server address such as "127.0.0.1:7233" or "ws://127.0.0.1:7233/ws"');
  }
  const text = address.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `ws://${text}`;
  const invalid = () => new InvalidArgumentError(`address "${address}" is not a host:port or a ws://, wss://, http:// or https:// URL`);
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid();
  }
  const scheme = { 'ws:': 'ws:', 'http:': 'ws:', 'wss:': 'wss:', 'https:': 'wss:' }[url.protocol];
  if (!scheme || !url.hostname) throw invalid();
  url.protocol = scheme;
  // A bare host gets the server's default port; a URL with a scheme keeps the scheme's default.
  // (`url.port` is empty for a scheme's default port too, so look at what was written.)
  if (withScheme !== text && !/^(\[[^\]]*\]|[^:/?#]*):\d+/.test(text)) url.port = String(DEFAULT_PORT);
  if (url.pathname === '' || url.pathname === '/') url.pathname = WS_PATH;
  url.hash = '';
  return url.toString();
}
