import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from '../fixtures/browser.js';
import { freePort } from '../fixtures/postgres.js';
import { testSeed } from '../fixtures/random.js';
import { requireBuild, ROOT } from '../integration/helpers.js';
import { PlatformProcess } from './platform-process.js';

/**
 * The dashboard end to end (issue 5): `stockstream up` with the simulator as a child process,
 * the built web app in Debian's Chromium through playwright-core. Every view is screenshotted
 * into STOCKSTREAM_SCREENSHOT_DIR (default test-results/screenshots; docs/screenshots holds the
 * committed set, made with STOCKSTREAM_SCREENSHOT_DIR=docs/screenshots).
 */
const missing = chromiumMissing();
const SHOTS = resolve(ROOT, process.env['STOCKSTREAM_SCREENSHOT_DIR'] ?? 'test-results/screenshots');
const seed = testSeed(5005);

/** Candle colours of the dark theme (web/src/styles.css --up / --down). */
const UP = [0x26, 0xa6, 0x9a];
const DOWN = [0xef, 0x53, 0x50];

function colourPixels(png: Buffer, rgb: number[], tolerance = 40): number {
  const img = PNG.sync.read(png);
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const d = Math.abs((img.data[i] ?? 0) - (rgb[0] ?? 0)) + Math.abs((img.data[i + 1] ?? 0) - (rgb[1] ?? 0)) + Math.abs((img.data[i + 2] ?? 0) - (rgb[2] ?? 0));
    if (d <= tolerance) n++;
  }
  return n;
}

async function shot(page: Page, name: string): Promise<Buffer> {
  mkdirSync(SHOTS, { recursive: true });
  return page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** A numeric attribute of the first element matching `selector`, or null. */
async function attr(page: Page, selector: string, name: string): Promise<string | null> {
  return page.locator(selector).first().getAttribute(name);
}

describe.skipIf(missing !== null)(`dashboard in Chromium${missing === null ? '' : ` (${missing})`}`, () => {
  let browser: Browser;
  let page: Page;
  let platform: PlatformProcess;
  let dataDir: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    requireBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'ss-e2e-'));
    platform = new PlatformProcess(await freePort(), dataDir, { STOCKSTREAM_SIMULATOR__SEED: String(seed), STOCKSTREAM_SIMULATOR__RATE_PER_SEC: '400' });
    await platform.start();
    browser = await launchChromium();
    // Dark, the dashboard's default without a system preference; the phone test covers light.
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the overview lists every symbol with live KPIs, each exchange’s status, the treemap and the movers', async () => {
    const requests: string[] = [];
    const onRequest = (r: { url(): string }): void => {
      requests.push(new URL(r.url()).pathname);
    };
    page.on('request', onRequest);
    await page.goto(`${platform.url}/`);
    await page.waitForFunction(() => document.querySelectorAll('table.watchlist tbody tr[data-symbol]').length >= 30, undefined, { timeout: 20_000 });
    const rows = await page.locator('table.watchlist tbody tr[data-symbol]').count();
    expect(rows, `seed ${seed}: the simulator's default universe (≥ 20 US and 10 Vietnamese symbols) is listed`).toBeGreaterThanOrEqual(30);
    await page.waitForFunction(() => /\d/.test(document.querySelector('tr[data-symbol="AAPL"] td[data-col="last"]')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const exchanges = await page.locator('.market[data-exchange]').evaluateAll((els) => els.map((e) => e.getAttribute('data-exchange')));
    expect(exchanges, 'every exchange of the universe has a status card').toEqual(expect.arrayContaining(['NASDAQ', 'NYSE', 'HOSE']));
    await page.waitForSelector('.treemap canvas', { timeout: 20_000 });
    await page.waitForFunction(() => (document.querySelectorAll('.movers li').length ?? 0) >= 5, undefined, { timeout: 20_000 });
    // Sparklines: drawn for the rows, from two /api/sparklines answers rather than a request per symbol.
    await page.waitForFunction(() => {
      const c = document.querySelector('tr[data-symbol="AAPL"] canvas.spark') as HTMLCanvasElement | null;
      const g = c?.getContext('2d');
      if (!c || !g || c.width === 0) return false;
      const d = g.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if ((d[i] ?? 0) > 0) return true;
      return false;
    }, undefined, { timeout: 20_000 });
    page.off('request', onRequest);
    expect(requests.filter((p) => p === '/api/sparklines').length, 'one request per sparkline interval').toBe(2);
    expect(requests.filter((p) => p === '/api/candles').length, 'no request per row').toBe(0);

    // Sorting by change puts the highest change first; search narrows the rows.
    await page.getByRole('button', { name: 'Chg %' }).click();
    expect(await attr(page, 'th[aria-sort="descending"] button', 'type'), 'the sorted column says so to screen readers').toBe('button');
    await page.getByRole('searchbox', { name: 'Search the watchlist' }).fill('hpg');
    await page.waitForFunction(() => [...document.querySelectorAll('table.watchlist tbody tr[data-symbol]')].filter((r) => !(r as HTMLElement).hidden).length === 1);
    await page.getByRole('searchbox', { name: 'Search the watchlist' }).fill('');
    await page.waitForTimeout(1500);
    await shot(page, 'overview');
  }, 60_000);

  it('the chart draws candles, and a new tick and a new candle arrive live', async () => {
    await page.goto(`${platform.url}/#/symbol/AAPL?i=1s`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-candles') ?? 0) >= 5, undefined, { timeout: 20_000 });
    await page.waitForTimeout(500);
    const png = await page.locator('[data-testid="chart"]').screenshot();
    const coloured = colourPixels(png, UP) + colourPixels(png, DOWN);
    expect(coloured, `seed ${seed}: the chart's canvas shows candle bodies in the up/down colours (a blank or broken chart has none)`).toBeGreaterThan(200);

    const tickTs = await attr(page, '[data-testid="last-price"]', 'data-ts');
    await page.waitForFunction((before) => {
      const now = document.querySelector('[data-testid="last-price"]')?.getAttribute('data-ts');
      return now !== null && now !== undefined && now !== before;
    }, tickTs, { timeout: 10_000 });
    const lastCandle = Number(await attr(page, '[data-testid="chart"]', 'data-last-candle'));
    await page.waitForFunction((before) => Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-last-candle')) > before, lastCandle, { timeout: 10_000 });
    await shot(page, 'symbol-1s');
  }, 60_000);

  it('switching interval reloads the chart with that interval’s candles, with overlays and indicator panes', async () => {
    const request = page.waitForRequest((r) => r.url().includes('/api/candles') && r.url().includes('interval=1m'));
    await page.getByRole('button', { name: '1m', exact: true }).click();
    await request;
    await page.waitForFunction(() => document.querySelector('[data-testid="chart"]')?.getAttribute('data-interval') === '1m' && Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-candles') ?? 0) >= 1, undefined, { timeout: 15_000 });
    expect(page.url(), 'the interval is in the address, so a reload or a shared link keeps it').toContain('i=1m');
    expect(await page.getByRole('button', { name: '1m', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await page.locator('input[data-overlay="ema"]').check();
    await page.waitForTimeout(1000);
    await shot(page, 'symbol-1m');
  }, 60_000);

  it('the SQL console returns rows, exports CSV, and shows a clear error for bad SQL', async () => {
    await page.goto(`${platform.url}/#/sql`);
    const editor = page.getByTestId('sql-editor');
    await editor.fill('SELECT 41 + 1 AS answer, \'x,y\' AS tricky');
    await page.getByTestId('sql-run').click();
    await page.waitForSelector('[data-testid="sql-result"] table', { timeout: 15_000 });
    expect(await page.locator('[data-testid="sql-result"] th').allTextContents()).toEqual(['answer', 'tricky']);
    expect(await page.locator('[data-testid="sql-result"] td').allTextContents()).toEqual(['42', 'x,y']);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await (await download).path();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(file, 'utf8'), 'CSV quotes a value with a comma (RFC 4180)').toBe('answer,tricky\r\n42,"x,y"\r\n');
    await shot(page, 'sql');

    await editor.fill('SELEC nonsense FROM nowhere');
    await editor.press('Control+Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 15_000 });
    const text = (await alert.textContent()) ?? '';
    expect(text, 'the error says the query failed and carries the server’s reason').toMatch(/The query failed/);
    expect(text.toLowerCase(), 'the server’s reason names the problem').toMatch(/syntax|parser|selec/);
    await shot(page, 'sql-error');
  }, 60_000);

  it('pipeline health shows throughput per stage, components and topics; the topic browser shows a partition’s tail', async () => {
    await page.goto(`${platform.url}/#/pipeline`);
    await page.waitForSelector('[data-stage="ingest"] .value', { timeout: 15_000 });
    await page.waitForFunction(() => /[1-9]/.test(document.querySelector('[data-stage="ingest"] .value')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await page.waitForSelector('table a[href="#/topics/ticks"]', { timeout: 15_000 });
    await page.waitForSelector('[data-testid="consumer-lag"] table tbody tr', { timeout: 15_000 });
    expect(await page.locator('[data-testid="consumer-lag"] table tbody tr').count(), 'log lag is shown for each of the ticks topic’s 4 partitions').toBe(4);
    // A lake run announces itself on the `refresh` channel: its row appears without waiting for the 10 s poll.
    const run = (await (await fetch(`${platform.url}/api/jobs/lake.incremental/run`, { method: 'POST' })).json()) as { status: string; runId: number };
    expect(run.status, 'the manual lake run succeeded').toBe('success');
    await page.waitForFunction((id) => [...document.querySelectorAll('table tbody tr')].some((tr) => tr.textContent?.startsWith(`lake.incremental${id}`)), run.runId, { timeout: 3000 });
    await page.waitForTimeout(1500);
    await shot(page, 'pipeline');

    await page.goto(`${platform.url}/#/topics`);
    await page.click('a[data-topic="ticks"]');
    await page.waitForSelector('[data-testid="messages"] table tbody tr', { timeout: 15_000 });
    const first = await page.locator('[data-testid="messages"] details summary').first().textContent();
    expect(first, 'tick values are shown as JSON').toMatch(/"symbol"/);
    await shot(page, 'topics');

    await page.goto(`${platform.url}/#/alerts`);
    await page.waitForFunction(() => !document.body.textContent?.includes('Loading…'), undefined, { timeout: 15_000 });
    await shot(page, 'alerts-rejects');
  }, 60_000);

  it('works at phone width in the light theme, by keyboard', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'light' });
    try {
      await phone.goto(`${platform.url}/`);
      await phone.waitForFunction(() => document.querySelectorAll('table.watchlist tbody tr[data-symbol]').length >= 30, undefined, { timeout: 20_000 });
      expect(await phone.evaluate(() => document.documentElement.dataset['theme']), 'the system’s light preference is followed').toBe('light');
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, 'nothing spills sideways at phone width').toBeLessThanOrEqual(1);
      await phone.waitForTimeout(1000);
      await shot(phone, 'overview-phone-light');
      // Keyboard: Tab reaches the navigation and Enter follows a link.
      await phone.focus('nav a[data-view="sql"]');
      await phone.keyboard.press('Enter');
      await phone.waitForSelector('[data-testid="sql-editor"]', { timeout: 10_000 });
      await phone.goto(`${platform.url}/#/symbol/VNM?i=1s`);
      await phone.waitForFunction(() => Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-candles') ?? 0) >= 3, undefined, { timeout: 20_000 });
      await phone.waitForTimeout(800);
      await shot(phone, 'symbol-phone-light');
    } finally {
      await phone.close();
    }
  }, 60_000);

  it('shows the lost connection and recovers by itself after the server restarts', async () => {
    await page.goto(`${platform.url}/#/symbol/MSFT?i=1s`);
    await page.waitForSelector('.conn[data-state="open"]', { timeout: 15_000 });
    await platform.stop();
    await page.waitForSelector('.conn[data-state="reconnecting"]', { timeout: 15_000 });
    expect(await page.locator('.conn').textContent(), 'the badge says it is retrying and when').toMatch(/Reconnecting in/);
    await shot(page, 'reconnecting');
    await platform.start();
    await page.waitForSelector('.conn[data-state="open"]', { timeout: 30_000 });
    const before = await attr(page, '[data-testid="last-price"]', 'data-ts');
    await page.waitForFunction((b) => {
      const now = document.querySelector('[data-testid="last-price"]')?.getAttribute('data-ts');
      return now !== null && now !== undefined && now !== b;
    }, before, { timeout: 15_000 });
    expect(consoleErrors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e)), 'no script errors on any page (connection errors while the server is down are expected)').toEqual([]);
  }, 90_000);
});
