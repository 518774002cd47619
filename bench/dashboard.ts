/**
 * The dashboard's budgets (issue 5), measured in Debian's Chromium through playwright-core
 * against an in-process platform serving the built app (dist/web):
 * - initial JavaScript: gzip bytes of every script the browser fetched to draw the first screen
 *   (the market overview with its treemap), cold cache;
 * - first candle: navigation start → the first candle drawn on `#/symbol/AAPL?i=1m` (the page
 *   marks it in the frame after the series gets its data), fresh browser context each time;
 * - tick → screen: a trade handed to ingest (it reaches the server) → the animation frame that
 *   shows it in the symbol view's last price (`?probe=1` records that time per trade id; both
 *   clocks are this machine's epoch time), p99, with the rest of the universe streaming meanwhile.
 *
 * page.evaluate gets strings, not functions: this file is compiled for Node, without DOM types.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { Platform } from '../src/apps/platform.js';
import { loadConfig } from '../src/shared/config/index.js';
import { createLogger } from '../src/shared/logger.js';

export interface DashboardBench {
  initialJsGzipBytes: number;
  initialJsFiles: number;
  firstCandleMs: { median: number; max: number; runs: number };
  tickToScreen: { count: number; p50: number; p90: number; p99: number; max: number; ratePerSec: number; backgroundPerSec: number };
}

const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MINUTE = 60_000;

function chromiumPath(): string {
  return process.env['STOCKSTREAM_CHROMIUM'] ?? '/usr/bin/chromium';
}

/** null when it can run; else why not (Chromium or the web build missing). */
export function dashboardBenchMissing(): string | null {
  if (!existsSync(chromiumPath())) return `Chromium is not installed at ${chromiumPath()} (deploy/local/chromium.sh install)`;
  if (!existsSync(resolve(import.meta.dirname, '../web/index.html'))) return 'dist/web is missing: run npm run build';
  return null;
}

function quantile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export async function benchDashboard(options: { seconds?: number; ratePerSec?: number; backgroundPerSec?: number; firstCandleRuns?: number } = {}): Promise<DashboardBench> {
  const seconds = options.seconds ?? 20;
  const rate = options.ratePerSec ?? 20;
  const background = options.backgroundPerSec ?? 2000;
  const runs = options.firstCandleRuns ?? 7;
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-web-'));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, 'lake.enabled': false } });
  const platform = await Platform.start({ config, logger: createLogger('silent'), acceptHistory: true });
  let browser: Browser | null = null;
  try {
    const symbols = platform.store.symbols();
    const others = symbols.filter((s) => s !== 'AAPL');
    // Five hours of AAPL history (a trade every 10 s), so the 1m chart opens on ~300 candles.
    const start = Math.floor((Date.now() - 5 * 60 * MINUTE) / MINUTE) * MINUTE;
    const history: object[] = [];
    for (let t = start, i = 0; t < Date.now() - 5000; t += 10_000, i++) history.push({ kind: 'trade', symbol: 'AAPL', ts: t, source: 'bench', id: `H${i}`, price: 180 + Math.sin(i / 40) * 5 + (i % 7) * 0.1, size: 100 });
    for (let i = 0; i < history.length; i += 5000) await platform.ingest.write(history.slice(i, i + 5000));
    await sleep(1500);

    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const url = platform.url as string;

    // Initial JavaScript of the first screen, cold cache.
    const ctx0 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page0 = await ctx0.newPage();
    const scripts: Promise<number>[] = [];
    page0.on('response', (r) => {
      if (r.request().resourceType() === 'script') scripts.push(r.body().then((b) => gzipSync(b, { level: 9 }).length));
    });
    await page0.goto(`${url}/`);
    await page0.waitForSelector('.treemap canvas', { timeout: 30_000 });
    await page0.waitForLoadState('networkidle');
    const sizes = await Promise.all(scripts);
    await ctx0.close();

    // First candle, fresh context (cold cache) each run.
    const firsts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await ctx.newPage();
      await page.goto(`${url}/#/symbol/AAPL?i=1m`);
      await page.waitForFunction('document.documentElement.dataset.firstCandleMs !== undefined', undefined, { timeout: 30_000 });
      firsts.push(Number(await page.evaluate('document.documentElement.dataset.firstCandleMs')));
      await ctx.close();
    }
    firsts.sort((a, b) => a - b);

    // Tick → screen, with the rest of the universe streaming in the background.
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${url}/?probe=1#/symbol/AAPL?i=1s`);
    await page.waitForSelector('.conn[data-state="open"]', { timeout: 30_000 });
    await page.waitForFunction('document.documentElement.dataset.firstCandleMs !== undefined', undefined, { timeout: 30_000 });
    await sleep(1000);
    const handedAt = new Map<string, number>();
    const t0 = nowMs();
    let seq = 0;
    let bg = 0;
    let last = 180;
    const inflight = new Set<Promise<unknown>>();
    while (nowMs() - t0 < seconds * 1000) {
      const elapsed = (nowMs() - t0) / 1000;
      const batch: object[] = [];
      const dueBg = Math.floor(elapsed * background) - bg;
      for (let i = 0; i < dueBg; i++, bg++) {
        const s = others[bg % others.length] as string;
        batch.push({ kind: 'trade', symbol: s, ts: Date.now(), source: 'bench', id: `B${bg}`, price: 50 + (bg % 13), size: 10 });
      }
      const at = nowMs();
      if (Math.floor(elapsed * rate) > seq) {
        last = Math.round((last + ((seq * 7919) % 11 - 5) * 0.01) * 100) / 100;
        const id = `L${seq++}`;
        batch.push({ kind: 'trade', symbol: 'AAPL', ts: Math.floor(at), source: 'bench', id, price: last, size: 100 });
        handedAt.set(id, at);
      }
      if (batch.length > 0) {
        const p = platform.ingest.write(batch);
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await sleep(1);
    }
    await Promise.all(inflight);
    await sleep(1000);
    const painted = (await page.evaluate('window.__stockstreamProbe.ticks')) as { id: string; paintedAt: number }[];
    await ctx.close();
    const lat: number[] = [];
    for (const p of painted) {
      const h = handedAt.get(p.id);
      if (h !== undefined) lat.push(p.paintedAt - h);
    }
    lat.sort((a, b) => a - b);
    return {
      initialJsGzipBytes: sizes.reduce((a, b) => a + b, 0),
      initialJsFiles: sizes.length,
      firstCandleMs: { median: quantile(firsts, 0.5), max: firsts[firsts.length - 1] ?? Number.NaN, runs },
      tickToScreen: { count: lat.length, p50: quantile(lat, 0.5), p90: quantile(lat, 0.9), p99: quantile(lat, 0.99), max: lat[lat.length - 1] ?? Number.NaN, ratePerSec: rate, backgroundPerSec: background },
    };
  } finally {
    await browser?.close();
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
