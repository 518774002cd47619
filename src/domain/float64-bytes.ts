/**
 * Little-endian IEEE 754 doubles in byte arrays, for the event codec and the journal's frames.
 * They go through one 8-byte scratch: Buffer#writeDoubleLE/readDoubleLE do the same copy but
 * behind an argument check and a call that is not always inlined (readDoubleForwards was ~2 % of
 * the bronze writer's time). The scratch holds the machine's byte order; the bytes are always LE.
 */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

export function writeFloat64LE(buf: Uint8Array, pos: number, x: number): void {
  F64[0] = x;
  const b = F64_BYTES;
  if (BIG_ENDIAN) {
    for (let k = 0; k < 8; k++) buf[pos + k] = b[7 - k] as number;
    return;
  }
  buf[pos] = b[0] as number;
  buf[pos + 1] = b[1] as number;
  buf[pos + 2] = b[2] as number;
  buf[pos + 3] = b[3] as number;
  buf[pos + 4] = b[4] as number;
  buf[pos + 5] = b[5] as number;
  buf[pos + 6] = b[6] as number;
  buf[pos + 7] = b[7] as number;
}

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
