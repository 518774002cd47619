/**
 * Kafka's Java-client default partitioner for keyed records, so the journal and the Kafka adapter
 * place every key on the same partition: `(murmur2(utf8(key)) & 0x7fffffff) % numPartitions`.
 * murmur2 is a port of org.apache.kafka.common.utils.Utils.murmur2 (seed 0x9747b28c), with Java's
 * wrapping int arithmetic done through Math.imul and `| 0`.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's `Utils.murmur2`: a signed 32-bit hash of `data`. */
export function murmur2(data: Uint8Array, start = 0, end = data.length): number {
  const length = end - start;
  let h = (SEED ^ length) | 0;
  const whole = start + (length & ~3);
  for (let i = start; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's switch falls through from case 3 to case 1; the ifs below do the same in order.
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** Kafka's `Utils.toPositive(murmur2(keyBytes)) % numPartitions` over the UTF-8 bytes of `key`. */
export function partitionForKey(key: string, numPartitions: number): number {
  // Worst case UTF-8 is 3 bytes per UTF-16 unit; size the reusable buffer so encodeInto never truncates.
  if (key.length * 3 > scratch.length) scratch = new Uint8Array(key.length * 3);
  const { written } = encoder.encodeInto(key, scratch);
  return (murmur2(scratch, 0, written) & 0x7fffffff) % numPartitions;
}

/**
 * A partitioner that remembers where each key went: keys are symbols and repeat on every tick, so
 * the hash is computed once per key. The cache is dropped when it grows past `maxKeys`.
 */
export class KeyPartitioner {
  readonly #numPartitions: number;
  readonly #maxKeys: number;
  #cache = new Map<string, number>();

  constructor(numPartitions: number, maxKeys = 65_536) {
    this.#numPartitions = numPartitions;
    this.#maxKeys = maxKeys;
  }

  partition(key: string): number {
    let p = this.#cache.get(key);
    if (p === undefined) {
      p = partitionForKey(key, this.#numPartitions);
      if (this.#cache.size >= this.#maxKeys) this.#cache = new Map();
      this.#cache.set(key, p);
    }
    return p;
  }
}
