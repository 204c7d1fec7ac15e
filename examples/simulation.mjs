// A simulated day of a Coordinate cluster, in Node:
//
//   make wasm-build          # once, from the repository root
//   node examples/simulation.mjs [seed]
//
// 50 workers with their own speeds and failure rates pull work from three
// work specs:
//   alerts  priority 1, weight 5    bursts of 40 units every hour; absolute
//                                   priority, so they jump the backlog
//   crawl   priority 0, weight 30   a large backlog
//   index   priority 0, weight 10   a large backlog
// Time comes from a MockClock stepped from event to event; the scheduler and
// the simulation draw from one seed, so the same seed prints the same report.
// The report shows throughput per spec, how close the share of pending work
// among the priority-0 specs came to their weights (30:10), and how long
// alerts waited. examples/simulator is the configurable version of this,
// in the browser (`make simulator`) and in Node (simulator/run.mjs).
import { AttemptStatus, Coordinate, MockClock, WorkUnitStatus } from '../wasm/pkg-node/index.js';
import { Events, ln, rng } from './simulator/sim.mjs';

const SEED = Number(process.argv[2] ?? 42);
const START = new Date('2026-01-01T00:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WORKERS = 50;

const SPECS = [
  { name: 'alerts', priority: 1, weight: 5, max_retries: 3, meanSeconds: 30 },
  { name: 'crawl', priority: 0, weight: 30, max_retries: 3, meanSeconds: 180 },
  { name: 'index', priority: 0, weight: 10, max_retries: 3, meanSeconds: 90 },
];

// ------------------------------------------------------------- randomness

// The seeded PRNG, the logarithm and the event queue are the simulator's
// (examples/simulator/sim.mjs, which also runs in the browser).
const random = rng(SEED);
/** An exponentially distributed duration with this mean. */
const exponential = (mean) => -mean * ln(1 - random());

// ------------------------------------------------------------- the system

const clock = new MockClock(START);
const coord = new Coordinate({ clock, seed: SEED });
const ns = coord.namespace('simulation');
const specs = new Map(
  SPECS.map(({ meanSeconds, ...data }) => [data.name, { handle: ns.setWorkSpec(data), meanSeconds }]),
);
specs.get('crawl').handle.addWorkUnits(Array.from({ length: 40_000 }, (_, i) => [`page-${i}`, { url: `https://example.com/${i}` }]));
specs.get('index').handle.addWorkUnits(Array.from({ length: 40_000 }, (_, i) => [`doc-${i}`, { shard: i % 16 }]));

const workers = Array.from({ length: WORKERS }, (_, i) => ({
  handle: ns.worker(`worker-${String(i).padStart(2, '0')}`),
  speed: 0.5 + random() * 1.5, // 0.5x .. 2x
  failureRate: random() * 0.1, // 0% .. 10%
}));

const stats = Object.fromEntries(SPECS.map((s) => [s.name, { finished: 0, retried: 0, failed: 0, busyMs: 0 }]));
const samples = { crawl: 0, index: 0, count: 0 };
const alertWait = { total: 0, max: 0, count: 0 };
const events = new Events();
const now = () => clock.now().getTime() - START.getTime();

/** A worker asks for work; it polls again in 30 s if there is none. */
function requestWork(worker) {
  const [attempt] = worker.handle.requestAttempts({ lifetime: 15 * MINUTE });
  if (!attempt) {
    events.push(now() + 30 * SECOND, () => requestWork(worker));
    return;
  }
  const spec = attempt.workUnit.workSpec.name;
  if (spec === 'alerts') {
    const hour = Number(attempt.workUnit.name.split('-')[1]);
    const wait = now() - hour * HOUR;
    alertWait.total += wait;
    alertWait.max = Math.max(alertWait.max, wait);
    alertWait.count += 1;
  }
  const duration = Math.max(1, Math.round(exponential(specs.get(spec).meanSeconds * SECOND) / worker.speed));
  events.push(now() + duration, () => complete(worker, attempt, spec, duration));
}

/** The worker is done with an attempt: it finishes, or fails and retries later. */
function complete(worker, attempt, spec, duration) {
  stats[spec].busyMs += duration;
  if (attempt.status() !== AttemptStatus.PENDING) {
    // Expired while the worker was busy (a task longer than its lease).
  } else if (random() < worker.failureRate) {
    attempt.retry({ error: 'transient failure' }, MINUTE);
    stats[spec].retried += 1;
  } else {
    attempt.finish({ by: worker.handle.name });
    stats[spec].finished += 1;
  }
  requestWork(worker);
}

/** Every hour a burst of alerts arrives. */
function alertBurst(hour) {
  specs.get('alerts').handle.addWorkUnits(Array.from({ length: 40 }, (_, i) => `alert-${hour}-${i}`));
  if ((hour + 1) * HOUR < DAY) events.push((hour + 1) * HOUR, () => alertBurst(hour + 1));
}

/** Every minute: how is the pending work split between the equal-priority specs? */
function sample() {
  const crawl = specs.get('crawl').handle.meta({ withCounts: true }).pendingCount;
  const index = specs.get('index').handle.meta({ withCounts: true }).pendingCount;
  if (crawl + index > 0) {
    samples.crawl += crawl / (crawl + index);
    samples.index += index / (crawl + index);
    samples.count += 1;
  }
  if (now() + MINUTE < DAY) events.push(now() + MINUTE, sample);
}

// ---------------------------------------------------------------- the run

events.push(0, () => alertBurst(0));
events.push(0, sample);
for (const w of workers) events.push(Math.floor(random() * 10 * SECOND), () => requestWork(w));
while (events.size > 0) {
  const [time, , action] = events.pop();
  if (time >= DAY) break;
  clock.set(new Date(START.getTime() + time));
  action();
}
clock.set(new Date(START.getTime() + DAY));

// ------------------------------------------------------------- the report

const pct = (x) => `${(100 * x).toFixed(1)}%`;
const pad = (s, n) => String(s).padStart(n);
console.log(`Coordinate simulation: seed ${SEED}, ${WORKERS} workers, one simulated day (${START.toISOString()} .. ${clock.now().toISOString()})`);
console.log('');
console.log('spec     prio weight  finished  per hour  retried  failed  left  worker-hours');
for (const s of SPECS) {
  const st = stats[s.name];
  const counts = Object.fromEntries(specs.get(s.name).handle.countWorkUnitStatus());
  const left = (counts[WorkUnitStatus.AVAILABLE] ?? 0) + (counts[WorkUnitStatus.DELAYED] ?? 0);
  st.failed = counts[WorkUnitStatus.FAILED] ?? 0;
  console.log(
    `${s.name.padEnd(8)} ${pad(s.priority, 4)} ${pad(s.weight, 6)} ${pad(st.finished, 9)} ${pad((st.finished / 24).toFixed(1), 9)}` +
      ` ${pad(st.retried, 8)} ${pad(st.failed, 7)} ${pad(left, 5)} ${pad((st.busyMs / HOUR).toFixed(1), 13)}`,
  );
}
const total = SPECS.reduce((n, s) => n + stats[s.name].finished, 0);
console.log(`total finished: ${total} (${(total / 24).toFixed(1)} per hour)`);
console.log('');
const weights = { crawl: 30, index: 10 };
const weightSum = weights.crawl + weights.index;
console.log(`share of pending work among the priority-0 specs (mean of ${samples.count} one-minute samples):`);
for (const name of ['crawl', 'index']) {
  const share = samples[name] / samples.count;
  const target = weights[name] / weightSum;
  console.log(`  ${name.padEnd(6)} ${pct(share).padStart(6)} (weight share ${pct(target)}, off by ${((share - target) * 100).toFixed(1)} points)`);
}
console.log('');
console.log(
  `alerts (priority 1) jump the backlog: from arrival to start they waited ${(alertWait.total / alertWait.count / SECOND).toFixed(1)} s` +
    ` on average, ${(alertWait.max / SECOND).toFixed(1)} s at most (${alertWait.count} starts, retries included)`,
);
