import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isRetryableS3Error } from '../../../src/lakehouse/storage/s3/index.js';
import type { S3ObjectStore } from '../../../src/lakehouse/storage/s3/index.js';
import { StockStreamError } from '../../../src/shared/errors.js';
import { ALL_FAULTS, FaultProxy, INTERNAL_ERROR, SLOW_DOWN, alwaysFail, seededFaults, urlMatches, type Fault } from '../../fixtures/fault-proxy.js';
import { mulberry32, testSeed } from '../../fixtures/random.js';
import { S3, multipartUploads, openStore, removePrefix, s3Unavailable, uniquePrefix } from './s3-fixture.js';

const MiB = 1_048_576;

describe('isRetryableS3Error', () => {
  it('retries throttling, server errors, damaged bodies and network failures, not client errors', () => {
    const s3 = (name: string, status: number): unknown => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    const net = (code: string, message: string): unknown => Object.assign(new Error(message), { code });
    for (const [err, why] of [
      [s3('SlowDown', 503), '503 SlowDown is S3 asking to back off'],
      [s3('InternalError', 500), 'a 500 is the server’s trouble'],
      [s3('TooManyRequests', 429), '429 is throttling'],
      [s3('BadDigest', 400), 'BadDigest: the body was damaged in transit, a resend is whole'],
      [s3('XAmzContentSHA256Mismatch', 400), 'a payload hash mismatch is damage in transit too'],
      [net('ECONNRESET', 'socket hang up'), 'a reset connection'],
      [net('EPIPE', 'write EPIPE'), 'a broken pipe'],
      [Object.assign(new Error('Deserialization error'), { $metadata: { httpStatusCode: 200 } }), 'a 200 whose body did not parse was cut short'],
    ] as const) {
      expect(isRetryableS3Error(err), why).toBe(true);
    }
    for (const [err, why] of [
      [s3('AccessDenied', 403), 'wrong credentials do not heal by retrying'],
      [s3('NoSuchBucket', 404), 'a missing bucket does not appear by retrying'],
      [s3('InvalidArgument', 400), 'a malformed request stays malformed'],
      [new TypeError('x is not a function'), 'a programming error is not retried'],
    ] as const) {
      expect(isRetryableS3Error(err), why).toBe(false);
    }
  });
});

const missing = await s3Unavailable();

if (missing !== null) {
  describe('S3ObjectStore', () => {
    it.skip(missing, () => undefined);
  });
} else {
  describe('S3ObjectStore (S3Proxy)', () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    /** A store under a fresh prefix, through a fault proxy with `rule`; everything removed after the test. */
    async function setup(what: string, o: { maxAttempts?: number; partConcurrency?: number; faults?: Parameters<typeof FaultProxy.start>[1] } = {}): Promise<{ store: S3ObjectStore; proxy: FaultProxy; prefix: string; dir: string }> {
      const prefix = uniquePrefix(what);
      const proxy = await FaultProxy.start(S3.endpoint, o.faults);
      const store = openStore(prefix, { endpoint: proxy.url, maxAttempts: o.maxAttempts ?? 5, ...(o.partConcurrency ? { partConcurrency: o.partConcurrency } : {}) });
      const dir = mkdtempSync(join(tmpdir(), 'ss-s3-'));
      cleanups.push(() => removePrefix(prefix));
      cleanups.push(() => proxy.close());
      cleanups.push(() => store.close());
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return { store, proxy, prefix, dir };
    }

    function randomFile(dir: string, name: string, bytes: number, seed: number): { file: string; body: Buffer } {
      const rand = mulberry32(seed);
      const body = Buffer.alloc(bytes);
      for (let i = 0; i < bytes; i++) body[i] = Math.floor(rand() * 256);
      const file = join(dir, name);
      writeFileSync(file, body);
      return { file, body };
    }

    const md5 = (b: Uint8Array): string => crypto.createHash('md5').update(b).digest('hex');

    it('round-trips small and multipart uploads byte-exact, lists and deletes them, and leaves no upload open', async () => {
      const seed = testSeed(11);
      const { store, proxy, prefix, dir } = await setup('roundtrip');
      const small = randomFile(dir, 'small.parquet', 200_003, seed);
      const big = randomFile(dir, 'big.parquet', 11 * MiB + 123, seed + 1);
      const empty = randomFile(dir, 'empty.parquet', 0, seed + 2);

      const ps = await store.putFile('bronze/ticks/date=2025-03-10/symbol=BTC%2FUSD/small.parquet', small.file);
      expect(ps, 'a file below the part size goes up in one request').toMatchObject({ parts: 1, size: small.body.length, md5: md5(small.body) });
      const pb = await store.putFile('bronze/ticks/big.parquet', big.file);
      expect(pb, '11 MiB in 5 MiB parts: 3 parts, the last one short').toMatchObject({ parts: 3, size: big.body.length, md5: md5(big.body) });
      expect(proxy.exchanges.filter((e) => e.method === 'PUT' && /partNumber=/.test(e.url)).length, 'three UploadPart requests went through').toBe(3);
      await store.putFile('empty.parquet', empty.file);
      await store.putBytes('_catalog/doc.json', Buffer.from('{"a":1}'));

      expect(Buffer.from((await store.getBytes('bronze/ticks/big.parquet')) as Uint8Array).equals(big.body), 'the multipart object reads back byte for byte').toBe(true);
      const out = join(dir, 'back.parquet');
      expect(await store.getFile('bronze/ticks/date=2025-03-10/symbol=BTC%2FUSD/small.parquet', out)).toEqual({ size: small.body.length, md5: md5(small.body) });
      expect(readFileSync(out).equals(small.body), 'getFile writes the exact bytes').toBe(true);
      expect((await store.getBytes('empty.parquet'))?.length, 'an empty file is an empty object').toBe(0);
      expect(await store.getBytes('nope'), 'a missing key reads as null').toBeNull();
      expect(await store.getFile('nope', join(dir, 'nope')), 'a missing key downloads as null').toBeNull();

      expect((await store.list('')).map((o) => [o.key, o.size]), 'list gives keys relative to the prefix, in order, with sizes').toEqual([
        ['_catalog/doc.json', 7],
        ['bronze/ticks/big.parquet', big.body.length],
        ['bronze/ticks/date=2025-03-10/symbol=BTC%2FUSD/small.parquet', small.body.length],
        ['empty.parquet', 0],
      ]);
      expect((await store.list('bronze/')).length, 'list filters by prefix').toBe(2);
      expect(await multipartUploads(prefix), 'a completed multipart upload leaves no upload open').toEqual([]);
      await store.delete(['bronze/ticks/big.parquet', 'does/not/exist']);
      expect((await store.list('bronze/')).map((o) => o.key), 'delete removes the object and ignores missing keys').toEqual(['bronze/ticks/date=2025-03-10/symbol=BTC%2FUSD/small.parquet']);
      expect(store.stats().retries, 'no faults, no retries').toBe(0);
    });

    it('retries injected failures (500, 503 SlowDown, resets mid-body, corrupted bodies, lost and truncated answers) and stores every object whole', async () => {
      const seed = testSeed(20250310);
      // Faults on half of the requests, every kind in turn, by a seeded schedule; one part at a time
      // so the order of requests, and so the faults each gets, follow from the seed alone.
      const { store, proxy, prefix, dir } = await setup('faults', { maxAttempts: 20, partConcurrency: 1, faults: seededFaults(seed, { rate: 0.5 }) });
      const files = [randomFile(dir, 'a', 11 * MiB + 7, seed), randomFile(dir, 'b', 300_000, seed + 1), randomFile(dir, 'c', 6 * MiB, seed + 2), randomFile(dir, 'd', 1, seed + 3), randomFile(dir, 'e', 5000, seed + 4), randomFile(dir, 'f', 70_000, seed + 5)];
      for (const [i, f] of files.entries()) await store.putFile(`k/${i}`, f.file);
      for (const [i, f] of files.entries()) {
        const back = await store.getBytes(`k/${i}`);
        expect(back !== null && Buffer.from(back).equals(f.body), `seed ${seed}: object ${i} (${f.body.length} bytes) must read back byte-exact after retried faults`).toBe(true);
      }
      // Faults rotate through the kinds: six or more faults exercised every kind.
      const kinds = new Set(proxy.faults().map((e) => e.code ?? e.fault));
      expect(kinds.size, `seed ${seed}: the schedule must have broken requests with every kind of fault, got ${[...kinds].join(', ')}`).toBe(ALL_FAULTS.length);
      expect(store.stats().failures, `seed ${seed}: every fault was met by a retry (or a check that the request had taken effect); no operation failed`).toBe(0);
      expect(store.stats().retries, `seed ${seed}: retries happened`).toBeGreaterThan(0);
      expect((await store.list('')).map((o) => o.key), `seed ${seed}: only the uploaded objects exist, nothing partial beside them`).toEqual(files.map((_, i) => `k/${i}`));
      expect(await multipartUploads(prefix), `seed ${seed}: no multipart upload lingers`).toEqual([]);
    });

    it('a Complete whose answer is lost is recognised as done by the retry (no false failure, no duplicate)', async () => {
      let lost = 0;
      const { store, prefix, dir } = await setup('complete', {
        // The first CompleteMultipartUpload (POST ?uploadId=) reaches S3, its answer does not reach us.
        faults: (req) => (req.method === 'POST' && /uploadId=/.test(req.url) && lost++ === 0 ? { kind: 'reset-response' } : { kind: 'pass' }),
      });
      const f = randomFile(dir, 'big', 5 * MiB + 1, 3);
      const r = await store.putFile('big', f.file);
      expect(r.parts, 'two parts').toBe(2);
      expect(lost, 'the fault hit the Complete request').toBeGreaterThanOrEqual(1);
      expect(Buffer.from((await store.getBytes('big')) as Uint8Array).equals(f.body), 'the object is the file').toBe(true);
      expect(await multipartUploads(prefix)).toEqual([]);
    });

    for (const [name, fault, applies] of [
      ['single PUT, 503 SlowDown', SLOW_DOWN, urlMatches(/\/k(\?|$)/)],
      ['single PUT, connection reset mid-body', { kind: 'reset-request' } as Fault, urlMatches(/\/k(\?|$)/)],
      ['multipart, 500 on every attempt at part 2', INTERNAL_ERROR, urlMatches(/partNumber=2&/)],
      ['multipart, truncated answers to part 2', { kind: 'truncate-response' } as Fault, urlMatches(/partNumber=2&/)],
    ] as const) {
      it(`when every attempt fails (${name}) the object is absent, no upload lingers, and the error names bucket, key and S3 code`, async () => {
        const { store, proxy, prefix, dir } = await setup('fail', { maxAttempts: 3, faults: alwaysFail(fault, applies) });
        const size = name.startsWith('multipart') ? 10 * MiB + 5 : 1000;
        const f = randomFile(dir, 'k', size, 5);
        const err = await store.putFile('k', f.file).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, 'the upload must fail once every attempt failed').toBeInstanceOf(StockStreamError);
        const e = err as StockStreamError;
        expect(e.code).toBe('SS_LAKE_STORAGE');
        expect(e.message, 'the message names the object').toContain(`s3://stockstream/${prefix}k`);
        const code = fault.kind === 'status' ? fault.code : 'ECONNRESET';
        expect(e.message, 'the message names what S3 (or the network) answered and how often it was tried').toMatch(new RegExp(`${code}.*on all 3 attempts`));
        expect(e.context, 'the context carries bucket, key and code for the logs').toMatchObject({ bucket: 'stockstream', key: `${prefix}k`, code, attempts: 3 });
        expect(proxy.faults().length, 'exactly maxAttempts attempts at the failing request').toBe(3);
        proxy.setRule(() => ({ kind: 'pass' }));
        expect(await store.getBytes('k'), 'no object, partial or whole, is visible under the key').toBeNull();
        expect(await store.list(''), 'nothing else appeared under the prefix').toEqual([]);
        expect(await multipartUploads(prefix), 'the failed multipart upload was aborted').toEqual([]);
      });
    }

    it('a failed upload over an existing object leaves the old object whole', async () => {
      const { store, proxy, dir } = await setup('overwrite', { maxAttempts: 2 });
      const old = randomFile(dir, 'old', 1000, 1);
      await store.putFile('k', old.file);
      const next = randomFile(dir, 'new', 1000, 2);
      proxy.setRule(alwaysFail({ kind: 'reset-request' }, (r) => r.method === 'PUT'));
      await expect(store.putFile('k', next.file), 'every attempt is cut mid-body').rejects.toThrow(/ECONNRESET/);
      proxy.setRule(() => ({ kind: 'pass' }));
      expect(Buffer.from((await store.getBytes('k')) as Uint8Array).equals(old.body), 'the old object is untouched: never a mix of old and new').toBe(true);
    });

    it('reads are checked: truncated downloads are retried until whole', async () => {
      const seed = testSeed(77);
      const { store, proxy, dir } = await setup('reads', { maxAttempts: 10 });
      const f = randomFile(dir, 'x', 2 * MiB + 3, seed);
      await store.putFile('x', f.file);
      proxy.setRule(seededFaults(seed, { rate: 0.5, faults: [{ kind: 'truncate-response' }, { kind: 'reset-response' }, ...ALL_FAULTS.slice(0, 2)], applies: (r) => r.method === 'GET' }));
      const out = join(dir, 'out');
      expect(await store.getFile('x', out), `seed ${seed}`).toEqual({ size: f.body.length, md5: md5(f.body) });
      expect(readFileSync(out).equals(f.body), `seed ${seed}: the downloaded file is byte-exact`).toBe(true);
      expect(Buffer.from((await store.getBytes('x')) as Uint8Array).equals(f.body), `seed ${seed}: getBytes too`).toBe(true);
    });

    it('does not retry what cannot heal: wrong credentials fail at once with a hint', async () => {
      const { proxy } = await setup('creds');
      const bad = openStore(uniquePrefix('creds'), { endpoint: proxy.url, secretAccessKey: 'wrong' });
      cleanups.push(() => bad.close());
      const err = (await bad.putBytes('k', Buffer.from('x')).catch((e: unknown) => e)) as StockStreamError;
      expect(err.code).toBe('SS_LAKE_STORAGE');
      expect(err.message, 'names the S3 code and says which settings to check').toMatch(/SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied/);
      expect(err.message).toContain('lake.storage.s3.accessKeyId');
      expect(proxy.exchanges.length, 'one request: a refused signature is not retried').toBe(1);
    });
  });
}
