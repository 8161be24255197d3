import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { report } from '@forage/census';
import { type Browser, chromium } from 'playwright-core';
import { CHART_NAMES, hostileCensus } from './fixtures/analyze/hostile.ts';
import { STUDY_FILE } from './shared-data.ts';

const SMALL = fileURLToPath(new URL('./fixtures/analyze/census-small', import.meta.url));
const CHROMIUM = process.env.FORAGE_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots land here (git-ignored) so a person can look at them after the run. */
const SHOTS = fileURLToPath(new URL('../../../test-output/census-report/', import.meta.url));

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-extensions',
      '--no-first-run',
    ],
  });
}

interface PageCheck {
  problems: string[];
  requests: string[];
  dialogs: string[];
}

async function openReport(
  browser: Browser,
  file: string,
  options: { width: number; height: number; js: boolean },
) {
  const context = await browser.newContext({
    viewport: { width: options.width, height: options.height },
    javaScriptEnabled: options.js,
  });
  const page = await context.newPage();
  const seen: PageCheck = { problems: [], requests: [], dialogs: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      seen.problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (r.url() !== pathToFileURL(file).href) seen.requests.push(r.url());
  });
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
  return { context, page, seen };
}

const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`;

test('report.html in headless Chromium: no console errors, no requests, every chart drawn, readable on a phone', {
  skip,
}, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'forage-browser-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const { files } = await report(SMALL, { outDir: out, compare: STUDY_FILE });
  const browser = await launch();
  t.after(() => browser.close());

  // Desktop, with JavaScript on (there is none to run; the CSP would block it anyway).
  const desk = await openReport(browser, files.html, { width: 1280, height: 900, js: true });
  assert.deepEqual(desk.seen.problems, []);
  assert.deepEqual(desk.seen.requests, []);
  const charts = await desk.page.$$eval('figure[data-chart]', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      return {
        name: f.getAttribute('data-chart'),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        marks: svg ? svg.querySelectorAll('path, rect, line, text').length : 0,
        table: f.parentElement?.querySelector('table') !== null,
      };
    }),
  );
  assert.deepEqual(
    charts.map((c) => c.name),
    CHART_NAMES,
  );
  for (const c of charts) {
    assert.ok(c.width > 150 && c.height > 50, `${c.name} drawn at ${c.width}x${c.height}`);
    assert.ok(c.marks > 10, `${c.name} has marks`);
    assert.ok(c.table, `${c.name} has its table beside it`);
  }
  mkdirSync(SHOTS, { recursive: true });
  await desk.page.screenshot({ path: join(SHOTS, 'desktop.png'), fullPage: true });
  t.diagnostic(`screenshot: ${join(SHOTS, 'desktop.png')}`);
  await desk.context.close();

  // A phone, JavaScript off: the same page, nothing wider than the screen but scrollable tables.
  const phone = await openReport(browser, files.html, { width: 390, height: 844, js: false });
  assert.deepEqual(phone.seen.problems, []);
  // A string, evaluated in the page (the test is type-checked without the DOM library).
  const overflow = Number(
    await phone.page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
  );
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a phone`);
  assert.ok((await phone.page.textContent('h1'))?.includes('GitHub repositories'));
  await phone.page.screenshot({ path: join(SHOTS, 'phone.png'), fullPage: false });
  await phone.context.close();
});

test('a report of hostile names runs no script in Chromium', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forage-browser-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  hostileCensus(dir);
  const { files } = await report(dir, { outDir: join(dir, 'out'), top: 20 });
  const browser = await launch();
  t.after(() => browser.close());
  const { page, seen, context } = await openReport(browser, files.html, {
    width: 1280,
    height: 900,
    js: true,
  });
  assert.deepEqual(seen.dialogs, []);
  assert.deepEqual(seen.requests, []);
  assert.deepEqual(seen.problems, []);
  assert.equal(await page.locator('script, img, iframe').count(), 0);
  // The names are on the page as text.
  assert.ok((await page.textContent('body'))?.includes('<script>alert(1)</script>'));
  await context.close();
});
