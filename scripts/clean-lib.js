// Removes what the last `npm run build:lib` emitted (dist/ but the web UI in dist/web, and the
// SDK package's dist/), so a deleted source leaves no stale module behind in the package.
import { existsSync, readdirSync, rmSync } from 'node:fs';

if (existsSync('dist')) {
  for (const entry of readdirSync('dist')) if (entry !== 'web') rmSync(`dist/${entry}`, { recursive: true, force: true });
}
rmSync('packages/sdk/dist', { recursive: true, force: true });
