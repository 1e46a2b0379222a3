#!/usr/bin/env node
// The `perdure` command: runs the compiled CLI (dist/cli/main.js). User modules given to it in
// TypeScript (--workflows my-workflows.ts, --activities …) are loaded through tsx on demand.
// In a git checkout, bin/perdure-source.js runs the sources instead (npm run perdure).
import { launch } from './launch.js';

await launch({
  main: new URL('../dist/cli/main.js', import.meta.url),
  missing: 'This is a checkout without a build: run `npm run build`, or `npm run perdure -- …` to run the sources.',
});
