import { InvalidArgumentError } from '../common/errors.ts';

/** The path the server takes WebSocket peers on (the hub's WS_PATH; the client does not import the hub). */
const WS_PATH = '/ws';

/**
 * The WebSocket URL of a server address: `ws://host:port/ws` as given, `http(s)://host:port`
 * mapped to `ws(s)://host:port/ws`, and a bare `host:port` taken as `ws://host:port/ws`.
 *
 * @example
 * webSocketUrl('127.0.0.1:7233')            // 'ws://127.0.0.1:7233/ws'
 * webSocketUrl('https://perdure.internal')  // 'wss://perdure.internal/ws'
 */
export function webSocketUrl(address: string): string {
  if (typeof address !== 'string' || address.trim() === '') {
    throw new InvalidArgumentError('address: expected "host:port", "http://host:port" or "ws://host:port/ws"');
  }
  const text = address.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `ws://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidArgumentError(`address: "${address}" is not a valid address; expected "host:port", "http://host:port" or "ws://host:port/ws"`);
  }
  const scheme = { 'ws:': 'ws:', 'http:': 'ws:', 'wss:': 'wss:', 'https:': 'wss:' }[url.protocol];
  if (!scheme) throw new InvalidArgumentError(`address: scheme "${url.protocol}" is not supported; use ws, wss, http or https`);
  url.protocol = scheme;
  if (url.pathname === '' || url.pathname === '/') url.pathname = WS_PATH;
  return url.toString();
}
