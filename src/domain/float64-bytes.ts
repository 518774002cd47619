/**
 * Little-endian IEEE 754 doubles read from byte arrays, for the event codec and the journal's
 * frames, which decode records in place without a DataView per buffer. They go through one 8-byte
 * scratch: Buffer#readDoubleLE does the same copy but behind an argument check and a call that is
 * not always inlined (readDoubleForwards was ~2 % of the bronze writer's time). The scratch holds
 * the machine's byte order; the bytes are always LE.
 */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

export function readFloat64LE(buf: Uint8Array, pos: number): number {
  const b = F64_BYTES;
  if (BIG_ENDIAN) {
    for (let k = 0; k < 8; k++) b[7 - k] = buf[pos + k] as number;
    return F64[0] as number;
  }
  b[0] = buf[pos] as number;
  b[1] = buf[pos + 1] as number;
  b[2] = buf[pos + 2] as number;
  b[3] = buf[pos + 3] as number;
  b[4] = buf[pos + 4] as number;
  b[5] = buf[pos + 5] as number;
  b[6] = buf[pos + 6] as number;
  b[7] = buf[pos + 7] as number;
  return F64[0] as number;
}
