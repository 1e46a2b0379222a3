import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { readmeFiles } from './readme-snippets.ts';

// The package as a user gets it: `npm pack` of a build made from the working tree (in a copy, so
// the build never races the other tests that serve this checkout's dist/web), installed from the
// tarball into fresh projects outside the repository, and used there with plain `node` — no tsx,
// no vitest, nothing of the repository's. This is what `npm publish` would ship.

const run = promisify(execFile);
const TIMEOUT = 240_000;
const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
const locked = (name: string) => lock.packages[`node_modules/${name}`].version;

let work: string;
let perdureTarball: string;
let sdkTarball: string;

/** An empty ESM project in a temp directory with `packages` installed from tarballs or the registry cache. */
async function consumer(name: string, packages: string[]): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packages], { cwd: dir, timeout: TIMEOUT });
  return dir;
}

async function sizeOf(dir: string): Promise<string> {
  const { stdout } = await run('du', ['-sh', dir]);
  return stdout.split('\t')[0];
}

interface Started {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a command and resolves once a line of its output matches `ready`. */
function start(command: string, args: string[], cwd: string, ready: RegExp): Promise<Started & { match: RegExpMatchArray }> {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk;
      const match = out.match(ready);
      if (match) resolve({ child, match, output: () => out, stop: async () => { if (child.exitCode === null) child.kill('SIGTERM'); await exited; } });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`${command} ${args.join(' ')} exited before it was ready:\n${out}`)));
  });
}

/** `perdure server` from the installed package's bin, on a free port; resolves with its URL. */
let serverCount = 0;
async function server(dir: string, workflows: string): Promise<Started & { url: string }> {
  const data = join(dir, `.perdure-${++serverCount}`);
  const started = await start(join(dir, 'node_modules/.bin/perdure'), ['server', '--workflows', workflows, '--port', '0', '--data', data, '--durability', 'os'], dir, /"url":"(http:\/\/[^"]+)"/);
  return { ...started, url: started.match[1] };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'perdure-package-'));
  const tree = join(work, 'tree');
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT });
  for (const file of stdout.split('\0').filter(Boolean)) await cp(join(ROOT, file), join(tree, file), { recursive: true }).catch(() => undefined);
  await symlink(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  await run('npm', ['run', 'build'], { cwd: tree, timeout: TIMEOUT });
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: tree, timeout: TIMEOUT });
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: join(tree, 'packages/sdk'), timeout: TIMEOUT });
  const tarballs = await readdir(work);
  perdureTarball = join(work, tarballs.find((f) => /^perdure-\d.*\.tgz$/.test(f))!);
  sdkTarball = join(work, tarballs.find((f) => /^perdure-sdk-\d.*\.tgz$/.test(f))!);
}, TIMEOUT);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed perdure package', () => {
  let app: string;
  const started: Started[] = [];

  beforeAll(async () => {
    app = await consumer('app', [perdureTarball, `typescript@${locked('typescript')}`, `@types/node@${locked('@types/node')}`]);
    for (const [file, text] of await readmeFiles()) await writeFile(join(app, file), text);
    await writeFile(join(app, 'workflows.mjs'), JS_WORKFLOWS);
    await writeFile(join(app, 'worker.mjs'), JS_WORKER);
    await writeFile(join(app, 'client.mjs'), JS_CLIENT);
    console.log(`perdure tarball ${await sizeOf(perdureTarball)}; a fresh project's node_modules with it (and typescript, @types/node): ${await sizeOf(join(app, 'node_modules'))}`);
  }, TIMEOUT);

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it('holds the build, the bin and the web UI, and no tests, benches or fixtures', async () => {
    const pkg = join(app, 'node_modules/perdure');
    const top = await readdir(pkg);
    expect(top).toEqual(expect.arrayContaining(['README.md', 'bin', 'dist', 'package.json', 'src']));
    for (const unwanted of ['test', 'bench', 'machines', 'scripts', 'docs', 'packages', 'tsconfig.json']) expect(top).not.toContain(unwanted);
    expect(await readdir(join(pkg, 'bin'))).toEqual(expect.arrayContaining(['perdure.js', 'launch.js']));
    expect(await readdir(join(pkg, 'bin'))).not.toContain('perdure-source.js');
    expect(await readdir(join(pkg, 'dist/web'))).toContain('index.html');
    // The browser app's sources stay behind: the package serves its build (dist/web).
    expect(await readdir(join(pkg, 'src'))).not.toContain('ui');
  });

  it('type-checks the README tour with moduleResolution nodenext and bundler', async () => {
    const tsc = join(app, 'node_modules/.bin/tsc');
    for (const resolution of [['nodenext', 'nodenext'], ['esnext', 'bundler']]) {
      await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'ES2022', module: resolution[0], moduleResolution: resolution[1], strict: true, noEmit: true, allowImportingTsExtensions: true, types: ['node'] },
        include: ['*.ts'],
      }));
      const result = await run(tsc, ['-p', '.'], { cwd: app }).catch((error: { stdout: string }) => error);
      expect(result.stdout, `tsc with moduleResolution ${resolution[1]}`).toBe('');
    }
  }, TIMEOUT);

  it('runs the README tour: a TypeScript workflow module, `perdure worker` on TypeScript activities, the typed client', async () => {
    const srv = await server(app, 'my-workflows.ts');
    started.push(srv);
    const worker = await start(join(app, 'node_modules/.bin/perdure'), ['worker', '--activities', 'my-activities.ts', '--task-queue', 'payments', '--address', srv.url], app, /connected/);
    started.push(worker);
    const client = await readFile(join(app, 'client.ts'), 'utf8');
    await writeFile(join(app, 'client.ts'), client.replace('http://127.0.0.1:7233', srv.url));
    const { stdout } = await run(join(app, 'node_modules/.bin/tsx'), ['client.ts'], { cwd: app, timeout: 60_000 });
    expect(stdout).toContain('ch_order-43');
    const began = performance.now();
    const described = await run(join(app, 'node_modules/.bin/perdure'), ['workflow', 'describe', 'order-43', '--address', srv.url], { cwd: app });
    console.log(`perdure workflow describe (compiled CLI): ${Math.round(performance.now() - began)} ms`);
    expect(described.stdout).toMatch(/status:\s+completed/);
    expect(described.stdout).toMatch(/state:\s+paid/);
  }, TIMEOUT);

  it('runs a plain-JavaScript workflow module, worker and client with node alone', async () => {
    const srv = await server(app, 'workflows.mjs');
    started.push(srv);
    const worker = spawn(process.execPath, ['worker.mjs', srv.url], { cwd: app, stdio: 'ignore' });
    try {
      const { stdout } = await run(process.execPath, ['client.mjs', srv.url], { cwd: app, timeout: 60_000 });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ greeting: 'Hello, Ada!' });
    } finally {
      worker.kill();
    }
  }, TIMEOUT);

  it('the light @perdure/sdk installs without the server and talks to it', async () => {
    const sdk = await consumer('sdk-app', [sdkTarball]);
    const installed = await readdir(join(sdk, 'node_modules'));
    for (const heavy of ['fastify', 'classic-level', 'pino', 'tsx', 'esbuild', 'perdure']) expect(installed).not.toContain(heavy);
    console.log(`@perdure/sdk: a fresh project's node_modules with it: ${await sizeOf(join(sdk, 'node_modules'))}`);
    const srv = await server(app, 'workflows.mjs');
    started.push(srv);
    const sdkWorker = JS_WORKER.replaceAll("'perdure/worker'", "'@perdure/sdk/worker'");
    const sdkClient = JS_CLIENT.replaceAll("'perdure/client'", "'@perdure/sdk/client'");
    await writeFile(join(sdk, 'worker.mjs'), sdkWorker);
    await writeFile(join(sdk, 'client.mjs'), sdkClient);
    const worker = spawn(process.execPath, ['worker.mjs', srv.url], { cwd: sdk, stdio: 'ignore' });
    try {
      const { stdout } = await run(process.execPath, ['client.mjs', srv.url, 'greet-sdk'], { cwd: sdk, timeout: 60_000 });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ greeting: 'Hello, Ada!' });
    } finally {
      worker.kill();
    }
  }, TIMEOUT);
});

const JS_WORKFLOWS = `
import { assign, setup } from 'xstate';
import { activity, workflow } from 'perdure';

const greet = activity('greet', { taskQueue: 'greetings', startToCloseTimeout: '10s' });

export const hello = workflow(setup({ actors: { greet } }).createMachine({
  id: 'hello',
  context: ({ input }) => ({ name: input?.name ?? 'nobody', greeting: null }),
  initial: 'greeting',
  states: {
    greeting: {
      invoke: {
        id: 'greet', src: 'greet', input: ({ context }) => ({ name: context.name }),
        onDone: { target: 'done', actions: assign({ greeting: ({ event }) => event.output.greeting }) },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ greeting: context.greeting }),
}));
`;

const JS_WORKER = `
import { Worker } from 'perdure/worker';
const worker = Worker.create({
  address: process.argv[2],
  taskQueue: 'greetings',
  activities: { async greet({ name }) { return { greeting: \`Hello, \${name}!\` }; } },
});
await worker.run();
`;

const JS_CLIENT = `
import { Client } from 'perdure/client';
const client = await Client.connect({ address: process.argv[2] });
const handle = await client.start('hello', { workflowId: process.argv[3] ?? 'greet-1', input: { name: 'Ada' } });
console.log(JSON.stringify(await handle.result()));
await client.close();
`;
