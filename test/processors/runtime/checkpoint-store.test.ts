import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileCheckpointStore, decodeCheckpoint, encodeCheckpoint } from '../../../src/processors/runtime/checkpoint-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const state = {
  dedup: { previous: new Uint32Array([1, 2, 3, 4]), current: new Uint32Array(0), dropped: 7 },
  candles: { version: 2, symbols: ['AAPL', 'VNM'], slots: new Float64Array([0, 1, Math.PI, -0, Number.MAX_VALUE, 1e-300]) },
  nested: [{ a: new Int32Array([-5, 5]) }, 3, null, 'x', { b: new Uint8Array([255, 0, 1]) }],
  plain: { n: 1.5, s: 'é', arr: [1, 2, 3] },
};

describe('checkpoint encoding', () => {
  it('round-trips JSON values and typed arrays (kind, length, every bit) wherever they sit', async () => {
    const back = decodeCheckpoint<typeof state>(await encodeCheckpoint({ version: 1, topic: 'ticks', partition: 3, offset: 42, state, writtenAt: 9 }));
    expect(back.offset, 'the offset travels with the state').toBe(42);
    expect(back.state.dedup.previous, 'a Uint32Array comes back as one, equal').toEqual(new Uint32Array([1, 2, 3, 4]));
    expect(back.state.dedup.current, 'an empty array stays an empty array of its kind').toEqual(new Uint32Array(0));
    expect(back.state.candles.slots, 'doubles come back bit for bit').toEqual(state.candles.slots);
    expect(Object.is(back.state.candles.slots[3], -0), 'even the sign of zero').toBe(true);
    expect(back.state.nested[0], 'arrays inside arrays of objects are found').toEqual({ a: new Int32Array([-5, 5]) });
    expect(back.state.nested[4], 'Uint8Array too').toEqual({ b: new Uint8Array([255, 0, 1]) });
    expect(back.state.plain, 'plain JSON is untouched').toEqual(state.plain);
  });

  it('leaves the caller state unchanged (it may still be in use)', async () => {
    await encodeCheckpoint({ version: 1, topic: 't', partition: 0, offset: 0, state, writtenAt: 0 });
    expect(state.dedup.previous, 'typed arrays are not replaced in the original object').toBeInstanceOf(Uint32Array);
  });

  it('refuses an array kind it cannot store, naming it', () => {
    expect(() => encodeCheckpoint({ version: 1, topic: 't', partition: 0, offset: 0, state: { x: new Int16Array(2) }, writtenAt: 0 })).toThrow(/Int16Array/);
  });

  it('detects any flipped byte with the checksum, and wrong magic', async () => {
    const bytes = await encodeCheckpoint({ version: 1, topic: 't', partition: 0, offset: 1, state, writtenAt: 0 });
    for (const at of [5, 20, bytes.length - 30, bytes.length - 2]) {
      const bad = Buffer.from(bytes);
      bad[at] = (bad[at] as number) ^ 0x40;
      expect(() => decodeCheckpoint(bad), `byte ${at} flipped must not restore silently`).toThrow(/checksum|format|magic/);
    }
    expect(() => decodeCheckpoint(Buffer.from('{"version":1}')), 'a JSON file is not mistaken for a checkpoint').toThrow(/magic/);
  });

  it('checksums a large checkpoint in slices, letting the event loop run between them, and lays it out at once', async () => {
    // 1 MiB of state: 16 slices of 64 KiB.
    const bulk = new Float64Array(131_072).map((_, i) => i * 0.5);
    let turns = 0;
    let counting = true;
    const tick = (): void => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const encoding = encodeCheckpoint({ version: 1, topic: 't', partition: 0, offset: 5, state: { bulk }, writtenAt: 0 });
    // Changed after the call: the bytes were laid out before it returned.
    bulk[7] = -1;
    const bytes = await encoding;
    counting = false;
    expect(turns, 'event-loop turns ran while the CRC of 1 MiB was computed in 64 KiB slices').toBeGreaterThanOrEqual(10);
    const back = decodeCheckpoint<{ bulk: Float64Array }>(bytes);
    expect(back.state.bulk[7], 'the state as it was at the call, and a CRC that verifies').toBe(3.5);
  });
});

describe('FileCheckpointStore', () => {
  it('saves atomically and loads; a damaged file fails with the path and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-ckpt-'));
    dirs.push(dir);
    const store = new FileCheckpointStore(dir);
    expect(await store.load('pipe', 0), 'no checkpoint yet').toBeNull();
    await store.save('pipe', { version: 1, topic: 'ticks', partition: 0, offset: 10, state, writtenAt: 1 });
    await store.save('pipe', { version: 1, topic: 'ticks', partition: 0, offset: 20, state, writtenAt: 2 });
    expect((await store.load<typeof state>('pipe', 0))?.offset, 'the newest save wins').toBe(20);
    expect(readdirSync(dir), 'no temporary file is left behind').toEqual(['pipe-p0.ckpt']);
    const file = join(dir, 'pipe-p0.ckpt');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 9));
    await expect(store.load('pipe', 0), 'a truncated file names itself and says to delete it').rejects.toThrow(/pipe-p0\.ckpt.*delete it to rebuild/);
  });
});
