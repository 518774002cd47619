import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../../src/log/index.js';
import { LogCheckpointStore, encodeCheckpoint, type Checkpoint } from '../../../src/processors/runtime/index.js';

const open: Journal[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const j of open.splice(0)) await j.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function journal(): Promise<Journal> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-logckpt-'));
  dirs.push(dir);
  const j = await Journal.open({ dir, fsync: 'never' });
  open.push(j);
  return j;
}

function checkpoint(partition: number, offset: number, size: number): Checkpoint<{ bulk: Float64Array; n: number }> {
  const bulk = new Float64Array(size);
  for (let i = 0; i < size; i++) bulk[i] = offset * 1e6 + i;
  return { version: 1, topic: 'ticks', partition, offset, state: { bulk, n: offset }, writtenAt: 1_000 + offset };
}

describe('LogCheckpointStore', () => {
  it('keeps a checkpoint larger than one record in chunks and gives back the newest, per partition', async () => {
    const log = await journal();
    const store = new LogCheckpointStore({ log, partitions: 2, chunkBytes: 1024 });
    expect(await store.load('ticks', 0), 'no checkpoint yet: a partition starts from the log').toBeNull();
    await store.save('ticks', checkpoint(0, 10, 1000));
    await store.save('ticks', checkpoint(1, 7, 10));
    await store.save('ticks', checkpoint(0, 20, 700));
    const p0 = await store.load<{ bulk: Float64Array; n: number }>('ticks', 0);
    expect(p0?.offset, 'the newest checkpoint of partition 0').toBe(20);
    expect(p0?.state.bulk, 'its state, every value, from several records').toEqual(checkpoint(0, 20, 700).state.bulk);
    expect((await store.load('ticks', 1))?.offset, 'partition 1 keeps its own').toBe(7);
    const info = (await log.topics()).find((t) => t.name === 'checkpoints.ticks');
    expect(info?.partitions.map((p) => p.endOffset), 'partition p of the checkpoint topic holds partition p of the input, each checkpoint in 1 KiB chunks').toEqual([
      Math.ceil((await encodeCheckpoint(checkpoint(0, 10, 1000))).length / 1024) + Math.ceil((await encodeCheckpoint(checkpoint(0, 20, 700))).length / 1024),
      1,
    ]);
  });

  it('skips a checkpoint cut short by a crash, and one whose chunks interleave with another writer’s', async () => {
    const log = await journal();
    const store = new LogCheckpointStore({ log, partitions: 1, chunkBytes: 512 });
    await store.save('ticks', checkpoint(0, 5, 300));
    // A newer writer died after two of its chunks: the reader must fall back to offset 5.
    const cut = await encodeCheckpoint(checkpoint(0, 9, 300));
    const parts = Math.ceil(cut.length / 512);
    await log.append('checkpoints.ticks', [0, 1].map((i) => ({ key: 'ticks/p0', partition: 0, value: cut.subarray(i * 512, (i + 1) * 512), headers: { ckpt: 'dead', part: String(i), parts: String(parts) } })));
    expect((await store.load('ticks', 0))?.offset, 'an incomplete checkpoint is never restored').toBe(5);
    // Two owners of the partition (a rebalance) write at once: chunks A0 B0 A1 B1 ...
    const a = await encodeCheckpoint(checkpoint(0, 30, 200));
    const b = await encodeCheckpoint(checkpoint(0, 31, 200));
    const n = Math.ceil(a.length / 512);
    expect(Math.ceil(b.length / 512), 'both split alike').toBe(n);
    for (let i = 0; i < n; i++) {
      for (const [id, bytes] of [['a', a], ['b', b]] as const) {
        await log.append('checkpoints.ticks', [{ key: 'ticks/p0', partition: 0, value: bytes.subarray(i * 512, (i + 1) * 512), headers: { ckpt: id, part: String(i), parts: String(n) } }]);
      }
    }
    const got = await store.load<{ bulk: Float64Array }>('ticks', 0);
    expect(got?.offset, 'the checkpoint completed last is taken').toBe(31);
    expect(got?.state.bulk, 'assembled from its own chunks only').toEqual(checkpoint(0, 31, 200).state.bulk);
  });

  it('refuses a damaged checkpoint with an error naming the topic and partition', async () => {
    const log = await journal();
    const store = new LogCheckpointStore({ log, partitions: 1 });
    const bytes = Buffer.from(await encodeCheckpoint(checkpoint(0, 3, 10)));
    bytes[40] = (bytes[40] as number) ^ 1;
    await log.ensureTopic('checkpoints.ticks', { partitions: 1 });
    await log.append('checkpoints.ticks', [{ key: 'ticks/p0', partition: 0, value: bytes, headers: { ckpt: 'x', part: '0', parts: '1' } }]);
    await expect(store.load('ticks', 0), 'a flipped bit must not restore silently').rejects.toThrow(/partition 0 in topic checkpoints\.ticks.*checksum/);
  });
});
