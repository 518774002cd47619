import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedWebDir } from '../../../src/api/index.js';

describe('shippedWebDir', () => {
  it('is dist/web beside package.json, where web/vite.config.ts writes the build', () => {
    expect(shippedWebDir(), 'found by walking up from src/api/web-app to the package root').toBe(resolve(import.meta.dirname, '../../../dist/web'));
  });
});
