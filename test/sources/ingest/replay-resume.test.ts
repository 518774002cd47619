import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../../src/log/index.js';
import { DLQ_TOPIC, IngestWriter, ReplayResume, TICKS_TOPIC } from '../../../src/sources/ingest/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.parse('2025-03-11T14:00:00Z');
const ev = (id: string, i: number) => ({ kind: 'trade', symbol: 'AAPL', ts: T0 + i, source: 'rec', id, price: 100, size: 1 });

/** A journal with `partitions` partitions of ticks and an ingest writer that accepts any time and symbol. */
async function setup(partitions: number): Promise<{ dir: string; log: Journal; ingest: IngestWriter }> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-resume-'));
  dirs.push(dir);
  const log = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
  await log.ensureTopic(TICKS_TOPIC, { partitions });
  await log.ensureTopic(DLQ_TOPIC, { partitions });
  const ingest = new IngestWriter({ log, source: 'rec', policy: (now) => ({ now, maxFutureMs: Number.POSITIVE_INFINITY, maxPastMs: Number.POSITIVE_INFINITY, knownSymbols: null }) });
  return { dir, log, ingest };
}

describe('ReplayResume', () => {
  it('after a crash drops each durable occurrence once, so an id the input repeats on purpose still gets in', async () => {
    const { dir, log, ingest } = await setup(1);
    const input = [ev('a', 0), ev('b', 1), ev('x1', 2), ev('x2', 3), ev('x1', 2), ev('x3', 4)];
    const path = join(dir, 'resume.json');

    const first = await ReplayResume.open({ path, log, input: 'file:6', saveEveryMs: 0 });
    await ingest.write(first.filter(input.slice(0, 2)) as unknown[]);
    await first.advance(2, 0, true);
    // x1 and x2 become durable, then the process dies before the resume record is saved.
    await ingest.write(input.slice(2, 4));

    const second = await ReplayResume.open({ path, log, input: 'file:6', saveEveryMs: 0 });
    expect(second.resumedAt).toBe(2);
    const rest = second.filter(input) as { id: string }[];
    expect(rest.map((e) => e.id), 'x1 and x2 are in the log once each; the second x1 of the input and x3 are new').toEqual(['x1', 'x3']);
    await log.close();
  });

  it('tells apart two symbols that carry the same id: the in-flight batch may be durable in one partition and not the other', async () => {
    const { dir, log, ingest } = await setup(4);
    // A recorded feed may reuse an id across symbols (per-symbol sequence numbers). The crash
    // left the MSFT event durable but not the AAPL one before it (different partitions).
    const aapl = ev('7', 0);
    const msft = { ...ev('7', 1), symbol: 'MSFT' };
    const path = join(dir, 'resume.json');
    const first = await ReplayResume.open({ path, log, input: 'file:2', saveEveryMs: 0 });
    await first.advance(0, 0, true);
    await ingest.write([msft]);

    const second = await ReplayResume.open({ path, log, input: 'file:2', saveEveryMs: 0 });
    const rest = second.filter([aapl, msft]) as { symbol: string }[];
    expect(rest.map((e) => e.symbol), 'only the MSFT event is durable: the AAPL event with the same id must still be ingested, the MSFT one not again').toEqual(['AAPL']);
    await log.close();
  });

  it('drops the refused records of the in-flight batch whose dead letters are durable, once each', async () => {
    const { log, dir, ingest } = await setup(4);
    const path = join(dir, 'resume.json');
    const malformed = '{"kind":"trade","symbol":';
    const negative = { ...ev('n1', 1), price: -1 };
    const good = ev('g1', 2);
    const first = await ReplayResume.open({ path, log, input: 'file:5', saveEveryMs: 0 });
    await first.advance(0, 0, true);
    // The whole batch became durable (a tick and two dead letters), then the process died.
    await ingest.write([malformed, negative, good]);

    const second = await ReplayResume.open({ path, log, input: 'file:5', saveEveryMs: 0 });
    const again = { ...ev('g2', 3) };
    const rest = second.filter([malformed, negative, good, malformed, again]);
    expect(rest, 'the durable dead letters and tick are not written again; the input\'s second malformed line is new input').toEqual([malformed, again]);
    await log.close();
  });
});
