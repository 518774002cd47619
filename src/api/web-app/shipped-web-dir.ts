import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Where `npm run build` writes the dashboard (web/vite.config.ts: `dist/web` beside package.json),
 * found from this file in src/ or dist/src/ like the shipped models (lakehouse.ts). Null when no
 * package root is found above it (the API then answers `/` with the "not built" page).
 */
export function shippedWebDir(): string | null {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'web');
    dir = path.dirname(dir);
  }
  return null;
}
