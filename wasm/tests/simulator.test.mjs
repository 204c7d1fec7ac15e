// The capacity-planning simulator (examples/simulator): the simulation core
// in Node (determinism, weights, priorities, max_running, retries, bad
// settings), then the page in headless Chromium with the web build, whose
// figures must equal a Node run of the same seed and settings.
// Needs Debian's chromium (scripts/wasm-toolchain.sh --chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import * as api from '../pkg-node/index.js';
import { DAY, HOUR, PRESETS, SettingsError, drawDuration, exp, ln, normalizeSettings, presetSettings, rng, shortened, simulate } from '../../examples/simulator/sim.mjs';
import { serve, PAGE } from '../../examples/simulator/serve.mjs';
import { CHROMIUM, launch } from '../../examples/simulator/chromium.mjs';

const RUNNER = fileURLToPath(new URL('../../examples/simulator/run.mjs', import.meta.url));

/** Settings with one spec per entry of `specs` (fields over a plain default) and `workers` workers. */
function settingsOf({ specs, workers = 10, hours = 4, seed = 3, fleet = null }) {
  return {
    seed,
    hours,
    sampleMinutes: 10,
    leaseMinutes: 15,
    pollSeconds: 10,
    specs: specs.map((s) => ({
      priority: 0, weight: 20, maxRunning: 0, failureRate: 0, maxRetries: 0, retryDelaySeconds: 0,
      ...s,
      arrival: { pattern: 'none', perHour: 0, burst: 0, everyMinutes: 60, initial: 0, ...s.arrival },
      duration: { dist: 'fixed', meanSeconds: 60, spread: 0, ...s.duration },
    })),
    fleet: fleet ?? [{ name: 'pool', count: workers, speed: 1, specs: [] }],
  };
}

test('ln and exp agree with Math.log and Math.exp to a few ulps', () => {
  const random = rng(11);
  for (let i = 0; i < 2000; i += 1) {
    const x = random() * 1000 + 1e-9;
    const rel = Math.abs(ln(x) - Math.log(x)) / Math.max(1, Math.abs(Math.log(x)));
    assert.ok(rel < 4e-16, `ln(${x}) = ${ln(x)}, Math.log gives ${Math.log(x)}`);
    const y = random() * 80 - 40;
    assert.ok(Math.abs(exp(y) / Math.exp(y) - 1) < 1e-15, `exp(${y}) = ${exp(y)}, Math.exp gives ${Math.exp(y)}`);
  }
  assert.equal(ln(1), 0);
  assert.equal(exp(0), 1);
  assert.throws(() => ln(0), RangeError);
});

test('duration distributions have the configured mean', () => {
  const random = rng(5);
  const n = 20_000;
  for (const [dist, spread] of [['fixed', 0], ['uniform', 0.5], ['exponential', 0], ['lognormal', 0.8]]) {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i += 1) {
      const d = drawDuration(random, { dist, meanSeconds: 10, spread });
      sum += d;
      sq += d * d;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sq / n - mean * mean);
    // five standard errors of the mean
    assert.ok(Math.abs(mean - 10_000) <= 5 * (sd / Math.sqrt(n)) + 1, `${dist}: mean ${mean} ms, expected 10000 (sd ${sd})`);
    if (dist === 'fixed') assert.equal(sd, 0);
  }
});

test('the same seed gives the same run; another seed another run', () => {
  const settings = shortened(presetSettings('priority-and-weights', 7));
  const a = simulate(api, settings);
  const b = simulate(api, settings);
  assert.deepEqual(a, b);
  assert.ok(a.summary.finished > 100, `only ${a.summary.finished} finished`);
  const c = simulate(api, { ...settings, seed: 8 });
  assert.notDeepEqual(c.summary, a.summary);
});

test('the Node runner prints the same figures as the core', () => {
  const out = execFileSync(process.execPath, [RUNNER, '--preset', 'max-running', '--seed', '4', '--short', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.deepEqual(JSON.parse(out), JSON.parse(JSON.stringify(simulate(api, shortened(presetSettings('max-running', 4))))));
  const text = execFileSync(process.execPath, [RUNNER, '--preset', 'max-running', '--seed', '4', '--short'], { encoding: 'utf8', timeout: 120_000 });
  assert.match(text, /^Coordinate simulator: seed 4, 20 workers, 2 simulated hours/);
  assert.match(text, /^api-calls /m);
});

test('equal-priority specs share busy workers by weight', () => {
  // Two large backlogs of fixed one-minute tasks on a saturated fleet.
  const { summary } = simulate(api, settingsOf({
    workers: 40,
    hours: 6,
    specs: [
      { name: 'heavy', weight: 30, arrival: { initial: 50_000 } },
      { name: 'light', weight: 10, arrival: { initial: 50_000 } },
    ],
  }));
  const [heavy, light] = summary.specs;
  assert.ok(heavy.queued > 0 && light.queued > 0, 'a backlog ran out; the test needs both saturated');
  assert.equal(heavy.weightShare, 0.75);
  // The scheduler aims the pending counts at the weights; with 40 workers
  // the share of one sample moves in steps of 1/40, and the starts are
  // random draws: allow five binomial standard errors over all starts.
  const starts = heavy.started + light.started;
  const tolerance = 5 * Math.sqrt((0.75 * 0.25) / starts) + 1 / 40;
  assert.ok(Math.abs(heavy.groupShare - 0.75) < tolerance, `heavy got ${heavy.groupShare} of the busy workers, weight share 0.75 ± ${tolerance}`);
  assert.ok(Math.abs(heavy.started / starts - 0.75) < tolerance, `heavy got ${heavy.started} of ${starts} starts`);
});

test('high-priority units wait less than the backlog under them', () => {
  const { summary, series } = simulate(api, settingsOf({
    workers: 20,
    hours: 6,
    specs: [
      { name: 'urgent', priority: 5, weight: 1, arrival: { pattern: 'bursty', burst: 30, everyMinutes: 30 }, duration: { meanSeconds: 20 } },
      { name: 'batch', priority: 0, weight: 100, arrival: { initial: 20_000 }, duration: { dist: 'exponential', meanSeconds: 120 } },
    ],
  }));
  const [urgent, batch] = summary.specs;
  assert.equal(urgent.high, true);
  assert.equal(batch.high, false);
  assert.equal(urgent.arrived, 12 * 30);
  assert.ok(urgent.finished >= 11 * 30, `urgent finished ${urgent.finished}`);
  assert.ok(batch.queued > 0);
  // A burst waits only for the workers to come back from batch tasks
  // (2 minutes on average): far below a batch unit's wait in the backlog.
  assert.ok(urgent.waitP95 < batch.waitP50, `urgent p95 ${urgent.waitP95}s, batch p50 ${batch.waitP50}s`);
  assert.ok(urgent.waitP95 < 15 * 60, `urgent p95 ${urgent.waitP95}s`);
  assert.equal(series.waitP50.length, series.t.length);
  assert.ok(series.waitP95.some((x) => x !== null));
});

test('max_running caps a spec; a worker group restricted to specs works only on them', () => {
  const { summary } = simulate(api, settingsOf({
    hours: 3,
    specs: [
      { name: 'capped', weight: 100, maxRunning: 3, arrival: { initial: 5000 } },
      { name: 'other', weight: 1, arrival: { initial: 5000 } },
      { name: 'special', weight: 1, priority: -1, arrival: { initial: 5000 } },
    ],
    fleet: [
      { name: 'pool', count: 10, speed: 1, specs: ['capped', 'other'] },
      { name: 'only-special', count: 2, speed: 2, specs: ['special'] },
    ],
  }));
  const [capped, other, special] = summary.specs;
  // At most 3 of the 12 workers at any time: one-minute tasks, 3 hours.
  assert.ok(capped.finished <= 3 * 180, `capped finished ${capped.finished}`);
  assert.ok(capped.fleetShare <= 3 / 12 + 1e-9, `capped used ${capped.fleetShare} of the fleet`);
  assert.ok(capped.finished >= 3 * 170, `capped finished only ${capped.finished}`);
  // 'special' has the lowest priority but its own two workers (twice as fast).
  assert.ok(special.finished >= 2 * 2 * 170, `special finished ${special.finished}`);
  assert.ok(other.finished >= 7 * 170, `other finished ${other.finished}`);
});

test('failures are retried after the delay, and fail for good after max_retries', () => {
  const { summary } = simulate(api, settingsOf({
    hours: 4,
    specs: [{ name: 'flaky', failureRate: 0.5, maxRetries: 2, retryDelaySeconds: 30, arrival: { initial: 400 }, duration: { meanSeconds: 10 } }],
  }));
  const [flaky] = summary.specs;
  assert.equal(flaky.arrived, 400);
  assert.equal(flaky.queued + flaky.pending, 0, 'work was left');
  assert.equal(flaky.finished + flaky.failed, 400);
  // max_retries 2: a unit is delivered at most twice, so it fails for good
  // when both attempts fail, with probability 1/4.
  const expected = 400 / 4;
  const sd = Math.sqrt(400 * (1 / 4) * (3 / 4));
  assert.ok(Math.abs(flaky.failed - expected) < 5 * sd, `failed ${flaky.failed}, expected about ${expected}`);
  assert.ok(flaky.retried > 0);
});

test('a task longer than its lease expires, and the unit waits from the expiry', () => {
  // One worker, one unit of 20 minutes, 15-minute leases: each attempt
  // expires while the worker is busy; it notices 5 minutes after the expiry
  // and gets the same unit again.
  const { summary } = simulate(api, settingsOf({
    workers: 1,
    hours: 1,
    specs: [{ name: 'slow', arrival: { initial: 1 }, duration: { meanSeconds: 20 * 60 } }],
  }));
  const [slow] = summary.specs;
  assert.equal(slow.started, 3); // at about 0, 20 and 40 minutes
  assert.equal(slow.expired, 2); // the third is still running at the end
  assert.equal(slow.finished, 0);
  assert.equal(slow.waitMax, 5 * 60);
  assert.equal(slow.queued, 1); // the third lease ran out at about 55 minutes too
});

test('bad settings are a SettingsError naming the field', () => {
  const good = presetSettings('priority-and-weights', 1);
  const bad = (mutate) => {
    const s = structuredClone(good);
    mutate(s);
    return () => normalizeSettings(s);
  };
  assert.throws(bad((s) => (s.specs[1].weight = 'heavy')), (e) => e instanceof SettingsError && e.field === 'specs[1].weight');
  assert.throws(bad((s) => (s.specs[0].duration.dist = 'gamma')), (e) => e instanceof SettingsError && e.field === 'specs[0].duration.dist');
  assert.throws(bad((s) => (s.specs[2].name = 'alerts')), (e) => e instanceof SettingsError && /twice/.test(e.message));
  assert.throws(bad((s) => (s.fleet[0].specs = ['nope'])), (e) => e instanceof SettingsError && e.field === 'fleet[0].specs');
  assert.throws(bad((s) => (s.fleet[0].count = 0)), (e) => e instanceof SettingsError && e.field === 'fleet');
  assert.throws(bad((s) => (s.hours = -1)), (e) => e instanceof SettingsError && e.field === 'hours');
  assert.throws(() => presetSettings('nope'), SettingsError);
  for (const name of Object.keys(PRESETS)) assert.equal(normalizeSettings(presetSettings(name, 1)).hours * HOUR, DAY);
});

// ---------------------------------------------------------------- browser

test('the page in headless Chromium computes the same figures as Node', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `no ${CHROMIUM}: install it with scripts/wasm-toolchain.sh --chromium`);
  const server = await serve({ port: 0 });
  const browser = await launch();
  try {
    for (const [preset, seed] of [['priority-and-weights', 7], ['dedicated-workers', 12]]) {
      const url = `http://127.0.0.1:${server.address().port}${PAGE}?preset=${preset}&seed=${seed}&short=1&autorun=1`;
      const page = await browser.open(url);
      const state = await page.waitFor(`['done', 'error'].includes(document.body.dataset.state) && document.body.dataset.state`);
      const error = await page.evaluate(`document.getElementById('error').textContent`);
      assert.equal(state, 'done', `the page failed: ${error}`);
      const fromPage = JSON.parse(await page.evaluate(`document.getElementById('result').textContent`));
      const fromNode = JSON.parse(JSON.stringify(simulate(api, shortened(presetSettings(preset, seed)))));
      assert.deepEqual(fromPage.settings, fromNode.settings, 'the form did not carry the settings over');
      assert.deepEqual(fromPage.summary, fromNode.summary);
      assert.deepEqual(fromPage.series, fromNode.series);
      assert.ok(fromPage.summary.finished > 100);
      // The page shows what it computed: one summary row per spec, four charts drawn.
      const rows = await page.evaluate(`[...document.querySelectorAll('#summary tbody tr')].map((r) => r.cells[0].textContent)`);
      assert.deepEqual(rows, fromNode.summary.specs.map((s) => s.name));
      const paths = await page.evaluate(`[...document.querySelectorAll('.charts svg')].map((s) => s.querySelectorAll('path').length)`);
      assert.equal(paths.length, 4);
      for (const n of paths) assert.ok(n > 0, `a chart has no lines: ${paths}`);
    }
    // A long run (a simulated week) can be stopped halfway; the page keeps its figures so far.
    {
      const page = await browser.open(`http://127.0.0.1:${server.address().port}${PAGE}?hours=168&autorun=1`);
      await page.waitFor(`document.body.dataset.state === 'running' && document.querySelectorAll('#summary tbody tr').length > 0`);
      await page.evaluate(`document.getElementById('stop').click(); 1`);
      assert.equal(await page.evaluate(`document.body.dataset.state`), 'stopped');
      assert.equal(await page.evaluate(`document.getElementById('run').disabled`), false);
      assert.equal(await page.evaluate(`document.getElementById('result').textContent`), '');
      const width = await page.evaluate(`parseFloat(document.getElementById('bar').style.width)`);
      assert.ok(width > 0 && width < 100, `progress ${width}%`);
    }
    // A bad setting in the form is reported, naming the field, and no run starts.
    const page = await browser.open(`http://127.0.0.1:${server.address().port}${PAGE}`);
    await page.waitFor(`document.body.dataset.state === 'ready'`);
    await page.evaluate(`document.querySelector('#specs tbody tr [data-path="weight"]').value = 'x'; document.getElementById('run').click(); 1`);
    const error = await page.waitFor(`document.getElementById('error').textContent`);
    assert.match(error, /^specs\[0\]\.weight: /);
    assert.equal(await page.evaluate(`document.body.dataset.state`), 'error');
    assert.equal(await page.evaluate(`document.querySelectorAll('.invalid').length`), 1);
  } finally {
    await browser.close();
    server.close();
  }
});
