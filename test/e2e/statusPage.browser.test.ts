import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { edgeFleet } from '../support/edgeFleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';

/**
 * The status page as a person sees it, in Debian's Chromium, headless, over the page that the
 * built CLI serves against the fake, behind a route prefix as behind a reverse proxy: cluster
 * rows, a skipped container's reason, the filter, and every link.
 * .ci/run installs Debian's chromium package; elsewhere the test is skipped, loudly. Playwright
 * drives that Chromium and never downloads a browser of its own.
 */
const CHROMIUM = '/usr/bin/chromium';
const installed = existsSync(CHROMIUM);
if (!installed) {
  if (process.env['CI']) throw new Error(`${CHROMIUM} is missing in CI: .ci/run should have installed Debian's chromium package`);
  console.warn(`\n*** SKIPPING the status page browser test: ${CHROMIUM} is not installed (apt-get install chromium) ***\n`);
}

let fake: FakeAws;
let discoverer: RunningDiscoverer;
let browser: BrowserContext;
let page: Page;
let profileDir: string;
let outputDir: string;
let base: string;
const problems: string[] = [];
/** Served under a prefix, as behind a reverse proxy: every link must stay under it. */
const PREFIX = '/ecs';

const visibleTexts = (selector: string) => page.locator(`${selector} >> visible=true`).allInnerTexts();

describe.skipIf(!installed)('the status page in a browser', () => {
  beforeAll(async () => {
    assertBuilt();
    fake = new FakeAws(edgeFleet());
    await fake.start();
    outputDir = await mkdtemp(join(tmpdir(), 'discoverer-browser-'));
    const port = await freePort();
    // A long interval: the page reloads itself every 30 s at most, which this test never waits for.
    discoverer = new RunningDiscoverer(
      ['--interval', '60', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port), '--web.route-prefix', PREFIX],
      fakeAwsEnv(fake.url),
    );
    await discoverer.waitForRounds(1);

    profileDir = await mkdtemp(join(tmpdir(), 'discoverer-chromium-'));
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    base = `http://127.0.0.1:${port}${PREFIX}/`;
    await page.goto(base);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await discoverer?.stop('SIGTERM');
    await fake?.stop();
    for (const dir of [profileDir, outputDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows a row per cluster, linked to its targets, and ages', async () => {
    const rows = await visibleTexts('table.clusters tbody tr');
    const link = page.locator('table.clusters a', { hasText: 'batch' }).first();

    expect(rows.map((row) => row.split('\t').slice(0, 3).join(' '))).toEqual(['123456789012 eu-west-1 batch', '123456789012 eu-west-1 empty', '123456789012 eu-west-1 prod']);
    expect(await link.getAttribute('href')).toBe('targets?cluster=batch&region=eu-west-1&account=123456789012');
    expect(await page.locator('table.clusters time').first().innerText()).toMatch(/^\d+ s ago$/);
    expect(await page.locator('#refreshed').innerText()).toMatch(/^Page loaded \d+ s ago; reloads every 30 s\.$/);
  });

  it("shows a skipped container's reason, and its tasks when opened", async () => {
    const group = page.locator('details.skip', { hasText: 'no_port_binding' });

    expect(await group.locator('summary').innerText()).toMatch(/^1 × no_port_binding: .*container envoy of /);
    expect(await group.locator('table').isVisible()).toBe(false);
    await group.locator('summary').click();
    expect(await group.locator('tbody tr').first().innerText()).toMatch(/^prod\t\S+/);
    await group.locator('summary').click();
  });

  it('hides the target rows that do not match the filter, and shows them again when it is cleared', async () => {
    const before = await visibleTexts('table.targets tbody tr');

    await page.locator('#filter').fill('127.0.20.1:9200');
    const filtered = await visibleTexts('table.targets tbody tr');
    const matches = await page.locator('#matches').innerText();
    const refreshed = await page.locator('#refreshed').innerText();
    const otherCluster = await page.locator('details.cluster', { hasText: 'batch' }).isVisible();
    await page.locator('#filter').fill('');
    const cleared = await visibleTexts('table.targets tbody tr');

    // This fleet's 156 targets are few enough for every cluster's list to start open.
    expect(before).toHaveLength(156);
    expect(filtered).toHaveLength(1);
    expect(filtered[0]).toMatch(/^127\.0\.20\.1:9200\t30s\t/);
    expect(matches).toBe('1 target matches');
    expect(otherCluster, 'a cluster without a match is hidden').toBe(false);
    expect(refreshed).toContain('reloading paused while you filter');
    expect(cleared).toEqual(before);
  });

  it('has only links that work behind the prefix, each under it', async () => {
    // Each link as the browser resolves it (against the page's URL and its <base>).
    const resolved: string[] = await page.locator('a[href]').evaluateAll((links): string[] => links.map((link) => String((link as unknown as { href: string }).href)));
    const hrefs = [...new Set(resolved)];
    const answers = await Promise.all(hrefs.map(async (href) => `${(await fetch(href)).status} ${href}`));

    expect(hrefs.length).toBeGreaterThan(5);
    expect(hrefs.filter((href) => !href.startsWith(base))).toEqual([]);
    expect(answers.filter((answer) => !answer.startsWith('200 '))).toEqual([]);
  });

  it('counts the targets per shard from the form, behind the prefix', async () => {
    const shards = await browser.newPage();
    await shards.goto(base);
    await shards.locator('input[name="shards"]').fill('2');
    await Promise.all([shards.waitForURL(`${base}?shards=2`), shards.locator('form:has(input[name="shards"]) button').click()]);

    expect(await shards.locator('#shards ~ table a').allInnerTexts()).toEqual(['0', '1']);
    await shards.close();
  });

  it('fits 1,280 px without scrolling sideways, and runs its script without a single error', async () => {
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');

    expect(width).toBeLessThanOrEqual(1280);
    expect(problems).toEqual([]);
  });
});
