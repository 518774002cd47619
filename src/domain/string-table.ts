/**
 * A small process-wide table of the strings that repeat on every tick (symbols, sources, record
 * keys), so parsing and decoding hand out the same string object instead of a fresh copy per tick.
 * That spares an allocation per field, and every Map keyed by symbol downstream (candles, dedup,
 * KPIs, live store) finds the string's hash already computed. Direct-mapped: a slot holds the last
 * string that hashed there, so the table stays bounded whatever comes; a miss just makes the string.
 * Only short ASCII goes through it; anything else is made as usual.
 */

const BITS = 12;
const MASK = (1 << BITS) - 1;
/** Longer strings are rarely repeated keys; hashing them would cost more than it saves. */
const MAX_LENGTH = 32;
const table: (string | undefined)[] = new Array<string | undefined>(1 << BITS).fill(undefined);

function slotOf(h: number): number {
  return (h ^ (h >>> BITS) ^ (h >>> (2 * BITS))) & MASK;
}

/** `text.slice(start, end)`, shared with every earlier equal string still in the table. */
export function sharedSlice(text: string, start: number, end: number): string {
  const n = end - start;
  if (n > MAX_LENGTH) return text.slice(start, end);
  let h = n;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return text.slice(start, end);
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = slotOf(h);
  const s = table[slot];
  if (s !== undefined && s.length === n && text.startsWith(s, start)) return s;
  const fresh = text.slice(start, end);
  table[slot] = fresh;
  return fresh;
}

/** The UTF-8 string in `buf[start, end)`, shared with every earlier equal string still in the table. */
export function sharedString(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n > MAX_LENGTH) return buf.toString('utf8', start, end);
  let h = n;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c > 0x7f) return buf.toString('utf8', start, end);
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = slotOf(h);
  const s = table[slot];
  if (s !== undefined && s.length === n) {
    let i = 0;
    while (i < n && s.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return s;
  }
  const fresh = buf.toString('latin1', start, end);
  table[slot] = fresh;
  return fresh;
}

/** `s` itself or an earlier equal string still in the table: one copy per symbol however it arrived. */
export function shared(s: string): string {
  return sharedSlice(s, 0, s.length);
}
