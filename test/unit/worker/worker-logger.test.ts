import { describe, expect, it } from 'vitest';
import { Worker } from '../../../src/worker/index.ts';
import { WorkerLog } from '../../../src/worker/worker-logger.ts';

describe('the worker logger', () => {
  it('refuses a logger without info and warn, naming the option', () => {
    const create = (logger: unknown) => () => Worker.create({ address: 'localhost:7233', taskQueue: 'q', activities: {}, logger: logger as never });
    expect(create({ info: () => {} })).toThrow(/INVALID_ARGUMENT: Worker\.create: logger must have info\(message, fields\) and warn\(message, fields\)/);
    expect(create({ info: () => {}, warn: () => {} })).not.toThrow();
  });

  it('keeps going when the logger throws: a lost line never stops the worker', () => {
    const log = new WorkerLog({ info: () => { throw new Error('disk full'); }, warn: () => { throw new Error('disk full'); } },
      { namespace: 'default', taskQueue: 'q', activities: ['a'], slots: 1 });
    expect(() => log.connection({ type: 'connected', url: 'ws://x/ws', sessionId: 's', reconnected: false })).not.toThrow();
    expect(() => log.connection({ type: 'disconnected', url: 'ws://x/ws', reason: 'gone', retryInMs: 100 })).not.toThrow();
  });

  it('says "cannot reach" before the first connection and "lost" after it', () => {
    const lines: string[] = [];
    const log = new WorkerLog({ info: (m) => lines.push(m), warn: (m) => lines.push(m) }, { namespace: 'default', taskQueue: 'q', activities: ['a'], slots: 1 });
    log.connection({ type: 'disconnected', url: 'ws://x/ws', reason: 'ECONNREFUSED', retryInMs: 100 });
    log.connection({ type: 'connected', url: 'ws://x/ws', sessionId: 's', reconnected: false });
    log.connection({ type: 'disconnected', url: 'ws://x/ws', reason: 'closed (1006)', retryInMs: 200 });
    expect(lines).toEqual([
      'q: cannot reach ws://x/ws yet (ECONNREFUSED); trying again in 100 ms',
      'q: connected to ws://x/ws (namespace "default"), serving 1 activity (a), 1 at once',
      'q: connection to ws://x/ws lost (closed (1006)); reconnecting in 200 ms',
    ]);
  });
});
