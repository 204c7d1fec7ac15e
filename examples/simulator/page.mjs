// The simulator page: a form for work specs and a worker fleet, the shared
// simulation core (sim.mjs) on the web build of the wasm package, run in
// slices of about 25 ms between which the page redraws and stays responsive.
//
// URL parameters: preset=NAME, seed=N, hours=H, sampleMinutes=M, leaseMinutes=M,
// pollSeconds=S, short=1 (2 simulated hours, 5-minute samples),
// autorun=1 (run at once). When a run ends, <pre id="result"> holds its
// {summary, series} as JSON and <body data-state="done">; the test
// (wasm/tests/simulator.test.mjs) reads that and compares it with Node.
import init, * as api from '../../wasm/pkg-web/index.js';
import { ARRIVALS, DEFAULT_PRESET, DISTRIBUTIONS, PRESETS, SettingsError, Simulation, presetSettings, shortened } from './sim.mjs';
import { summaryRows } from './report.mjs';
import { PALETTE, lineChart } from './charts.mjs';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// --------------------------------------------------------------- the form

const SPEC_FIELDS = [
  ['name', 'text', 'name'],
  ['priority', 'number'],
  ['weight', 'number'],
  ['maxRunning', 'number'],
  ['arrival.pattern', ARRIVALS],
  ['arrival.perHour', 'number'],
  ['arrival.burst', 'number'],
  ['arrival.everyMinutes', 'number'],
  ['arrival.initial', 'number'],
  ['duration.dist', DISTRIBUTIONS],
  ['duration.meanSeconds', 'number'],
  ['duration.spread', 'number'],
  ['failureRate', 'percent'],
  ['maxRetries', 'number'],
  ['retryDelaySeconds', 'number'],
];
const GROUP_FIELDS = [
  ['name', 'text', 'name'],
  ['count', 'number'],
  ['speed', 'number'],
  ['specs', 'text', 'specs'],
];

const get = (obj, path) => path.split('.').reduce((o, k) => o?.[k], obj);
function set(obj, path, value) {
  const keys = path.split('.');
  const last = keys.pop();
  let o = obj;
  for (const k of keys) o = o[k] ??= {};
  o[last] = value;
}

function inputFor([path, kind, cls], value) {
  let input;
  if (Array.isArray(kind)) {
    input = document.createElement('select');
    for (const c of kind) input.append(new Option(c, c));
    input.value = value;
  } else {
    input = document.createElement('input');
    input.type = kind === 'text' ? 'text' : 'number';
    if (kind === 'percent') {
      input.step = 'any';
      input.value = String(Number((value * 100).toFixed(4)));
    } else {
      if (kind === 'number') input.step = 'any';
      input.value = Array.isArray(value) ? value.join(',') : String(value ?? '');
    }
  }
  if (cls) input.className = cls;
  input.dataset.path = path;
  input.dataset.kind = Array.isArray(kind) ? 'choice' : kind;
  return input;
}

function addRow(tbody, fields, values) {
  const tr = document.createElement('tr');
  for (const f of fields) {
    const td = document.createElement('td');
    td.append(inputFor(f, get(values, f[0])));
    tr.append(td);
  }
  const td = document.createElement('td');
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'remove';
  remove.textContent = '×';
  remove.title = 'remove';
  remove.addEventListener('click', () => tr.remove());
  td.append(remove);
  tr.append(td);
  tbody.append(tr);
}

function readRows(tbody) {
  return [...tbody.rows].map((tr) => {
    const out = {};
    for (const input of tr.querySelectorAll('[data-path]')) {
      const v = input.value;
      let value = v;
      if (input.dataset.kind === 'number') value = v.trim() === '' ? NaN : Number(v);
      if (input.dataset.kind === 'percent') value = v.trim() === '' ? NaN : Number(v) / 100;
      set(out, input.dataset.path, value);
    }
    return out;
  });
}

const RUN_FIELDS = ['seed', 'hours', 'sampleMinutes', 'leaseMinutes', 'pollSeconds'];

function fillForm(settings) {
  for (const k of RUN_FIELDS) $(k).value = String(settings[k]);
  const specs = $('specs').tBodies[0];
  specs.replaceChildren();
  for (const s of settings.specs) addRow(specs, SPEC_FIELDS, s);
  const fleet = $('fleet').tBodies[0];
  fleet.replaceChildren();
  for (const g of settings.fleet) addRow(fleet, GROUP_FIELDS, g);
}

function readForm() {
  const s = {};
  for (const k of RUN_FIELDS) s[k] = Number($(k).value);
  s.specs = readRows($('specs').tBodies[0]);
  s.fleet = readRows($('fleet').tBodies[0]).map((g) => ({ ...g, specs: g.specs.split(',') }));
  return s;
}

/** Marks the input a SettingsError names (`specs[1].weight`, `fleet[0].count`, `seed`). */
function markInvalid(field) {
  const m = field.match(/^(specs|fleet)\[(\d+)\]\.(.+)$/);
  let input = null;
  if (m) input = $(m[1]).tBodies[0].rows[Number(m[2])]?.querySelector(`[data-path="${m[3]}"]`);
  else input = document.getElementById(field);
  if (input) {
    input.classList.add('invalid');
    input.focus();
  }
}

// ------------------------------------------------------------- the charts

function draw(sim) {
  const ser = sim.series;
  const xMax = sim.settings.hours;
  const colors = new Map(sim.specs.map((s, i) => [s.name, PALETTE[i % PALETTE.length]]));
  const perSpec = (data) => sim.specs.map((s) => ({ label: s.name, color: colors.get(s.name), values: data[s.name] }));
  lineChart($('chart-depth'), { x: ser.t, xMax, lines: perSpec(ser.depth) });
  lineChart($('chart-throughput'), { x: ser.t, xMax, lines: perSpec(ser.throughput) });
  const share = [];
  // a spec alone at its priority has all of its group's workers: not drawn
  const shared = sim.specs.filter((s) => sim.specs.some((p) => p !== s && p.priority === s.priority));
  for (const s of shared) {
    share.push({ label: s.name, color: colors.get(s.name), values: ser.share[s.name] });
    share.push({ label: `${s.name} weight`, color: colors.get(s.name), values: ser.t.map(() => s.weightShare), dash: '5 4', width: 1.2, legend: false });
  }
  if (shared.length === 0) {
    // every priority has one spec: show how the whole fleet's time was split
    for (const s of sim.specs) share.push({ label: s.name, color: colors.get(s.name), values: ser.fleetShare[s.name] });
  }
  $('caption-share').textContent = shared.length
    ? 'Of the busy workers at a priority, the share per spec, against its weight share (dashed)'
    : 'Share of the fleet busy with each spec (no two specs share a priority, so weights do not apply)';
  lineChart($('chart-share'), { x: ser.t, xMax, lines: share, yMax: 1, yFormat: (v) => `${Math.round(v * 100)}%` });
  const label = sim.waitSpecs.length === sim.specs.length && sim.specs.length > 1 ? 'all specs (one priority)' : sim.waitSpecs.join(', ');
  lineChart($('chart-wait'), {
    x: ser.t,
    xMax,
    lines: [
      { label: `p50 ${label}`, color: PALETTE[0], values: ser.waitP50, dots: true, connectGaps: true },
      { label: 'p95', color: PALETTE[1], values: ser.waitP95, dash: '5 4', dots: true, connectGaps: true },
    ],
  });
}

function showSummary(summary) {
  const { header, rows } = summaryRows(summary);
  const thead = $('summary').tHead;
  const tbody = $('summary').tBodies[0];
  thead.replaceChildren();
  tbody.replaceChildren();
  const tr = thead.insertRow();
  for (const h of header) {
    const th = document.createElement('th');
    th.textContent = h;
    tr.append(th);
  }
  for (const r of rows) {
    const row = tbody.insertRow();
    for (const c of r) row.insertCell().textContent = c;
  }
  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  $('headline').textContent =
    `${summary.finished} units finished in ${summary.hours} simulated hours by ${summary.workers} workers ` +
    `(${(summary.finished / summary.hours).toFixed(1)} per hour), fleet busy ${pct(summary.utilization)}; ${summary.events} events.`;
}

// ---------------------------------------------------------------- the run

let current = null; // {sim, stopped}

function setRunning(running) {
  $('run').disabled = running;
  $('stop').disabled = !running;
  document.body.dataset.state = running ? 'running' : document.body.dataset.state;
}

function start(settings) {
  for (const e of document.querySelectorAll('.invalid')) e.classList.remove('invalid');
  $('error').textContent = '';
  let sim;
  try {
    sim = new Simulation(api, settings);
  } catch (e) {
    if (e instanceof SettingsError) markInvalid(e.field);
    $('error').textContent = e.message;
    document.body.dataset.state = 'error';
    return;
  }
  if (current) current.stopped = true;
  const run = { sim, stopped: false };
  current = run;
  setRunning(true);
  const began = performance.now();
  let drawn = 0;
  const slice = () => {
    if (run.stopped) return;
    const until = performance.now() + 25;
    let done;
    try {
      done = sim.run(() => performance.now() < until);
    } catch (e) {
      $('error').textContent = `the run failed: ${e.name}: ${e.message}`;
      document.body.dataset.state = 'error';
      setRunning(false);
      return;
    }
    $('bar').style.width = `${(100 * sim.progress()).toFixed(1)}%`;
    const h = sim.time / 3_600_000;
    $('status').textContent = `${String(Math.floor(h)).padStart(2, '0')}:${String(Math.floor((h % 1) * 60)).padStart(2, '0')} of ${sim.settings.hours} h`;
    if (done || sim.series.t.length !== drawn) {
      draw(sim);
      drawn = sim.series.t.length;
      showSummary(sim.summary());
    }
    if (!done) {
      setTimeout(slice, 0);
      return;
    }
    const result = { settings: sim.settings, summary: sim.summary(), series: sim.series };
    $('result').textContent = JSON.stringify(result);
    $('status').textContent = `done: ${sim.settings.hours} simulated hours in ${((performance.now() - began) / 1000).toFixed(1)} s`;
    sim.free();
    current = null;
    setRunning(false);
    document.body.dataset.state = 'done';
  };
  setTimeout(slice, 0);
}

function stop() {
  if (!current) return;
  current.stopped = true;
  current.sim.free();
  current = null;
  $('status').textContent = 'stopped';
  setRunning(false);
  document.body.dataset.state = 'stopped';
}

// ---------------------------------------------------------------- startup

try {
  for (const [name, p] of Object.entries(PRESETS)) $('preset').append(new Option(`${name}: ${p.title}`, name));
  const preset = params.get('preset') ?? DEFAULT_PRESET;
  $('preset').value = preset;
  let settings = presetSettings(preset, Number(params.get('seed') ?? 1));
  for (const k of ['hours', 'sampleMinutes', 'leaseMinutes', 'pollSeconds']) if (params.has(k)) settings[k] = Number(params.get(k));
  if (params.get('short') === '1') settings = shortened(settings);
  fillForm(settings);
  $('preset').addEventListener('change', () => fillForm(presetSettings($('preset').value, Number($('seed').value) || 1)));
  $('add-spec').addEventListener('click', () =>
    addRow($('specs').tBodies[0], SPEC_FIELDS, {
      name: `spec-${$('specs').tBodies[0].rows.length + 1}`, priority: 0, weight: 20, maxRunning: 0,
      arrival: { pattern: 'steady', perHour: 100, burst: 0, everyMinutes: 60, initial: 0 },
      duration: { dist: 'exponential', meanSeconds: 60, spread: 0 }, failureRate: 0, maxRetries: 3, retryDelaySeconds: 60,
    }),
  );
  $('add-group').addEventListener('click', () =>
    addRow($('fleet').tBodies[0], GROUP_FIELDS, { name: `group-${$('fleet').tBodies[0].rows.length + 1}`, count: 10, speed: 1, specs: [] }),
  );
  $('settings').addEventListener('submit', (ev) => {
    ev.preventDefault();
    start(readForm());
  });
  $('stop').addEventListener('click', stop);
  await init();
  $('status').textContent = 'ready';
  document.body.dataset.state = 'ready';
  if (params.get('autorun') === '1') start(readForm());
} catch (e) {
  $('error').textContent = `${e.name}: ${e.message}`;
  $('result').textContent = JSON.stringify({ error: `${e.name}: ${e.message}` });
  document.body.dataset.state = 'error';
}
