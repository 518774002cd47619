import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The dashboard build: `npm run build` writes it to dist/web, which `stockstream up` serves at /.
 * `npm run dev:web` serves it with hot reload against a platform already running on :8080.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: resolve(import.meta.dirname, '../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // The budget (BENCHMARKS.md) counts gzip bytes; source maps are served only on request.
    sourcemap: true,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
      '/metrics': 'http://127.0.0.1:8080',
    },
  },
});
