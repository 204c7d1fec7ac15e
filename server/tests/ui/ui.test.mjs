// The dashboard (/ui/) of a real coordinated in a real browser: Debian's
// Chromium driven by playwright-core. Every check of the store goes through
// the API (target/release/examples/seed_ui), never through the page.
//
//   make test-ui        (or: cargo build --release -p coordinate-server --bin coordinated --example seed_ui
//                             && cd server/tests/ui && npm ci && node ui.test.mjs)
//
// Screenshots land in target/ui-test/ (UI_TEST_OUT overrides).

import { spawn, execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const BIN = process.env.COORDINATED || path.join(ROOT, 'target/release/coordinated');
const SEED = process.env.SEED_UI || path.join(ROOT, 'target/release/examples/seed_ui');
const OUT = process.env.UI_TEST_OUT || path.join(ROOT, 'target/ui-test');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STATUSES = ['available', 'pending', 'delayed', 'finished', 'failed'];

fs.mkdirSync(OUT, { recursive: true });
const daemons = [];
let browser = null;

// The whole run is bounded: a hung browser or daemon fails the test.
const deadline = setTimeout(() => {
  console.error('ui test: took longer than 240 s');
  cleanup().finally(() => process.exit(1));
}, 240_000);

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  for (const d of daemons) d.proc.kill('SIGTERM');
}

/** Starts coordinated on a free loopback port; resolves to {url, proc}. */
function startDaemon(extra = []) {
  const args = ['--listen', '127.0.0.1:0', '--store', 'memory:', '--ui-sample-seconds', '1',
    '--log-level', 'warn', ...extra];
  const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const d = { proc, url: null };
  daemons.push(d);
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${BIN} did not start: ${text}`)), 20_000);
    proc.on('exit', (code) => reject(new Error(`${BIN} exited with ${code}: ${text}`)));
    proc.stdout.on('data', (chunk) => {
      text += chunk;
      const m = /listening on (\S+)/.exec(text);
      if (m && !d.url) {
        clearTimeout(timer);
        d.url = `http://${m[1]}/`;
        resolve(d);
      }
    });
  });
}

/** Runs seed_ui against a daemon: the store as the API sees it. */
function api(url, args, env = {}) {
  return execFileSync(SEED, [url, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  }).trim();
}
const counts = (url, ns, spec, env) => JSON.parse(api(url, ['counts', ns, spec], env));

let passed = 0;
async function check(name, f) {
  await f();
  passed += 1;
  console.log(`ok - ${name}`);
}

async function text(page, selector) {
  return (await page.locator(selector).first().textContent()).trim();
}

/** Clicks an action's button, checks the confirmation page, confirms. */
async function confirmAction(page, formClass, question) {
  await page.locator(`form.${formClass} button[type=submit]`).click();
  await page.waitForSelector('#question');
  assert.match(await text(page, '#question'), question);
  await page.locator('#confirm').click();
  await page.waitForLoadState('load');
}

async function main() {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });

  // ---- a daemon with actions ----
  const main = await startDaemon();
  const url = main.url;
  assert.equal(api(url, ['seed']), 'seeded');
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await check('the overview loads and its counts match the store', async () => {
    const r = await page.goto(`${url}ui/`);
    assert.equal(r.status(), 200);
    assert.match(await page.title(), /namespaces/);
    for (const [ns, spec] of [['demo', 'ingest'], ['demo', 'render'], ['demo', 'report'], ['billing', 'invoices']]) {
      const store = counts(url, ns, spec);
      const row = `section[data-ns="${ns}"] tr[data-spec="${spec}"]`;
      for (const s of STATUSES) {
        assert.equal(Number(await text(page, `${row} td[data-status="${s}"]`)), store[s], `${ns}/${spec} ${s}`);
      }
      assert.equal(Number(await text(page, `${row} td[data-field="priority"]`)), store.priority);
      assert.equal((await text(page, `${row} td[data-field="paused"]`)) === 'paused', store.paused, `${spec} paused`);
    }
    assert.equal(counts(url, 'demo', 'ingest').failed, 10);
    assert.equal(counts(url, 'billing', 'invoices').paused, true);
  });

  await check('live updates: the page shows new work and rates without a reload', async () => {
    const before = counts(url, 'demo', 'ingest').finished;
    assert.equal(api(url, ['work', 'demo', 'ingest', '7']), '7');
    const cell = 'section[data-ns="demo"] tr[data-spec="ingest"] td[data-status="finished"]';
    await page.waitForFunction(
      ([sel, n]) => document.querySelector(sel)?.textContent.trim() === String(n),
      [cell, before + 7], { timeout: 20_000 });
    // The sampler (every second here) sees the 7 finishes as a rate.
    await page.waitForFunction(
      () => parseFloat(document.querySelector('section[data-ns="demo"] tr[data-spec="ingest"] td[data-rate="finished"]')?.textContent) > 0,
      null, { timeout: 20_000 });
    const points = Number(await page.locator('section[data-ns="demo"] figure.chart').getAttribute('data-points'));
    assert.ok(points >= 1, `chart points ${points}`);
    // A few seconds of steady work, for a chart worth a screenshot.
    for (let i = 0; i < 8; i += 1) {
      api(url, ['work', 'demo', 'ingest', String(2 + (i % 3))]);
      api(url, ['work', 'demo', 'render', String(i % 2)]);
      await new Promise((r) => setTimeout(r, 1100));
    }
    await page.reload();
    assert.match(await text(page, 'section[data-ns="demo"] figcaption'), /last \d+ s/);
    await page.screenshot({ path: path.join(OUT, 'dashboard.png') });
  });

  const spec = (ns, s, extra = '') => `${url}ui/spec?ns=${encodeURIComponent(ns)}&spec=${encodeURIComponent(s)}${extra}`;
  const rows = (p) => p.locator('#units tbody tr');

  await check('units are paged by name, and a name search narrows the list', async () => {
    await page.goto(spec('demo', 'ingest'));
    assert.equal(await rows(page).count(), 50);
    assert.equal(await rows(page).first().getAttribute('data-unit'), 'doc-000');
    await page.locator('#next').click();
    await page.waitForLoadState('load');
    assert.equal(await rows(page).first().getAttribute('data-unit'), 'doc-050');
    await page.goto(spec('demo', 'ingest'));
    await page.fill('#prefix', 'doc-01');
    await page.locator('#search').click();
    await page.waitForLoadState('load');
    const names = await rows(page).evaluateAll((trs) => trs.map((t) => t.dataset.unit));
    assert.deepEqual(names, Array.from({ length: 10 }, (_, i) => `doc-01${i}`));
    assert.equal(await page.locator('#next').count(), 0);
  });

  await check('a data key/value search and a status filter narrow the list', async () => {
    await page.goto(spec('demo', 'ingest'));
    await page.fill('#key', 'lang');
    await page.fill('#value', 'de');
    await page.locator('#search').click();
    await page.waitForLoadState('load');
    const names = await rows(page).evaluateAll((trs) => trs.map((t) => t.dataset.unit));
    // doc-i has lang de when i % 3 == 2; but doc-000..039 finished or failed
    // with attempt data, which is their data now (semantics 3.3.2).
    assert.deepEqual(names.slice(0, 3), ['doc-041', 'doc-044', 'doc-047']);
    assert.equal(names.length, 50);
    assert.match(await text(page, '#showing'), /read \d+ units/);
    await page.goto(spec('demo', 'ingest'));
    await page.selectOption('#status', 'failed');
    await page.locator('#search').click();
    await page.waitForLoadState('load');
    assert.equal(await rows(page).count(), counts(url, 'demo', 'ingest').failed);
    await page.screenshot({ path: path.join(OUT, 'spec.png'), fullPage: true });
  });

  await check('a unit named <script> renders inert', async () => {
    await page.goto(spec('demo', 'render', '&prefix=%3C'));
    const row = page.locator('#units tbody tr').first();
    assert.equal(await row.getAttribute('data-unit'), '<script>alert(1)</script>');
    assert.equal((await row.locator('a').textContent()).trim(), '<script>alert(1)</script>');
    await row.locator('a').click();
    await page.waitForLoadState('load');
    assert.equal(await text(page, '#unit-name'), '<script>alert(1)</script>');
    assert.equal(await page.locator('table.unit-data b').count(), 0);
    assert.match(await text(page, 'table.unit-data'), /<b>not bold<\/b>/);
    assert.deepEqual(dialogs, []);
  });

  let failedUnit;
  await check('a unit page shows data, meta and attempts with readable tracebacks', async () => {
    await page.goto(spec('demo', 'render', '&status=failed'));
    failedUnit = await rows(page).first().getAttribute('data-unit');
    await rows(page).first().locator('a').click();
    await page.waitForLoadState('load');
    assert.equal(await text(page, '#unit-status'), 'failed');
    // A failed unit shows its active attempt's data (semantics 3.3.2).
    assert.match(await text(page, 'table.unit-data'), /ValueError/);
    assert.equal(await page.locator('#attempts li.attempt').count(), 1);
    const tb = await text(page, '#attempts pre.traceback');
    assert.match(tb, /Traceback \(most recent call last\):\n {2}File "worker.py"/);
    assert.match(tb, /ValueError: bad <page> & co$/);
    await page.screenshot({ path: path.join(OUT, 'unit.png'), fullPage: true });
  });

  await check('retry one failed unit changes the store', async () => {
    await confirmAction(page, 'retry-unit', /Retry work unit/);
    assert.match(await text(page, '#done'), /retried/);
    assert.equal(api(url, ['status', 'demo', 'render', failedUnit]), 'available');
  });

  await check('retry all failed units matching the filter changes the store', async () => {
    const before = counts(url, 'demo', 'ingest');
    assert.ok(before.failed > 0);
    await page.goto(spec('demo', 'ingest', '&status=failed'));
    await page.locator('form.retry-failed button').click();
    await page.waitForSelector('#question');
    await page.screenshot({ path: path.join(OUT, 'confirm.png') });
    assert.match(await text(page, '#question'), /Retry every failed unit/);
    await page.locator('#confirm').click();
    await page.waitForLoadState('load');
    assert.match(await text(page, '#done'), new RegExp(`retried ${before.failed} failed units`));
    const after = counts(url, 'demo', 'ingest');
    assert.equal(after.failed, 0);
    assert.equal(after.available, before.available + before.failed);
  });

  await check('pause and resume change the store', async () => {
    assert.equal(counts(url, 'demo', 'ingest').paused, false);
    await page.goto(spec('demo', 'ingest'));
    await confirmAction(page, 'pause', /Pause work spec "ingest"/);
    assert.equal(counts(url, 'demo', 'ingest').paused, true);
    assert.equal(await text(page, '#meta td[data-field="paused"]'), 'yes');
    await confirmAction(page, 'resume', /Resume/);
    assert.equal(counts(url, 'demo', 'ingest').paused, false);
  });

  await check('cancel on the confirmation page changes nothing', async () => {
    await page.goto(spec('demo', 'ingest'));
    await page.locator('form.pause button').click();
    await page.locator('#cancel').click();
    await page.waitForLoadState('load');
    assert.equal(counts(url, 'demo', 'ingest').paused, false);
  });

  await check('priorities of a spec and of a unit change the store', async () => {
    await page.goto(spec('demo', 'report'));
    await page.fill('form.spec-priority input[name=priority]', '42');
    await confirmAction(page, 'spec-priority', /to 42\?/);
    assert.equal(counts(url, 'demo', 'report').priority, 42);
    await page.goto(`${url}ui/unit?ns=demo&spec=ingest&unit=doc-200`);
    await page.fill('form.unit-priority input[name=priority]', '7.5');
    await confirmAction(page, 'unit-priority', /doc-200/);
    assert.equal(await text(page, '#unit-priority'), '7.5');
  });

  await check('delete a unit changes the store', async () => {
    const before = counts(url, 'demo', 'ingest');
    await page.goto(`${url}ui/unit?ns=demo&spec=ingest&unit=doc-299`);
    await confirmAction(page, 'delete-unit', /Delete work unit "doc-299"/);
    assert.match(await text(page, '#done'), /deleted 1 unit/);
    assert.equal(counts(url, 'demo', 'ingest').available, before.available - 1);
  });

  await check('the worker tree shows parents, children, modes, heartbeats and attempts', async () => {
    await page.goto(`${url}ui/workers?ns=demo`);
    const child = page.locator('li[data-worker="host-a"] > ul > li[data-worker="host-a/2"]');
    assert.equal(await child.count(), 1);
    assert.match(await child.locator('[data-field=mode]').first().textContent(), /mode run/);
    assert.match(await child.locator('[data-field=attempts]').first().textContent(), /^5 active attempts$/);
    assert.match(await child.locator('[data-field=heartbeat]').first().textContent(), /ago/);
    assert.equal(await page.locator('li[data-worker="host-b"] > ul > li[data-worker="host-b/1"]').count(), 1);
    await page.screenshot({ path: path.join(OUT, 'workers.png'), fullPage: true });
  });

  await check('bad query parameters are a 400 naming the parameter', async () => {
    let r = await page.goto(spec('demo', 'ingest', '&limit=0'));
    assert.equal(r.status(), 400);
    assert.match(await text(page, '#error'), /limit "0"/);
    r = await page.goto(spec('demo', 'ingest', '&status=broken'));
    assert.equal(r.status(), 400);
    assert.match(await text(page, '#error'), /status "broken"/);
    r = await page.goto(spec('demo', 'nosuch'));
    assert.equal(r.status(), 404);
  });

  await check('an action without the form token or from another origin is refused', async () => {
    let r = await page.request.post(`${url}ui/action`, {
      form: { action: 'pause', ns: 'demo', spec: 'ingest', confirmed: 'yes' },
    });
    assert.equal(r.status(), 403);
    r = await page.request.post(`${url}ui/action`, {
      form: { action: 'pause', ns: 'demo', spec: 'ingest', confirmed: 'yes' },
      headers: { Origin: 'http://evil.example' },
    });
    assert.equal(r.status(), 403);
    assert.equal(counts(url, 'demo', 'ingest').paused, false);
    assert.deepEqual(pageErrors, []);
  });
  await context.close();

  // ---- a read-only daemon ----
  const ro = await startDaemon(['--ui-read-only']);
  api(ro.url, ['seed']);
  await check('read-only mode shows no actions and refuses them', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${ro.url}ui/spec?ns=demo&spec=ingest`);
    assert.equal(await p.locator('#read-only').count(), 1);
    assert.equal(await p.locator('form.action').count(), 0);
    await p.goto(`${ro.url}ui/unit?ns=demo&spec=ingest&unit=doc-003`);
    assert.equal(await p.locator('form.action').count(), 0);
    const r = await p.request.post(`${ro.url}ui/action`, {
      form: { action: 'pause', ns: 'demo', spec: 'ingest', confirmed: 'yes', csrf: 'x' },
    });
    assert.equal(r.status(), 403);
    assert.match(await r.text(), /read-only/);
    assert.equal(counts(ro.url, 'demo', 'ingest').paused, false);
    await ctx.close();
  });

  // ---- a daemon with a token ----
  const tokenFile = path.join(OUT, 'token.txt');
  const token = 'ui-test-token-4f1c2b';
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const tok = await startDaemon(['--token-file', tokenFile]);
  api(tok.url, ['seed'], { COORDINATE_TOKEN: token });
  await check('with a token the dashboard needs a login; the cookie is not the token', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${tok.url}ui/spec?ns=demo&spec=ingest`);
    assert.ok(p.url().endsWith('/ui/login'), p.url());
    await p.fill('#token', 'wrong');
    await p.locator('#login').click();
    await p.waitForLoadState('load');
    assert.match(await text(p, '#error'), /not this daemon's token/);
    await p.screenshot({ path: path.join(OUT, 'login.png') });
    await p.fill('#token', token);
    await p.locator('#login').click();
    await p.waitForLoadState('load');
    assert.ok(p.url().endsWith('/ui/'), p.url());
    const store = counts(tok.url, 'demo', 'ingest', { COORDINATE_TOKEN: token });
    assert.equal(Number(await text(p, 'section[data-ns="demo"] tr[data-spec="ingest"] td[data-status="available"]')), store.available);
    const cookies = await ctx.cookies();
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0].httpOnly, true);
    assert.equal(cookies[0].sameSite, 'Strict');
    assert.ok(!cookies[0].value.includes(token));
    // Logged in, actions work with the same token-derived session.
    await p.goto(`${tok.url}ui/spec?ns=demo&spec=ingest`);
    await confirmAction(p, 'pause', /Pause/);
    assert.equal(counts(tok.url, 'demo', 'ingest', { COORDINATE_TOKEN: token }).paused, true);
    // A fresh browser without the cookie is sent to the login page again.
    const other = await browser.newContext();
    const q = await other.newPage();
    await q.goto(`${tok.url}ui/`);
    assert.ok(q.url().endsWith('/ui/login'), q.url());
    const r = await q.request.post(`${tok.url}ui/action`, { form: { action: 'resume', ns: 'demo', spec: 'ingest' } });
    assert.equal(r.status(), 401);
    await other.close();
    await ctx.close();
  });
}

main()
  .then(async () => {
    clearTimeout(deadline);
    await cleanup();
    console.log(`ui test: ${passed} checks passed; screenshots in ${OUT}`);
  })
  .catch(async (e) => {
    clearTimeout(deadline);
    console.error(`not ok - ${e.stack || e}`);
    await cleanup();
    process.exit(1);
  });
