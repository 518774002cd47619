/**
 * A small process-wide table of the strings that repeat on every tick (symbols, sources, record
 * keys), so parsing and decoding hand out the same string object instead of a fresh copy per tick.
 * That spares an allocation per field, and every Map keyed by symbol downstream (candles, dedup,
 * KPIs, live store) finds the string's hash already computed and the key by identity.
 *
 * Set-associative: a string's hash picks a set of WAYS slots; a miss puts the new string first
 * in its set and drops the set's oldest, so the table stays bounded whatever comes and a miss just
 * makes the string. It was direct-mapped (one slot per hash): with 1,000 symbols in 4,096 slots,
 * ~22 % of them shared a slot with another and evicted each other on every tick, so their ticks
 * carried fresh strings (seen in a heap snapshot of the latency bench: 15,746 copies of symbol
 * names held by the journal's tail). With four ways and 16,384 slots, 5,000 symbols leave under
 * 1 % of sets overfull. Only short ASCII goes through it; anything else is made as usual.
 */

const SET_BITS = 12;
const SET_MASK = (1 << SET_BITS) - 1;
const WAYS = 4;
/** Longer strings are rarely repeated keys; hashing them would cost more than it saves. */
const MAX_LENGTH = 32;
/** Set k holds slots [k * WAYS, (k + 1) * WAYS), newest first; '' marks an empty slot. */
const table: string[] = new Array<string>((1 << SET_BITS) * WAYS).fill('');

function setOf(h: number): number {
  return ((h ^ (h >>> SET_BITS) ^ (h >>> (2 * SET_BITS))) & SET_MASK) * WAYS;
}

/** Puts `fresh` first in the set at `base`, dropping the oldest. */
function insert(base: number, fresh: string): string {
  for (let w = base + WAYS - 1; w > base; w--) table[w] = table[w - 1] as string;
  table[base] = fresh;
  return fresh;
}

/** `text.slice(start, end)`, shared with every earlier equal string still in the table. */
export function sharedSlice(text: string, start: number, end: number): string {
  const n = end - start;
  if (n > MAX_LENGTH || n === 0) return text.slice(start, end);
  let h = n;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return text.slice(start, end);
    h = Math.imul(h ^ c, 0x01000193);
  }
  const base = setOf(h);
  for (let w = base; w < base + WAYS; w++) {
    const s = table[w] as string;
    if (s.length !== n) continue;
    let i = 0;
    while (i < n && s.charCodeAt(i) === text.charCodeAt(start + i)) i++;
    if (i === n) return s;
  }
  return insert(base, text.slice(start, end));
}

/** The UTF-8 string in `buf[start, end)`, shared with every earlier equal string still in the table. */
export function sharedString(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n > MAX_LENGTH || n === 0) return buf.toString('utf8', start, end);
  let h = n;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c > 0x7f) return buf.toString('utf8', start, end);
    h = Math.imul(h ^ c, 0x01000193);
  }
  const base = setOf(h);
  for (let w = base; w < base + WAYS; w++) {
    const s = table[w] as string;
    if (s.length !== n) continue;
    let i = 0;
    while (i < n && s.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return s;
  }
  return insert(base, buf.toString('latin1', start, end));
}

/** `s` itself or an earlier equal string still in the table: one copy per symbol however it arrived. */
export function shared(s: string): string {
  return sharedSlice(s, 0, s.length);
}
