import { decodeEvent } from '../../domain/index.js';

/**
 * How the topic browser shows a record's value bytes. The log stores opaque bytes: JSON (dead
 * letters, candles, KPIs), the binary event codec (ticks, domain/event-codec.ts) or anything a
 * producer on Kafka wrote. A topic known to hold codec events shows them decoded (`event`);
 * otherwise parsed JSON when the bytes are UTF-8 JSON, else UTF-8 text when valid and printable,
 * else base64.
 */

/** Values are shown up to this many bytes; the browser is for looking, and a page holds up to 500 of them. */
export const MAX_VALUE_BYTES = 64 * 1024;

export type ValueEncoding = 'event' | 'json' | 'text' | 'base64';

export interface RecordValue {
  value: unknown;
  encoding: ValueEncoding;
  /** The bytes were longer than MAX_VALUE_BYTES and only their start is shown (never as JSON: it would not parse). */
  truncated: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** C0 controls other than tab, line feed and carriage return, and DEL: a sign of binary data. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}
/** What a JSON text can start with, so plain words are not sent through JSON.parse. */
const JSON_START_RE = /^\s*[{["\-0-9tfn]/;

function utf8OrNull(bytes: Uint8Array, cut: boolean): string | null {
  // A cut can split a multi-byte character (at most 3 continuation bytes of it): drop that part.
  for (let drop = 0; drop <= (cut ? 3 : 0) && drop < bytes.length; drop++) {
    try {
      return strictUtf8.decode(bytes.subarray(0, bytes.length - drop));
    } catch {
      // Not valid UTF-8 with this many bytes dropped; try one fewer, or give up.
    }
  }
  return bytes.length === 0 ? '' : null;
}

function jsonOrUndefined(text: string): unknown {
  if (!JSON_START_RE.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * `events`: the topic holds market events in the binary codec (ticks); a value that does not
 * decode (a foreign producer on Kafka) falls back to the generic forms.
 */
export function recordValue(bytes: Uint8Array, events = false): RecordValue {
  if (events) {
    try {
      return { value: decodeEvent(bytes), encoding: 'event', truncated: false };
    } catch {
      // Not a codec event: shown as whatever else it is.
    }
  }
  const truncated = bytes.length > MAX_VALUE_BYTES;
  const shown = truncated ? bytes.subarray(0, MAX_VALUE_BYTES) : bytes;
  const text = utf8OrNull(shown, truncated);
  if (text !== null) {
    const json = truncated ? undefined : jsonOrUndefined(text);
    if (json !== undefined) return { value: json, encoding: 'json', truncated };
    if (!hasControl(text)) return { value: text, encoding: 'text', truncated };
  }
  return { value: Buffer.from(shown.buffer, shown.byteOffset, shown.byteLength).toString('base64'), encoding: 'base64', truncated };
}
