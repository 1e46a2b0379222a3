#!/usr/bin/env node
// The `perdure` command from the TypeScript sources, under tsx: what the repository's tests,
// `npm run dev` and `npm run perdure -- …` use, so an edit needs no rebuild. Not in the package:
// its users run bin/perdure.js and the compiled CLI.
import { launch } from './launch.js';

await launch({ main: new URL('../src/cli/main.ts', import.meta.url), typescript: true });
