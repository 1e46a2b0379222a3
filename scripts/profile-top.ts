/**
 * The top of a V8 CPU profile (`node --cpu-prof`), as text: where the time went by function
 * (self time) and by source file, so that a profile can be read and compared without DevTools.
 *
 *   npx tsx scripts/profile-top.ts /tmp/prof/CPU.….cpuprofile [--top 30]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
if (positionals.length === 0) {
  console.error('usage: tsx scripts/profile-top.ts <file.cpuprofile>… [--top N]');
  process.exit(2);
}
const top = Number(values.top);

for (const file of positionals) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;

  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = shortUrl(url);
    return `${functionName || '(anonymous)'}  ${where}${where ? `:${lineNumber + 1}` : ''}`;
  };
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const inclusive = new Map<string, number>();
  profile.samples.forEach((leaf, i) => {
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) seen.add(label(id));
    for (const key of seen) add(inclusive, key, profile.timeDeltas[i] ?? 0);
  });

  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const where = shortUrl(byId.get(id)!.callFrame.url);
    add(byFunction, label(id), us);
    add(byFile, where || byId.get(id)!.callFrame.functionName, us);
  }
  console.log(`\n${file}: ${(totalUs / 1000).toFixed(0)} ms profiled`);
  print('self time by function', byFunction, totalUs);
  print('self time by file', byFile, totalUs);
  print('inclusive time by function (self and callees)', inclusive, totalUs);
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function print(title: string, map: Map<string, number>, totalUs: number): void {
  console.log(`\n  ${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
  }
}

/** `node_modules/xstate/…` or `src/engine/…` rather than a file:// URL. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules);
  const src = path.search(/\/(src|bench|machines)\//);
  return src >= 0 ? path.slice(src + 1) : path;
}
