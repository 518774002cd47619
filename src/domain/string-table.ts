/**
 * A small process-wide table of the strings that repeat on every tick (symbols, sources, record
 * keys), so parsing and decoding hand out the same string object instead of a fresh copy per tick.
 * That spares an allocation per field, and every Map keyed by symbol downstream (candles, dedup,
 * KPIs, live store) finds the string's hash already computed and the key by identity.
 *
 * Set-associative: a string's hash picks a set of WAYS slots; a miss puts the new string first
 * in its set and drops the set's oldest, so the table stays bounded whatever comes and a miss just
 * makes the string. It was direct-mapped (one slot per hash): in the latency bench (1,000
 * symbols) 23 % of lookups missed, symbol pairs sharing a slot evicting each other on every tick,
 * so those ticks carried fresh strings (a heap snapshot held 15,746 copies of symbol names; 1,015
 * since). A symbol still misses on every lookup when more than WAYS symbols in use share its set:
 * with 8 ways and 32,768 slots, none do for the 5,000-symbol universe of the test, and `misses()`
 * (a metric) shows it if a universe ever makes them. Only short ASCII goes through the table.
 */

const SET_BITS = 12;
const SET_MASK = (1 << SET_BITS) - 1;
const WAYS = 8;
/** Longer strings are rarely repeated keys; hashing them would cost more than it saves. */
const MAX_LENGTH = 32;
/** Set k holds slots [k * WAYS, (k + 1) * WAYS), newest first; '' marks an empty slot (and matches ''). */
const table: string[] = new Array<string>((1 << SET_BITS) * WAYS).fill('');
let missCount = 0;

function setOf(h: number): number {
  return ((h ^ (h >>> SET_BITS) ^ (h >>> (2 * SET_BITS))) & SET_MASK) * WAYS;
}

/** Puts `fresh` first in the set at `base`, dropping the oldest. */
function insert(base: number, fresh: string): string {
  missCount++;
  for (let w = base + WAYS - 1; w > base; w--) table[w] = table[w - 1] as string;
  table[base] = fresh;
  return fresh;
}

/** Lookups that did not find their string in the table, since the process started. */
export function stringTableMisses(): number {
  return missCount;
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
  if (n > MAX_LENGTH) return buf.toString('utf8', start, end);
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
