/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Kafka's record batches and
 * iSCSI use. Table-driven, slicing-by-8 (eight 256-entry tables) so the hot path folds eight bytes
 * per step; check value crc32c("123456789") = 0xE3069283.
 */

const POLY = 0x82f63b78;
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let t = 1; t < 8; t++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[t * 256 + n] = c;
  }
}

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return ~crc32cUpdate(CRC32C_INIT, buf, start, end) >>> 0;
}

/** The register a CRC-32C starts from; fold parts in with crc32cUpdate, then `~reg >>> 0` is the checksum. */
export const CRC32C_INIT = -1;

/** Folds `buf[start, end)` into a running CRC-32C register, so a long checksum can be computed in slices. */
export function crc32cUpdate(reg: number, buf: Uint8Array, start: number, end: number): number {
  let crc = reg;
  let i = start;
  const end8 = end - 8;
  while (i <= end8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      T[7 * 256 + (a & 0xff)]! ^
      T[6 * 256 + ((a >>> 8) & 0xff)]! ^
      T[5 * 256 + ((a >>> 16) & 0xff)]! ^
      T[4 * 256 + (a >>> 24)]! ^
      T[3 * 256 + buf[i + 4]!]! ^
      T[2 * 256 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = T[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}
