/**
 * Builds the web UI (src/ui/app) into dist/web, which the server serves at `/`.
 *
 *   npm run build:ui     one build (also run by `npm ci` / `npm install`, through `prepare`)
 *   npm run ui:dev       Vite's dev server on :5173 with hot reload, proxying the API to a
 *                        server on PERDURE_ADDRESS (default http://127.0.0.1:7233)
 *
 * Everything is bundled: the UI loads nothing from a CDN and works offline.
 */
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { sourceHash } from '../hub/web-ui/source-hash.ts';

const appDir = fileURLToPath(new URL('./app', import.meta.url));
const configFile = fileURLToPath(import.meta.url);
const outDir = fileURLToPath(new URL('../../dist/web', import.meta.url));
const apiTarget = process.env.PERDURE_ADDRESS ?? 'http://127.0.0.1:7233';

/** Writes build-info.json: the sources' hash, so the server can tell a stale bundle. */
function buildInfo(): Plugin {
  return {
    name: 'perdure-build-info',
    apply: 'build',
    generateBundle() {
      this.emitFile({
        type: 'asset', fileName: 'build-info.json',
        source: JSON.stringify({ sourceHash: sourceHash(appDir, [configFile]), builtAt: new Date().toISOString() }),
      });
    },
  };
}

export default defineConfig({
  root: appDir,
  base: '/',
  plugins: [react(), buildInfo()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // elkjs alone is ~1.5 MB minified: it is imported dynamically, so it gets its own chunk,
    // loaded by the pages that draw diagrams. The server sends it gzipped.
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { '/api': apiTarget, '/healthz': apiTarget },
  },
});
