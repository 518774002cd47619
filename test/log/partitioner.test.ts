import { describe, expect, it } from 'vitest';
import { KeyPartitioner, murmur2, partitionForKey } from '../../src/log/partitioner.js';

// Expected values from Kafka's own tests of Utils.murmur2 (clients/src/test/.../UtilsTest.java),
// librdkafka's rdmurmur2.c unit test and KafkaJS's Java-compatible partitioner spec; all three
// agree with the Java client, which is what the Kafka adapter must match.
const VECTORS: Record<string, number> = {
  '21': -973932308,
  foobar: -790332482,
  'a-little-bit-long-string': -985981536,
  'a-little-bit-longer-string': -1486304829,
  lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8: -58897971,
  abc: 479470107,
  kafka: -798503068,
  giberish123456789: -1890243828,
  '1234': -1614185708,
  '234': -406844982,
  '34': -2026295078,
  '4': 1514888353,
  'PreAmbleWillBeRemoved,ThePrePartThatIs': 2017611548,
  'reAmbleWillBeRemoved,ThePrePartThatIs': 1247982455,
  'eAmbleWillBeRemoved,ThePrePartThatIs': -521871202,
  'AmbleWillBeRemoved,ThePrePartThatIs': 1656271935,
  '': 275646681,
  '0': 971027396,
  '1': -1993445489,
  '12': 126087238,
  '123': -267702483,
  '12345': -1188365604,
  '128': -326012175,
  '2187': -1508407203,
  '16384': -325739742,
  '78125': -1654490814,
  '279936': 1462227128,
  '823543': -2014198330,
  '2097152': 607668903,
  '4782969': -1182699775,
};

describe('murmur2 (Kafka Utils.murmur2)', () => {
  it('matches the Java client on known vectors, every length modulo 4 included', () => {
    for (const [key, expected] of Object.entries(VECTORS)) {
      expect(murmur2(Buffer.from(key, 'utf8')), `murmur2(${JSON.stringify(key)}) must equal Kafka's value`).toBe(expected);
    }
  });

  it('hashes a sub-range exactly like a copy of it', () => {
    const buf = Buffer.from('xxfoobaryy');
    expect(murmur2(buf, 2, 8), 'hashing bytes [2,8) must equal hashing "foobar"').toBe(VECTORS.foobar);
  });
});

describe('partitionForKey (Kafka default partitioner for keyed records)', () => {
  it('is (murmur2(utf8 key) & 0x7fffffff) % numPartitions', () => {
    for (const [key, h] of Object.entries(VECTORS)) {
      for (const n of [1, 3, 8, 12, 100]) {
        expect(partitionForKey(key, n), `key ${JSON.stringify(key)} over ${n} partitions must land where Kafka puts it`).toBe((h & 0x7fffffff) % n);
      }
    }
  });

  it('encodes non-ASCII keys as UTF-8, like String.getBytes(UTF_8)', () => {
    const key = 'VNM:Hòa Phát 🚀';
    expect(partitionForKey(key, 7), 'the partition must come from the UTF-8 bytes of the key').toBe((murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % 7);
  });

  it('KeyPartitioner caches without changing placement, also past its cache size', () => {
    const p = new KeyPartitioner(8, 4);
    for (let i = 0; i < 50; i++) {
      const key = `SYM${i % 9}`;
      expect(p.partition(key), `cached placement of ${key} must equal the direct computation`).toBe(partitionForKey(key, 8));
    }
  });
});
