import { describe, expect, it } from 'vitest';
import { bar, decodeEvent, decodeEventFields, emptyEventFields, encodeEvent, encodeEventInto, encodedSize, eventFields, maxEncodedSize, quote, trade, type MarketEvent } from '../../src/domain/index.js';

describe('event codec', () => {
  const cases: MarketEvent[] = [
    trade({ symbol: 'AAPL', ts: 1_700_000_000_123, source: 'sim', id: 'sim-1', price: 190.12, size: 100 }),
    trade({ symbol: 'VNM', ts: 1_700_000_000_124, source: 'vnstock', id: 'giá-2', price: 65_400, size: 1_000, conditions: ['@', 'T'] }),
    quote({ symbol: 'BRK.B', ts: 1_700_000_000_125, source: 'finnhub', id: 'q-3', bid: 412.1, ask: 412.15, bidSize: 3, askSize: 0 }),
    bar({ symbol: 'FPT', ts: 1_700_000_040_000, source: 'replay', id: 'b-4', interval: '1m', open: 1.1, high: 1.3, low: 1.0, close: 1.2, volume: 0.1 + 0.2 }),
  ];
  for (const e of cases) {
    it(`round-trips a ${e.kind} exactly (${e.id})`, () => {
      expect(decodeEvent(encodeEvent(e)), 'decode(encode(e)) must equal e field by field, floats bit-exact').toEqual(e);
    });
  }

  it('writes the documented layout: little-endian float64 ts at byte 2, a trade price and size after it', () => {
    const e = trade({ symbol: 'AAPL', ts: 1_700_000_000_123, source: 'sim', id: 'x', price: -0.1, size: 5e-324 });
    const b = encodeEvent(e);
    expect([b[0], b[1]], 'version 1, kind 0 (trade)').toEqual([1, 0]);
    expect(b.readDoubleLE(2), 'ts as a little-endian double at byte 2, whatever the machine order').toBe(e.ts);
    expect(Object.is(b.readDoubleLE(10), -0.1) && b.readDoubleLE(18) === 5e-324, 'price at 10 and size at 18, bit for bit (a denormal too)').toBe(true);
    expect([...b.subarray(2, 10)], 'ts 1,700,000,000,123 as IEEE 754 little-endian bytes, on any machine').toEqual([0, 176, 135, 86, 254, 188, 120, 66]);
  });

  it('encodes a batch back to back into one buffer, byte for byte as one buffer per event', () => {
    const events = [...cases, trade({ symbol: 'É.X', ts: 1, source: 'ñ', id: '€', price: 1, size: 0, conditions: ['ü', ''] })];
    const total = events.reduce((n, e) => n + encodedSize(e), 0);
    const buf = Buffer.alloc(total);
    let pos = 0;
    for (const e of events) {
      const end = encodeEventInto(e, buf, pos, new DataView(buf.buffer, buf.byteOffset, buf.byteLength));
      expect(end - pos, `encodedSize must be what encodeEventInto writes (${e.id})`).toBe(encodedSize(e));
      expect(buf.subarray(pos, end).equals(encodeEvent(e)), `the view must hold encodeEvent's bytes (${e.id})`).toBe(true);
      expect(decodeEvent(buf.subarray(pos, end)), `a view decodes to the event (${e.id})`).toEqual(e);
      pos = end;
    }
  });

  it('maxEncodedSize bounds what encodeEventInto writes, for 1-, 2-, 3-byte characters and lone surrogates', () => {
    const events = [
      ...cases,
      trade({ symbol: 'É.X', ts: 1, source: 'ñ', id: '€€€', price: 1, size: 0, conditions: ['ü', '', '\ud800'] }),
      quote({ symbol: 'A', ts: 2, source: '\udc00', id: '日本語', bid: 1, ask: 2, bidSize: 0, askSize: 0 }),
    ];
    for (const e of events) {
      expect(maxEncodedSize(e), `the bound must cover the bytes written (${e.id}), else a writer encoding into scratch room overruns it`).toBeGreaterThanOrEqual(encodedSize(e));
    }
  });

  it('decodes into flat fields exactly what the event object gives, reusing one record across kinds', () => {
    const fromBytes = emptyEventFields();
    const fromEvent = emptyEventFields();
    // The same two records go through every case in turn, so a field a previous kind set must be cleared.
    for (const e of [...cases, ...cases.slice().reverse()]) {
      const bytes = encodeEvent(e);
      decodeEventFields(bytes, fromBytes);
      eventFields(e, fromEvent);
      const { id, idStart, idEnd, ...rest } = fromBytes;
      expect([id, bytes.toString('utf8', idStart, idEnd)], `decoding leaves the id as bytes, located exactly (${e.id})`).toEqual(['', e.id]);
      expect([fromEvent.idStart, fromEvent.idEnd], 'an event object has no id bytes').toEqual([-1, -1]);
      expect({ ...rest, id: e.id, idStart: -1, idEnd: -1 }, `bytes and object give the same fields, floats bit-exact (${e.id})`).toEqual(fromEvent);
    }
    eventFields(cases[1] as MarketEvent, fromEvent);
    expect([fromEvent.kind, fromEvent.conditions, fromEvent.bid, fromEvent.interval], 'a trade: kind code 0, conditions joined, quote fields NaN, no interval').toEqual([0, '@,T', NaN, -1]);
    eventFields(cases[3] as MarketEvent, fromEvent);
    expect([fromEvent.kind, fromEvent.interval, fromEvent.close, fromEvent.price], 'a bar: kind code 2, interval index of 1m, trade fields NaN').toEqual([2, 1, 1.2, NaN]);
  });

  it('locates the id relative to the view it decodes, wherever the view starts in its buffer', () => {
    const e = cases[1] as MarketEvent;
    const bytes = encodeEvent(e);
    const backing = new Uint8Array(bytes.length + 11);
    backing.set(bytes, 7);
    const view = backing.subarray(7, 7 + bytes.length);
    const f = emptyEventFields();
    decodeEventFields(view, f);
    expect(Buffer.from(view).toString('utf8', f.idStart, f.idEnd), 'idStart and idEnd index into the view, not its buffer').toBe(e.id);
    expect(() => decodeEventFields(view.subarray(0, f.idEnd - 1), f), 'an id running past the bytes is an error, not a read into whatever follows').toThrow(/runs past/);
  });

  it('decodes a record given as [start, end) of a larger buffer (a segment block), the id located in that buffer', () => {
    const e = cases[1] as MarketEvent;
    const bytes = encodeEvent(e);
    const block = Buffer.alloc(bytes.length + 40, 0xee);
    block.set(bytes, 13);
    const inBlock = emptyEventFields();
    decodeEventFields(block, inBlock, 13, 13 + bytes.length);
    const alone = emptyEventFields();
    decodeEventFields(bytes, alone);
    expect({ ...inBlock, idStart: inBlock.idStart - 13, idEnd: inBlock.idEnd - 13 }, 'the same fields as the bytes alone, positions shifted by start').toEqual(alone);
    expect(block.toString('utf8', inBlock.idStart, inBlock.idEnd), 'idStart and idEnd index into the block').toBe(e.id);
    expect(() => decodeEventFields(block, emptyEventFields(), 13, 13 + bytes.length - 1), 'an id running past end is an error, though the block goes on').toThrow(/runs past/);
  });

  it('refuses bytes of an unknown version instead of misreading them', () => {
    const bytes = encodeEvent(cases[0] as MarketEvent);
    bytes[0] = 9;
    expect(() => decodeEvent(bytes), 'a future format must not decode as garbage').toThrow(/expected version 1, got 9/);
    expect(() => decodeEventFields(bytes, emptyEventFields()), 'nor into fields').toThrow(/expected version 1, got 9/);
  });
});
