import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../src/common/codec.ts';
import { PROTOCOL_VERSION } from '../../src/common/wire.ts';
import { startCliServer, type CliServer } from '../helpers/cli.ts';
import { eventually } from '../helpers/engine.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { healthz, WireClient, WireSocket } from '../helpers/wire-client.ts';

// Peers that hold a connection without doing their part (issue 15, bugs 6, 7 and 9): one that
// never reads, one that never says hello, one that stops answering pings, one that sends its
// HTTP headers a byte at a time, one that sends a frame far over the limit. Each is closed by
// the server with a coded reason; the limits are the server's options and `perdure server` flags.

const SEND_BUFFER = 1024 * 1024;

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ helloTimeoutMs: 300, maxSendBufferBytes: SEND_BUFFER });
});

afterAll(async () => {
  await server?.cleanup();
});

async function protocolErrors(url: string, code: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`perdure_protocol_errors_total{code="${code}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('a peer that never reads its socket', () => {
  it('is dropped once more than the send buffer is waiting for it (SEND_BUFFER_FULL), and the server lets go of it', async () => {
    const client = await WireClient.connect(server.wsUrl);
    const workflowId = `unread-${Date.now()}`;
    // A run whose description is ~512 KiB: every describe answer is that big.
    await client.start('approval', { workflowId, input: { request: 'x'.repeat(512 * 1024), timeoutMs: 3_600_000 } });
    const before = await protocolErrors(server.url, 'SEND_BUFFER_FULL');
    client.socket.ws.pause(); // stops reading: the answers pile up on the server
    // 400 answers of 512 KiB: 200 MiB, were they all kept.
    for (let i = 0; i < 400; i++) client.socket.send({ t: 'call', id: 10_000 + i, op: 'describe', args: { workflowId } });
    await eventually(async () => ((await protocolErrors(server.url, 'SEND_BUFFER_FULL')) > before ? true : undefined), 30_000);
    client.socket.ws.resume();
    const { code } = await client.socket.closed;
    expect(code).not.toBe(1000);
    expect(await healthz(server.url)).toBe(200);
  });
});

describe('a peer that never says hello', () => {
  it('is closed after the hello timeout with HELLO_TIMEOUT (1008)', async () => {
    const socket = await WireSocket.open(server.wsUrl);
    const error = await socket.next((f) => f.t === 'error');
    expect(error.code).toBe('HELLO_TIMEOUT');
    expect(error.message).toMatch(/no hello within 300 ms/);
    expect((await socket.closed).code).toBe(1008);
  });

  it('is not closed once it said hello', async () => {
    const socket = await WireSocket.open(server.wsUrl);
    expect((await socket.hello()).t).toBe('welcome');
    await new Promise((resolve) => setTimeout(resolve, 600)); // past the hello timeout: nothing happens
    const answer = await socket.request({ t: 'call', op: 'types', args: {} });
    expect(answer.t).toBe('ok');
    socket.close();
  });
});

describe('a frame far over the limit', () => {
  it('is not read to its end: the server stops reading and drops the socket (100 MiB frame)', async () => {
    const ws = new WebSocket(server.wsUrl, { perMessageDeflate: false });
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(encode({ t: 'hello', v: PROTOCOL_VERSION, role: 'client', namespace: 'default' }));
    // The callback says whether the socket took the whole frame: it does only if the server read it all.
    const sent = await new Promise<Error | undefined>((resolve) => ws.send(Buffer.alloc(100 * 1024 * 1024, 0x61), { binary: true }, (error) => resolve(error ?? undefined)));
    expect(sent).toBeInstanceOf(Error);
    await new Promise((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve(undefined) : ws.once('close', resolve)));
    expect(await healthz(server.url)).toBe(200);
  });
});

describe('perdure server flags', () => {
  let dataDir: string;
  let cli: CliServer;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'perdure-limits-'));
    cli = await startCliServer(dataDir, ['--log-format', 'json', '--headers-timeout-ms', '300', '--ping-interval-ms', '200', '--hello-timeout-ms', '5000']);
  });

  afterAll(async () => {
    if (cli && cli.child.exitCode === null) {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('--headers-timeout-ms: a socket that sends its headers slowly gets 408 and is closed', async () => {
    const { port } = new URL(cli.url);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // and never the blank line that ends the headers
    await new Promise((resolve) => socket.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('--ping-interval-ms: a worker that stops answering pings is dropped', async () => {
    const ws = new WebSocket(cli.url.replace('http', 'ws') + '/ws', { perMessageDeflate: false, autoPong: false });
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(encode({ t: 'hello', v: PROTOCOL_VERSION, role: 'worker', namespace: 'default' }));
    const code = await new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    expect(code).toBe(1006); // terminated: a half-open peer gets no close handshake
  });
});
