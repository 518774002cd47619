import { describe, expect, it } from 'vitest';
import { trade, type MarketEvent } from '../../../src/domain/index.js';
import { DedupOperator } from '../../../src/processors/dedup/index.js';
import { viaCheckpointFile } from '../../fixtures/checkpoint.js';

const ev = (id: string): MarketEvent => trade({ symbol: 'AAPL', ts: 1_700_000_000_000, source: 't', id, price: 1, size: 1 });

describe('DedupOperator', () => {
  it('drops repeated ids within the window and keeps the first', () => {
    const op = new DedupOperator({ window: 10 });
    const out: MarketEvent[] = [];
    op.processBatch([ev('a'), ev('b'), ev('a'), ev('c'), ev('b')], out);
    expect(out.map((e) => e.id), 'only first occurrences pass').toEqual(['a', 'b', 'c']);
    expect(op.dropped, 'duplicates are counted').toBe(2);
  });

  it('remembers every id for at least the next `window` ids, and forgets it after 2 × window so memory stays bounded', () => {
    const op = new DedupOperator({ window: 3 });
    const out: MarketEvent[] = [];
    op.processBatch([ev('a'), ev('b'), ev('c'), ev('a')], out);
    expect(out.map((e) => e.id), '"a" is still within the window: dropped').toEqual(['a', 'b', 'c']);
    out.length = 0;
    op.processBatch([ev('d'), ev('e'), ev('f'), ev('a')], out);
    expect(out.map((e) => e.id), 'after 2 × window more ids, "a" is forgotten and passes again').toEqual(['d', 'e', 'f', 'a']);
  });

  it('survives a checkpoint round trip', async () => {
    const a = new DedupOperator({ window: 4 });
    a.processBatch([ev('a'), ev('b'), ev('c')], []);
    const b = new DedupOperator({ window: 4 });
    b.restore(await viaCheckpointFile(a.onCheckpoint()));
    const out: MarketEvent[] = [];
    b.processBatch([ev('c'), ev('d'), ev('a')], out);
    expect(out.map((e) => e.id), 'ids remembered before the checkpoint are still duplicates after restore').toEqual(['d']);
  });

  it('reuses the unchanged previous generation across checkpoints and rebuilds it after a rotation', async () => {
    const op = new DedupOperator({ window: 3 });
    op.processBatch([ev('a'), ev('b'), ev('c'), ev('d')], []);
    const first = op.onCheckpoint();
    op.processBatch([ev('e')], []);
    const second = op.onCheckpoint();
    expect(second.previous, 'no rotation in between: the same immutable array, no second scan').toBe(first.previous);
    expect(Array.from(first.previous).length, 'the previous generation holds a, b, c: three fingerprint pairs').toBe(6);
    op.processBatch([ev('f'), ev('g')], []);
    const third = op.onCheckpoint();
    expect(third.previous, 'a rotation made {d, e, f} the previous generation: a new array').not.toBe(first.previous);
    const restored = new DedupOperator({ window: 3 });
    restored.restore(await viaCheckpointFile(third));
    const out: MarketEvent[] = [];
    restored.processBatch([ev('d'), ev('g'), ev('a'), ev('h')], out);
    expect(out.map((e) => e.id), 'd (previous) and g (current) are remembered; a was forgotten two generations ago').toEqual(['a', 'h']);
  });
});
