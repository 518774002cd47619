import { describe, expect, it } from 'vitest';
import { MAX_VALUE_BYTES, recordValue } from '../../../src/api/index.js';
import { encodeEvent } from '../../../src/domain/index.js';
import { mulberry32, testSeed } from '../../fixtures/random.js';

const SEED = testSeed(20250305);

/** Random bytes of one of three shapes: arbitrary binary, UTF-8 text (with some multi-byte characters), JSON. */
function randomValue(rand: () => number): Uint8Array {
  const shape = Math.floor(rand() * 3);
  const n = Math.floor(rand() * (rand() < 0.1 ? 3 * MAX_VALUE_BYTES : 200));
  if (shape === 0) return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const alphabet = ['a', 'Z', '0', ' ', '\n', '\t', 'é', '€', '𝄞', '"', '{'];
  const text = Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
  return Buffer.from(shape === 1 ? text : JSON.stringify({ text, n, nested: [rand(), null, true] }));
}

describe('recordValue (the topic browser’s view of value bytes)', () => {
  it(`shows every value so that its shown bytes can be recovered exactly (seed ${SEED}; STOCKSTREAM_TEST_SEED=${SEED} replays)`, () => {
    const rand = mulberry32(SEED);
    for (let i = 0; i < 400; i++) {
      const bytes = randomValue(rand);
      const shown = recordValue(bytes);
      const where = `value ${i} of seed ${SEED} (${bytes.length} bytes, shown as ${shown.encoding})`;
      expect(shown.truncated, `${where}: cut exactly when longer than 64 KiB`).toBe(bytes.length > MAX_VALUE_BYTES);
      const head = Buffer.from(bytes.subarray(0, MAX_VALUE_BYTES));
      if (shown.encoding === 'base64') {
        expect(Buffer.from(shown.value as string, 'base64').equals(head), `${where}: base64 is the bytes (their first 64 KiB)`).toBe(true);
      } else if (shown.encoding === 'text') {
        const back = Buffer.from(shown.value as string);
        expect(head.subarray(0, back.length).equals(back), `${where}: text is the bytes`).toBe(true);
        expect(head.length - back.length, `${where}: at most a cut character's partial bytes are dropped, and only when cut`).toBeLessThanOrEqual(shown.truncated ? 3 : 0);
      } else {
        expect(shown.truncated, `${where}: a cut value is never JSON`).toBe(false);
        expect(shown.value, `${where}: JSON is the parsed bytes`).toEqual(JSON.parse(head.toString('utf8')));
      }
    }
  });

  it('shows a ticks value as the market event it encodes, and falls back when it is not one', () => {
    const trade = { kind: 'trade', symbol: 'AAPL', ts: 1_741_613_400_123, source: 'sim', id: 't-1', price: 189.25, size: 100, conditions: ['@'] } as const;
    const shown = recordValue(encodeEvent(trade), true);
    expect(shown.encoding, 'a codec event on an event topic is decoded').toBe('event');
    expect(shown.value, 'the decoded event has the fields that were encoded').toMatchObject(trade);
    expect(recordValue(Buffer.from('{"a":1}'), true), 'a foreign JSON value on an event topic stays JSON').toEqual({ value: { a: 1 }, encoding: 'json', truncated: false });
    expect(recordValue(encodeEvent(trade)).encoding, 'the same bytes elsewhere are not guessed to be an event').toBe('base64');
  });

  it('calls a value JSON only when it parses, text only when printable', () => {
    expect(recordValue(Buffer.from('{"a":1}')), 'an object').toEqual({ value: { a: 1 }, encoding: 'json', truncated: false });
    expect(recordValue(Buffer.from('42')), 'a bare number is JSON too').toEqual({ value: 42, encoding: 'json', truncated: false });
    expect(recordValue(Buffer.from('{"a":')), 'broken JSON is text').toEqual({ value: '{"a":', encoding: 'text', truncated: false });
    expect(recordValue(Buffer.from('bell\u0007')).encoding, 'a control character means binary').toBe('base64');
    expect(recordValue(Uint8Array.from([0xc3, 0x28])).encoding, 'invalid UTF-8 means binary').toBe('base64');
  });
});
