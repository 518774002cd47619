/**
 * A real crash: a child process appends with fsync 'always' and reports each acknowledged batch;
 * the parent kill -9s it mid-stream, reopens the journal and checks that every acknowledged
 * record is there, intact, and that nothing readable is corrupt.
 *
 * Node 20 cannot run TypeScript, so beforeAll compiles src/log (and what it imports) with tsc into
 * a temporary directory the child imports from; no dependency on a prior `npm run build`.
 */

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/log/journal/journal.js';
import type { LogRecord } from '../../src/log/log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
let outDir = '';
const dirs: string[] = [];

function valueFor(seq: number): string {
  return `seq=${seq};`.padEnd(40 + (seq % 60), String.fromCharCode(97 + (seq % 26)));
}

beforeAll(async () => {
  outDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ss-journal-build-'));
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '--outDir', outDir, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', path.join(root, 'src/log/index.ts')];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: root });
  } catch (err) {
    // tsc emits despite type errors (which typecheck reports elsewhere); only a missing output is fatal here.
    if (!fs.existsSync(path.join(outDir, 'src/log/index.js'))) throw err;
  }
  await fs.promises.writeFile(path.join(outDir, 'package.json'), '{"type":"module"}');
}, 120_000);

afterAll(async () => {
  for (const d of [outDir, ...dirs]) if (d) await fs.promises.rm(d, { recursive: true, force: true });
});

/** Runs the child until it has acked `minAcks` batches, then SIGKILLs it; returns the acked ranges. */
async function runAndKill(dir: string, minAcks: number): Promise<[number, number][]> {
  const child = spawn(process.execPath, [path.join(here, 'fixtures', 'crash-child.mjs'), pathToFileURL(path.join(outDir, 'src/log/index.js')).href, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: [number, number][] = [];
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) {
        const m = /^ACK (\d+) (\d+)$/.exec(l);
        if (m) acks.push([Number(m[1]), Number(m[2])]);
      }
      if (acks.length >= minAcks) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited early (code ${code}, signal ${signal}): ${stderr}`));
    });
  });
  await exited;
  return acks;
}

describe('Journal: kill -9 during appends', () => {
  for (const round of [1, 2, 3]) {
    it(`every acknowledged record survives a kill -9 mid-stream (round ${round})`, async () => {
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ss-journal-crash-'));
      dirs.push(dir);
      const acked = await runAndKill(dir, 40 + round * 37);
      expect(acked.length, 'the child must have acknowledged batches before the kill').toBeGreaterThan(0);

      const warnings: string[] = [];
      const j = await Journal.open({ dir, fsync: 'always', segmentBytes: 64 * 1024, retentionCheckMs: 0, onWarning: (m) => warnings.push(m) });
      try {
        const seen = new Map<number, LogRecord>();
        for (let p = 0; p < 4; p++) {
          let from = 0;
          for (;;) {
            // A corrupt frame in what recovery kept would throw SS_LOG_CORRUPT here.
            const recs = await j.read({ topic: 'crash', partition: p }, from, 1000);
            if (recs.length === 0) break;
            for (const r of recs) {
              const text = Buffer.from(r.value).toString();
              const seq = Number(/^seq=(\d+);/.exec(text)?.[1]);
              expect(text, `record at ${p}/${r.offset} must be intact, byte for byte`).toBe(valueFor(seq));
              expect(r.key, `record seq ${seq} keeps its key`).toBe(`K${seq % 37}`);
              expect(seen.has(seq), `seq ${seq} must appear once`).toBe(false);
              seen.set(seq, r);
            }
            from = recs[recs.length - 1]!.offset + 1;
          }
        }
        let missing = 0;
        for (const [first, last] of acked) for (let s = first; s <= last; s++) if (!seen.has(s)) missing++;
        expect(missing, `every record of the ${acked.length} acknowledged batches must survive (warnings: ${warnings.join(' | ')})`).toBe(0);
        const [ack] = await j.append('crash', [{ key: 'after', value: Buffer.from('after-crash'), partition: 0 }]);
        const [back] = await j.read({ topic: 'crash', partition: 0 }, ack!.offset, 1);
        expect(back && Buffer.from(back.value).toString(), 'the recovered journal takes new appends').toBe('after-crash');
      } finally {
        await j.close();
      }
    });
  }
});
