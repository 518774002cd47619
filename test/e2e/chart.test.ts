import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../../src/apps/platform.js';
import { loadConfig } from '../../src/shared/config/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { chromiumMissing, launchChromium } from '../fixtures/browser.js';
import { requireBuild, ROOT } from '../integration/helpers.js';

/**
 * The chart against a platform whose input the test writes itself (no simulator): event time is
 * the test's, watermarks follow it (no idle watermarks), so it can lay down 700 minutes of history
 * and then send a trade late for a candle already final. Checks what the simulator cannot show on
 * demand: scroll-back loading older candles, and a late revision applied to the candle it amends.
 */
const missing = chromiumMissing();
const SHOTS = resolve(ROOT, process.env['STOCKSTREAM_SCREENSHOT_DIR'] ?? 'test-results/screenshots');
const MINUTE = 60_000;
/** A Monday, minutes aligned; the platform's default calendar is the simulator's always-open one. */
const T0 = Date.parse('2025-03-03T00:00:00Z');

function trade(id: string, ts: number, price: number): object {
  return { kind: 'trade', symbol: 'AAPL', ts, source: 'test', id, price, size: 10 };
}

async function attr(page: Page, name: string): Promise<string | null> {
  return page.locator('[data-testid="chart"]').getAttribute(name);
}

describe.skipIf(missing !== null)(`chart in Chromium${missing === null ? '' : ` (${missing})`}`, () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let dir: string;

  beforeAll(async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'ss-e2e-chart-'));
    const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, 'lake.enabled': false, 'live.depths': { '1m': 2000, '1s': 120 } } });
    platform = await Platform.start({ config, logger: createLogger('silent'), acceptHistory: true, idleWatermarks: false, now: () => T0 + 800 * MINUTE });
    // 700 minutes, one trade each (a gentle wave, so the candles are visible), then one more minute to close the last.
    const history = Array.from({ length: 701 }, (_, i) => trade(`h${i}`, T0 + i * MINUTE + 1000, 100 + Math.sin(i / 20) * 3));
    await platform.ingest.write(history);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const until = async (what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('loads the newest 500 candles, and older ones when the user scrolls back to the start', async () => {
    await until('the 1m candles are in the store', async () => platform.store.candles('AAPL', '1m').length >= 700);
    await page.goto(`${platform.url}/#/symbol/AAPL?i=1m`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-candles') ?? 0) >= 500, undefined, { timeout: 15_000 });
    expect(Number(await attr(page, 'data-candles')), 'the first page is the newest 500').toBe(500);
    const box = await page.locator('[data-testid="chart"] canvas').first().boundingBox();
    if (box === null) throw new Error('the chart has no canvas');
    // Drag right, repeatedly: the view moves to older time until it reaches the loaded start.
    for (let i = 0; i < 8 && Number(await attr(page, 'data-candles')) < 701; i++) {
      await page.mouse.move(box.x + 100, box.y + box.height / 3);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width - 100, box.y + box.height / 3, { steps: 10 });
      await page.mouse.up();
      await page.waitForTimeout(300);
    }
    expect(Number(await attr(page, 'data-candles')), 'scrolling back loaded the older candles: every minute is on the chart').toBe(701);
    expect(Number(await attr(page, 'data-rsi-points')), 'indicators cover the older candles too: RSI 14 on all but the first 14 (TA-Lib’s lookback)').toBe(701 - 14);
    await page.waitForFunction(() => document.body.textContent?.includes('the start of the available history') === true, undefined, { timeout: 10_000 });
  }, 60_000);

  it('shows the values under the crosshair: the hovered candle’s OHLCV and indicators, the newest one otherwise', async () => {
    // The pointer off the chart (the previous test left it there).
    await page.mouse.move(1, 1);
    await page.goto(`${platform.url}/#/symbol/AAPL?i=1m`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-candles') ?? 0) >= 500, undefined, { timeout: 15_000 });
    const legend = page.locator('.legend');
    await page.waitForFunction(() => document.querySelector('.legend')?.textContent?.includes('RSI') === true, undefined, { timeout: 10_000 });
    expect(await legend.textContent(), 'unhovered, the legend is the newest (forming) candle').toMatch(/forming/);
    const box = await page.locator('[data-testid="chart"] canvas').first().boundingBox();
    if (box === null) throw new Error('the chart has no canvas');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 4);
    await page.waitForFunction(() => !(document.querySelector('.legend')?.textContent ?? 'forming').includes('forming'), undefined, { timeout: 5000 });
    const text = (await legend.textContent()) ?? '';
    expect(text, 'a hovered final candle shows its open, high, low, close, volume and RSI').toMatch(/O [\d.,]+.*H [\d.,]+.*L [\d.,]+.*C [\d.,]+.*V [\d.,]+.*RSI [\d.]+/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'symbol-history.png') });
  }, 60_000);

  it('lists a rejected event with the field, the value and the rule it broke', async () => {
    await platform.ingest.write([{ kind: 'trade', symbol: 'AAPL', ts: T0 + 10 * MINUTE, source: 'test', id: 'bad-1', price: -5, size: 10 }]);
    await page.goto(`${platform.url}/#/alerts`);
    const row = page.locator('table tbody tr', { hasText: 'bad' }).or(page.locator('table tbody tr', { hasText: '-5' })).first();
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5), 'the ingest channel, field, value and rule of the dead letter').toEqual([platform.config.source, 'price', '-5', expect.stringMatching(/\w+/)]);
    expect(cells[5], 'the reason says what was expected').toMatch(/price/i);
  }, 30_000);

  it('applies a late revision to the candle it amends, in place, without adding a candle', async () => {
    await page.goto(`${platform.url}/#/symbol/AAPL?i=1m`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-candles') ?? 0) >= 500, undefined, { timeout: 15_000 });
    await page.waitForSelector('.conn[data-state="open"]');
    const count = await attr(page, 'data-candles');
    const lastBefore = await attr(page, 'data-last-candle');
    // Minute 700 is forming; the watermark is at its first trade. A trade for minute 699 lands
    // within the allowed lateness (2 s behind the watermark): minute 699 is amended with rev 1.
    const amended = T0 + 699 * MINUTE;
    await platform.ingest.write([trade('late-1', T0 + 700 * MINUTE - 500, 250)]);
    await page.waitForFunction((want) => document.querySelector('[data-testid="chart"]')?.getAttribute('data-last-rev') === want, `${amended}:1`, { timeout: 10_000 });
    expect(await attr(page, 'data-candles'), 'a revision replaces its candle: the count stays').toBe(count);
    expect(await attr(page, 'data-last-candle'), 'the newest candle is still the forming one').toBe(lastBefore);
    const stored = platform.store.candles('AAPL', '1m').find((c) => c.start === amended);
    expect(stored, 'the server amended that minute: high 250, rev 1').toMatchObject({ high: 250, rev: 1 });
  }, 60_000);
});
