// The simulation core of the capacity-planning simulator, shared by the
// page (examples/simulator/index.html, with the web build of the wasm
// package) and Node (examples/simulator/run.mjs, with the Node build).
//
// A simulated stretch of time (a day by default) of a Coordinate namespace:
// work specs receive units by an arrival pattern, a fleet of workers asks
// for attempts, works on each for a drawn duration and finishes it, or
// retries it after a failure. Time is a MockClock stepped from event to
// event, so nothing here reads the real clock. All randomness comes from one
// seeded PRNG (mulberry32) plus the Coordinate's own seed, and only
// arithmetic that IEEE 754 fixes exactly (+ - * / sqrt, and `ln`/`exp`
// below built from them) touches the numbers, so the same settings give
// the same figures in Node and in any browser.
//
// The caller passes the package's exports (`api`): `Coordinate`,
// `MockClock`, `WorkUnitStatus`, `AttemptStatus`. Nothing else of the host
// is used; the page drives `Simulation.run` in slices, Node to the end.

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** The instant the simulated clock starts at. */
export const START = Date.UTC(2026, 0, 1);

export const ARRIVALS = ['steady', 'bursty', 'daily', 'none'];
export const DISTRIBUTIONS = ['fixed', 'uniform', 'exponential', 'lognormal'];

// ------------------------------------------------------------- randomness

/** mulberry32: a small seedable PRNG returning floats in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LN2 = 0.6931471805599453;
const LN2_HI = 6.93147180369123816490e-1; // ln 2 to 32 bits: k * LN2_HI is exact
const LN2_LO = 1.90821492927058770002e-10; // ln 2 - LN2_HI
const SQRT2 = 1.4142135623730951;

/**
 * The natural logarithm of x > 0 from exact IEEE operations only, so it
 * gives the same bits in every JavaScript engine (Math.log need not).
 */
export function ln(x) {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`ln: ${x} is not a positive finite number`);
  let e = 0;
  while (x >= SQRT2) {
    x /= 2;
    e += 1;
  }
  while (x < SQRT2 / 2) {
    x *= 2;
    e -= 1;
  }
  // ln x = 2 atanh(s), s = (x-1)/(x+1), |s| <= 0.172
  const s = (x - 1) / (x + 1);
  const s2 = s * s;
  let term = s;
  let sum = 0;
  for (let k = 1; k < 40; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return 2 * sum + e * LN2;
}

/** e^x from exact IEEE operations only (see `ln`), for |x| < 700. */
export function exp(x) {
  if (!Number.isFinite(x) || Math.abs(x) >= 700) throw new RangeError(`exp: ${x} is out of range`);
  // x = k ln2 + r, |r| <= ln2/2, with ln2 split in two (Cody and Waite) so r is exact enough
  const k = Math.round(x / LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  // Taylor series by Horner's rule, the small terms first
  let sum = 1;
  for (let n = 24; n >= 1; n -= 1) sum = 1 + (sum * r) / n;
  let scale = 1;
  for (let i = 0; i < Math.abs(k); i += 1) scale *= 2;
  return k >= 0 ? sum * scale : sum / scale;
}

/** A standard normal draw (Marsaglia's polar method). */
function normal(random) {
  for (;;) {
    const u = 2 * random() - 1;
    const v = 2 * random() - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) return u * Math.sqrt((-2 * ln(s)) / s);
  }
}

/** A task duration in milliseconds (at least 1) drawn from a spec's distribution. */
export function drawDuration(random, d) {
  const mean = d.meanSeconds * SECOND;
  let ms;
  switch (d.dist) {
    case 'fixed':
      ms = mean;
      break;
    case 'uniform': {
      const half = mean * d.spread;
      ms = mean - half + 2 * half * random();
      break;
    }
    case 'exponential':
      ms = -mean * ln(1 - random());
      break;
    case 'lognormal': {
      // mean of a lognormal is e^(mu + sigma^2/2)
      const sigma = d.spread;
      const mu = ln(mean) - (sigma * sigma) / 2;
      ms = exp(mu + sigma * normal(random));
      break;
    }
    default:
      throw new Error(`unknown distribution ${d.dist}`);
  }
  return Math.max(1, Math.round(ms));
}

/** Relative arrival rate by hour of day for the `daily` pattern (mean 1), interpolated linearly. */
export const DAILY_CURVE = [
  0.3, 0.25, 0.2, 0.2, 0.25, 0.35, 0.55, 0.85, 1.2, 1.5, 1.65, 1.7, 1.6, 1.65, 1.75, 1.7, 1.55, 1.35, 1.15, 1.0,
  0.85, 0.7, 0.55, 0.4,
];
const DAILY_MAX = Math.max(...DAILY_CURVE);
const DAILY_MEAN = DAILY_CURVE.reduce((a, b) => a + b, 0) / DAILY_CURVE.length;

/** The daily curve's multiplier (mean 1 over a day) at `t` ms after midnight. */
export function dailyFactor(t) {
  const h = (t % DAY) / HOUR;
  const i = Math.floor(h);
  const f = h - i;
  return (DAILY_CURVE[i] * (1 - f) + DAILY_CURVE[(i + 1) % 24] * f) / DAILY_MEAN;
}

// --------------------------------------------------------------- settings

/** Ready-made settings: the page's presets, also `run.mjs --preset NAME`. */
export const PRESETS = {
  'priority-and-weights': {
    title: 'Urgent alerts over two weighted backlogs',
    hours: 24,
    sampleMinutes: 10,
    leaseMinutes: 15,
    pollSeconds: 30,
    specs: [
      {
        name: 'alerts', priority: 1, weight: 5, maxRunning: 0,
        arrival: { pattern: 'bursty', perHour: 0, burst: 40, everyMinutes: 60, initial: 0 },
        duration: { dist: 'exponential', meanSeconds: 30, spread: 0 },
        failureRate: 0.05, maxRetries: 3, retryDelaySeconds: 60,
      },
      {
        name: 'crawl', priority: 0, weight: 30, maxRunning: 0,
        arrival: { pattern: 'steady', perHour: 600, burst: 0, everyMinutes: 0, initial: 2000 },
        duration: { dist: 'lognormal', meanSeconds: 180, spread: 0.8 },
        failureRate: 0.05, maxRetries: 3, retryDelaySeconds: 60,
      },
      {
        name: 'index', priority: 0, weight: 10, maxRunning: 0,
        arrival: { pattern: 'daily', perHour: 800, burst: 0, everyMinutes: 0, initial: 2000 },
        duration: { dist: 'uniform', meanSeconds: 90, spread: 0.5 },
        failureRate: 0.02, maxRetries: 3, retryDelaySeconds: 60,
      },
    ],
    fleet: [{ name: 'pool', count: 50, speed: 1, specs: [] }],
  },
  'max-running': {
    title: 'A rate-limited API spec capped by max_running',
    hours: 24,
    sampleMinutes: 10,
    leaseMinutes: 15,
    pollSeconds: 20,
    specs: [
      {
        name: 'api-calls', priority: 0, weight: 50, maxRunning: 5,
        arrival: { pattern: 'daily', perHour: 400, burst: 0, everyMinutes: 0, initial: 0 },
        duration: { dist: 'fixed', meanSeconds: 40, spread: 0 },
        failureRate: 0.1, maxRetries: 5, retryDelaySeconds: 300,
      },
      {
        name: 'reports', priority: 0, weight: 10, maxRunning: 0,
        arrival: { pattern: 'steady', perHour: 300, burst: 0, everyMinutes: 0, initial: 500 },
        duration: { dist: 'exponential', meanSeconds: 120, spread: 0 },
        failureRate: 0.01, maxRetries: 2, retryDelaySeconds: 60,
      },
    ],
    fleet: [{ name: 'pool', count: 20, speed: 1, specs: [] }],
  },
  'dedicated-workers': {
    title: 'A shared pool plus workers dedicated to one spec',
    hours: 24,
    sampleMinutes: 10,
    leaseMinutes: 15,
    pollSeconds: 30,
    specs: [
      {
        name: 'checkout', priority: 2, weight: 20, maxRunning: 0,
        arrival: { pattern: 'daily', perHour: 300, burst: 0, everyMinutes: 0, initial: 0 },
        duration: { dist: 'lognormal', meanSeconds: 20, spread: 0.5 },
        failureRate: 0.02, maxRetries: 3, retryDelaySeconds: 30,
      },
      {
        name: 'emails', priority: 1, weight: 20, maxRunning: 0,
        arrival: { pattern: 'bursty', perHour: 0, burst: 300, everyMinutes: 120, initial: 0 },
        duration: { dist: 'uniform', meanSeconds: 10, spread: 0.8 },
        failureRate: 0.05, maxRetries: 4, retryDelaySeconds: 120,
      },
      {
        name: 'thumbnails', priority: 0, weight: 20, maxRunning: 0,
        arrival: { pattern: 'steady', perHour: 1500, burst: 0, everyMinutes: 0, initial: 1000 },
        duration: { dist: 'exponential', meanSeconds: 45, spread: 0 },
        failureRate: 0.01, maxRetries: 2, retryDelaySeconds: 60,
      },
    ],
    fleet: [
      { name: 'pool', count: 16, speed: 1, specs: [] },
      { name: 'checkout-only', count: 4, speed: 1.5, specs: ['checkout'] },
    ],
  },
};

export const DEFAULT_PRESET = 'priority-and-weights';

/** A bad setting: names the field that is wrong. */
export class SettingsError extends Error {
  constructor(field, message) {
    super(`${field}: ${message}`);
    this.name = 'SettingsError';
    this.field = field;
  }
}

function num(value, field, { min = -Infinity, max = Infinity, integer = false } = {}) {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new SettingsError(field, `expected a number, got ${Number.isNaN(value) || value === '' ? 'an empty field' : JSON.stringify(value)}`);
  if (integer && !Number.isInteger(n)) throw new SettingsError(field, `expected a whole number, got ${n}`);
  if (n < min || n > max) throw new SettingsError(field, `${n} is outside ${min} .. ${max}`);
  return n;
}

function oneOf(value, field, choices) {
  if (!choices.includes(value)) throw new SettingsError(field, `expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Checks settings and returns a complete copy with numbers as numbers;
 * throws `SettingsError` naming the first bad field.
 */
export function normalizeSettings(input) {
  if (input === null || typeof input !== 'object') throw new SettingsError('settings', 'expected an object');
  const s = {
    seed: num(input.seed ?? 1, 'seed', { min: 0, max: 2 ** 32 - 1, integer: true }),
    hours: num(input.hours ?? 24, 'hours', { min: 0.25, max: 24 * 7 }),
    sampleMinutes: num(input.sampleMinutes ?? 10, 'sampleMinutes', { min: 1, max: 24 * 60 }),
    leaseMinutes: num(input.leaseMinutes ?? 15, 'leaseMinutes', { min: 1, max: 24 * 60 }),
    pollSeconds: num(input.pollSeconds ?? 30, 'pollSeconds', { min: 1, max: 3600 }),
  };
  if (!Array.isArray(input.specs) || input.specs.length === 0) throw new SettingsError('specs', 'expected at least one work spec');
  if (input.specs.length > 12) throw new SettingsError('specs', 'at most 12 work specs');
  const names = new Set();
  s.specs = input.specs.map((spec, i) => {
    const f = (k) => `specs[${i}].${k}`;
    const name = String(spec?.name ?? '').trim();
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(name)) throw new SettingsError(f('name'), `${JSON.stringify(name)} is not a name (letters, digits, _ . -)`);
    if (names.has(name)) throw new SettingsError(f('name'), `${name} appears twice`);
    names.add(name);
    const a = spec.arrival ?? {};
    const d = spec.duration ?? {};
    const out = {
      name,
      priority: num(spec.priority ?? 0, f('priority'), { min: -1000, max: 1000, integer: true }),
      weight: num(spec.weight ?? 20, f('weight'), { min: 1, max: 1e6, integer: true }),
      maxRunning: num(spec.maxRunning ?? 0, f('maxRunning'), { min: 0, max: 1e6, integer: true }),
      arrival: {
        pattern: oneOf(a.pattern ?? 'steady', f('arrival.pattern'), ARRIVALS),
        perHour: num(a.perHour ?? 0, f('arrival.perHour'), { min: 0, max: 1e6 }),
        burst: num(a.burst ?? 0, f('arrival.burst'), { min: 0, max: 1e6, integer: true }),
        everyMinutes: num(a.everyMinutes ?? 60, f('arrival.everyMinutes'), { min: 0, max: 24 * 60 * 7 }),
        initial: num(a.initial ?? 0, f('arrival.initial'), { min: 0, max: 1e6, integer: true }),
      },
      duration: {
        dist: oneOf(d.dist ?? 'exponential', f('duration.dist'), DISTRIBUTIONS),
        meanSeconds: num(d.meanSeconds ?? 60, f('duration.meanSeconds'), { min: 0.001, max: 86400 }),
        spread: num(d.spread ?? 0, f('duration.spread'), { min: 0, max: 3 }),
      },
      failureRate: num(spec.failureRate ?? 0, f('failureRate'), { min: 0, max: 1 }),
      maxRetries: num(spec.maxRetries ?? 0, f('maxRetries'), { min: 0, max: 1000, integer: true }),
      retryDelaySeconds: num(spec.retryDelaySeconds ?? 0, f('retryDelaySeconds'), { min: 0, max: 86400 }),
    };
    if (out.duration.dist === 'uniform' && out.duration.spread > 1) throw new SettingsError(f('duration.spread'), 'a uniform spread is at most 1 (mean ± 100%)');
    if (out.arrival.pattern === 'bursty' && out.arrival.everyMinutes <= 0) throw new SettingsError(f('arrival.everyMinutes'), 'a bursty spec needs a period above 0');
    return out;
  });
  if (!Array.isArray(input.fleet) || input.fleet.length === 0) throw new SettingsError('fleet', 'expected at least one worker group');
  let workers = 0;
  const groups = new Set();
  s.fleet = input.fleet.map((g, i) => {
    const f = (k) => `fleet[${i}].${k}`;
    const name = String(g?.name ?? '').trim();
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(name)) throw new SettingsError(f('name'), `${JSON.stringify(name)} is not a name (letters, digits, _ . -)`);
    if (groups.has(name)) throw new SettingsError(f('name'), `${name} appears twice`);
    groups.add(name);
    const specs = (Array.isArray(g.specs) ? g.specs : String(g.specs ?? '').split(','))
      .map((x) => String(x).trim())
      .filter((x) => x !== '');
    for (const x of specs) if (!names.has(x)) throw new SettingsError(f('specs'), `no work spec named ${x}`);
    const count = num(g.count ?? 1, f('count'), { min: 0, max: 2000, integer: true });
    workers += count;
    return { name, count, speed: num(g.speed ?? 1, f('speed'), { min: 0.01, max: 100 }), specs };
  });
  if (workers === 0) throw new SettingsError('fleet', 'the fleet has no workers');
  if (workers > 2000) throw new SettingsError('fleet', `${workers} workers; at most 2000`);
  return s;
}

/** The settings of a preset (a fresh copy), with a seed. */
export function presetSettings(name = DEFAULT_PRESET, seed = 1) {
  const p = PRESETS[name];
  if (!p) throw new SettingsError('preset', `no preset named ${JSON.stringify(name)} (${Object.keys(PRESETS).join(', ')})`);
  const { title, ...rest } = structuredClone(p);
  return { ...rest, seed };
}

/** The same settings cut to a short run (2 simulated hours), for tests. */
export function shortened(settings) {
  return { ...settings, hours: Math.min(2, settings.hours ?? 24), sampleMinutes: Math.min(5, settings.sampleMinutes ?? 10) };
}

// ----------------------------------------------------------- the events

const less = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/** A min-heap of [time, seq, action]: the event queue, ties in insertion order. */
export class Events {
  #heap = [];
  #seq = 0;
  push(time, action) {
    const h = this.#heap;
    h.push([time, this.#seq++, action]);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  get size() {
    return this.#heap.length;
  }
  peekTime() {
    return this.#heap.length ? this.#heap[0][0] : Infinity;
  }
  pop() {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** The value at quantile q (0..1) of sorted numbers (nearest rank), or null. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

const sortNumbers = (xs) => xs.slice().sort((a, b) => a - b);

// ----------------------------------------------------------- simulation

/**
 * One simulated run. `new Simulation(api, settings)` sets up the
 * Coordinate; `run(budget)` processes events (all of them, or until
 * `budget()` returns false between events) and returns whether the run is
 * over; `series` and `summary()` hold the figures.
 */
export class Simulation {
  constructor(api, input) {
    const settings = normalizeSettings(input);
    this.settings = settings;
    this.api = api;
    this.end = Math.round(settings.hours * HOUR);
    this.random = rng(settings.seed);
    this.clock = new api.MockClock(new Date(START));
    this.coord = new api.Coordinate({ clock: this.clock, seed: settings.seed });
    this.ns = this.coord.namespace('simulator');
    this.events = new Events();
    this.time = 0;
    this.done = false;
    this.eventCount = 0;

    const topPriority = Math.max(...settings.specs.map((s) => s.priority));
    const lowPriority = Math.min(...settings.specs.map((s) => s.priority));
    this.specs = settings.specs.map((s) => ({
      ...s,
      high: topPriority > lowPriority && s.priority === topPriority,
      retryDelayMs: Math.round(s.retryDelaySeconds * SECOND),
      handle: this.ns.setWorkSpec({ name: s.name, priority: s.priority, weight: s.weight, max_running: s.maxRunning, max_retries: s.maxRetries }),
      seq: 0,
      running: 0,
      busyArea: 0, // running-count × ms, integrated over the run
      sampleArea: 0, // the same, within the current sample interval
      waits: [], // ms from available to start, every start
      sampleWaits: [],
      sampleFinished: 0,
      stats: { arrived: 0, started: 0, finished: 0, retried: 0, expired: 0 },
    }));
    this.byName = new Map(this.specs.map((s) => [s.name, s]));
    // the specs whose waits the wait series follow: the highest priority,
    // or every spec when all have the same priority
    this.waitSpecs = this.specs.filter((s) => s.high || topPriority === lowPriority).map((s) => s.name);
    /** unit name -> ms since START at which it (last) became available */
    this.availableSince = new Map();
    /** unit name -> {expires} of its latest attempt while a worker works on it */
    this.leases = new Map();
    this.leaseMs = Math.round(settings.leaseMinutes * MINUTE);
    this.pollMs = Math.round(settings.pollSeconds * SECOND);

    // Weight share among the specs of the same priority: what the scheduler aims at.
    for (const s of this.specs) {
      const peers = this.specs.filter((p) => p.priority === s.priority);
      s.weightShare = s.weight / peers.reduce((n, p) => n + p.weight, 0);
    }

    this.workers = [];
    for (const g of settings.fleet) {
      for (let i = 0; i < g.count; i += 1) {
        this.workers.push({
          handle: this.ns.worker(`${g.name}-${String(i).padStart(3, '0')}`),
          group: g,
          request: g.specs.length ? { lifetime: this.leaseMs, workSpecs: g.specs } : { lifetime: this.leaseMs },
        });
      }
    }
    this.workerCount = this.workers.length;
    this.lastAreaTime = 0;

    this.series = {
      t: [], // sample end, hours since start
      depth: Object.fromEntries(this.specs.map((s) => [s.name, []])), // available + delayed units
      throughput: Object.fromEntries(this.specs.map((s) => [s.name, []])), // finished per hour in the interval
      // of the workers busy with specs of its priority, the share busy with this
      // spec (null when none was): the scheduler steers it toward weightShare
      share: Object.fromEntries(this.specs.map((s) => [s.name, []])),
      fleetShare: Object.fromEntries(this.specs.map((s) => [s.name, []])), // of all worker time in the interval
      waitP50: [], // seconds, starts of the waitSpecs' units in the interval
      waitP95: [],
      utilization: [], // busy share of the whole fleet in the interval
    };

    // Initial backlogs, then the arrival processes, samples, and workers.
    for (const s of this.specs) {
      if (s.arrival.initial > 0) this.#arrive(s, s.arrival.initial);
      this.#scheduleArrival(s, 0, true);
    }
    this.sampleEvery = Math.round(settings.sampleMinutes * MINUTE);
    this.lastSample = 0;
    this.events.push(Math.min(this.sampleEvery, this.end), () => this.#sample());
    for (const w of this.workers) this.events.push(Math.floor(this.random() * 10 * SECOND), () => this.#requestWork(w));
  }

  #arrive(spec, n) {
    const items = [];
    for (let i = 0; i < n; i += 1) {
      const name = `${spec.name}-${String(spec.seq).padStart(8, '0')}`;
      spec.seq += 1;
      items.push(name);
      this.availableSince.set(name, this.time);
    }
    spec.handle.addWorkUnits(items);
    spec.stats.arrived += n;
  }

  /** Puts the spec's next arrival after `from` on the event queue (`first`: the first one). */
  #scheduleArrival(spec, from, first = false) {
    const a = spec.arrival;
    let at;
    let n = 1;
    if (a.pattern === 'none') return;
    if (a.pattern === 'bursty') {
      if (a.burst === 0) return;
      at = first ? 0 : from + a.everyMinutes * MINUTE;
      n = a.burst;
    } else {
      if (a.perHour <= 0) return;
      // Poisson arrivals; the daily curve by thinning at its peak rate.
      const peak = a.pattern === 'daily' ? (a.perHour * DAILY_MAX) / DAILY_MEAN : a.perHour;
      at = from;
      for (;;) {
        at += -(HOUR / peak) * ln(1 - this.random());
        if (at >= this.end) return;
        if (a.pattern !== 'daily' || this.random() * DAILY_MAX < dailyFactor(at) * DAILY_MEAN) break;
      }
      at = Math.round(at);
    }
    if (at >= this.end) return;
    this.events.push(at, () => {
      this.#arrive(spec, n);
      this.#scheduleArrival(spec, at);
    });
  }

  /** Integrates the running counts up to now (for shares and utilization). */
  #integrate() {
    const dt = this.time - this.lastAreaTime;
    if (dt === 0) return;
    for (const s of this.specs) {
      s.busyArea += s.running * dt;
      s.sampleArea += s.running * dt;
    }
    this.lastAreaTime = this.time;
  }

  /** A worker asks for work; it polls again after pollSeconds if there is none. */
  #requestWork(worker) {
    const [attempt] = worker.handle.requestAttempts(worker.request);
    if (!attempt) {
      this.events.push(this.time + this.pollMs, () => this.#requestWork(worker));
      return;
    }
    const unit = attempt.workUnit;
    const specHandle = unit.workSpec;
    const spec = this.byName.get(specHandle.name);
    const name = unit.name;
    specHandle.free(); // done with these handles; the GC would free them too
    unit.free();
    // A unit still held by a busy worker whose lease ran out became available at that expiry.
    const stale = this.leases.get(name);
    const wait = this.time - (stale ? stale.expires : this.availableSince.get(name));
    const lease = { expires: this.time + this.leaseMs };
    this.leases.set(name, lease);
    spec.waits.push(wait);
    spec.sampleWaits.push(wait);
    spec.stats.started += 1;
    this.#integrate();
    spec.running += 1;
    const duration = Math.max(1, Math.round(drawDuration(this.random, spec.duration) / worker.group.speed));
    this.events.push(this.time + duration, () => this.#complete(worker, attempt, spec, name, lease));
  }

  /** The worker is done with an attempt: it finishes, or fails and retries later. */
  #complete(worker, attempt, spec, name, lease) {
    this.#integrate();
    spec.running -= 1;
    const latest = this.leases.get(name) === lease; // no later attempt of the unit started
    if (latest) this.leases.delete(name);
    if (attempt.status() !== this.api.AttemptStatus.PENDING) {
      // The lease ran out while the worker was busy; the unit went back to the pool.
      spec.stats.expired += 1;
      if (latest) this.availableSince.set(name, lease.expires);
    } else if (this.random() < spec.failureRate) {
      attempt.retry({ error: 'transient failure' }, spec.retryDelayMs);
      spec.stats.retried += 1;
      this.availableSince.set(name, this.time + spec.retryDelayMs);
    } else {
      attempt.finish({ by: worker.handle.name });
      spec.stats.finished += 1;
      spec.sampleFinished += 1;
      this.availableSince.delete(name);
    }
    attempt.free();
    this.#requestWork(worker);
  }

  #counts(spec) {
    const counts = spec.handle.countWorkUnitStatus();
    const S = this.api.WorkUnitStatus;
    return {
      available: counts.get(S.AVAILABLE) ?? 0,
      delayed: counts.get(S.DELAYED) ?? 0,
      pending: counts.get(S.PENDING) ?? 0,
      finished: counts.get(S.FINISHED) ?? 0,
      failed: counts.get(S.FAILED) ?? 0,
    };
  }

  /** Every sampleMinutes: one point of every series. */
  #sample() {
    this.#integrate();
    const span = this.time - this.lastSample;
    const ser = this.series;
    ser.t.push(this.time / HOUR);
    let busy = 0;
    const highWaits = []; // of the waitSpecs
    const byPriority = new Map();
    for (const s of this.specs) byPriority.set(s.priority, (byPriority.get(s.priority) ?? 0) + s.sampleArea);
    for (const s of this.specs) {
      const c = this.#counts(s);
      ser.depth[s.name].push(c.available + c.delayed);
      ser.throughput[s.name].push((s.sampleFinished * HOUR) / span);
      const peers = byPriority.get(s.priority);
      ser.share[s.name].push(peers > 0 ? s.sampleArea / peers : null);
      ser.fleetShare[s.name].push(s.sampleArea / (span * this.workerCount));
      busy += s.sampleArea;
      if (this.waitSpecs.includes(s.name)) for (const w of s.sampleWaits) highWaits.push(w);
      s.sampleArea = 0;
      s.sampleFinished = 0;
      s.sampleWaits = [];
    }
    const sorted = sortNumbers(highWaits);
    const p50 = quantile(sorted, 0.5);
    const p95 = quantile(sorted, 0.95);
    ser.waitP50.push(p50 === null ? null : p50 / SECOND);
    ser.waitP95.push(p95 === null ? null : p95 / SECOND);
    ser.utilization.push(busy / (span * this.workerCount));
    this.lastSample = this.time;
    if (this.time < this.end) this.events.push(Math.min(this.time + this.sampleEvery, this.end), () => this.#sample());
  }

  /**
   * Processes events in time order. With `budget`, stops (between events)
   * once `budget()` returns false; returns true when the run is over.
   */
  run(budget = null) {
    while (!this.done) {
      if (budget && !budget()) return false;
      for (let i = 0; i < 64 && !this.done; i += 1) {
        const next = this.events.peekTime();
        if (next > this.end) {
          this.#finishRun();
          break;
        }
        const [time, , action] = this.events.pop();
        if (time !== this.time) {
          this.time = time;
          this.clock.set(new Date(START + time));
        }
        action();
        this.eventCount += 1;
      }
    }
    return true;
  }

  #finishRun() {
    this.done = true;
    this.time = this.end;
    this.clock.set(new Date(START + this.end));
    this.#integrate();
    this.final = this.specs.map((s) => this.#counts(s));
  }

  /** Progress in 0..1 of simulated time. */
  progress() {
    return this.done ? 1 : this.time / this.end;
  }

  /**
   * The figures of the run so far (all of them once `run` returned true),
   * plain JSON: `seed`, `hours` simulated, `workers`, `events`, `finished`,
   * `utilization` (busy share of the fleet's time), and per spec: the
   * settings' `name`, `priority`, `weight`; `high` (of the highest of
   * several priorities); counts `arrived`, `started` (attempts delivered),
   * `finished`, `retried`, `expired` (leases that ran out under a busy
   * worker), and from the engine `failed`, `queued` (available + delayed),
   * `pending`; `perHour` finished; `fleetShare` of the fleet's time,
   * `groupShare` of the busy time at its priority, `weightShare` its weight
   * among the specs of its priority; `waitP50`, `waitP95`, `waitMax` in
   * seconds from available to start, over every start.
   */
  summary() {
    const span = Math.max(1, this.time);
    const hours = span / HOUR;
    const specs = this.specs.map((s, i) => {
      const c = this.final?.[i] ?? this.#counts(s);
      const sorted = sortNumbers(s.waits);
      const sec = (x) => (x === null ? null : x / SECOND);
      return {
        name: s.name,
        priority: s.priority,
        weight: s.weight,
        high: s.high,
        ...s.stats,
        failed: c.failed,
        queued: c.available + c.delayed,
        pending: c.pending,
        perHour: s.stats.finished / hours,
        fleetShare: s.busyArea / (span * this.workerCount),
        weightShare: s.weightShare,
        waitP50: sec(quantile(sorted, 0.5)),
        waitP95: sec(quantile(sorted, 0.95)),
        waitMax: sec(sorted.length ? sorted[sorted.length - 1] : null),
      };
    });
    const busy = this.specs.reduce((n, s) => n + s.busyArea, 0);
    for (const s of specs) {
      const peers = this.specs.filter((p) => p.priority === s.priority).reduce((n, p) => n + p.busyArea, 0);
      s.groupShare = peers > 0 ? this.byName.get(s.name).busyArea / peers : null;
    }
    return {
      seed: this.settings.seed,
      hours: this.time / HOUR,
      workers: this.workerCount,
      events: this.eventCount,
      finished: specs.reduce((n, s) => n + s.finished, 0),
      utilization: busy / (span * this.workerCount),
      specs,
    };
  }

  /** Releases the Coordinate's handles (the GC would too). */
  free() {
    for (const w of this.workers) w.handle.free();
    for (const s of this.specs) s.handle.free();
    this.ns.free();
    this.coord.free();
  }
}

/** Runs settings to the end; returns {settings (normalized), summary, series}. */
export function simulate(api, settings) {
  const sim = new Simulation(api, settings);
  sim.run();
  const out = { settings: sim.settings, summary: sim.summary(), series: sim.series };
  sim.free();
  return out;
}
