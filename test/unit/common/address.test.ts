import { describe, expect, it } from 'vitest';
import { webSocketUrl } from '../../../src/common/address.ts';

describe('webSocketUrl', () => {
  it.each([
    ['127.0.0.1:7233', 'ws://127.0.0.1:7233/ws'],
    ['localhost', 'ws://localhost:7233/ws'],
    ['  localhost:9000  ', 'ws://localhost:9000/ws'],
    ['[::1]:7233', 'ws://[::1]:7233/ws'],
    ['ws://127.0.0.1:7233/ws', 'ws://127.0.0.1:7233/ws'],
    ['ws://127.0.0.1:7233', 'ws://127.0.0.1:7233/ws'],
    ['wss://perdure.internal/custom', 'wss://perdure.internal/custom'],
    ['http://127.0.0.1:7233', 'ws://127.0.0.1:7233/ws'],
    ['https://perdure.internal', 'wss://perdure.internal/ws'],
    ['http://127.0.0.1:7233/#frag', 'ws://127.0.0.1:7233/ws'],
  ])('maps %j to %s', (address, url) => {
    expect(webSocketUrl(address)).toBe(url);
  });

  it.each(['', '   ', 'ftp://x', 'http://', 'ws://[bad'])('refuses %j with INVALID_ARGUMENT naming the address', (address) => {
    expect(() => webSocketUrl(address)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^INVALID_ARGUMENT: address/) }));
  });
});
