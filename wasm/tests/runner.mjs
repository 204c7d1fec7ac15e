// Replays scenarios of the shared conformance corpus (tests/conformance,
// format in tests/README.md) against the JavaScript package. Host-neutral:
// it imports nothing, so Node (conformance.mjs) and the browser page
// (browser/page.mjs) both use it, each handing in the package module and
// the corpus files.
//
// The runner is a flat table from operation name to a call of the JS API
// (`ops` below) plus the canonical result encoding; it has no code for any
// particular scenario.

/** Scenarios this runner skips, by host, with the reason (scenarios may also
 * carry their own `"skip": {"node": reason}`). Keep this short and visible. */
export const HOST_SKIPS = { node: {}, browser: {} };

// ------------------------------------------------------------------ corpus

/** All scenarios of `files` ({fileName: [scenario...]}, index.json excluded), in file order. */
export function scenariosOf(files) {
  const out = [];
  for (const name of Object.keys(files).sort()) {
    if (name === 'index.json') continue;
    for (const scenario of files[name]) out.push({ ...scenario, _file: name });
  }
  return out;
}

/** Why `host` skips `scenario`, or null. */
export function skipReason(scenario, host) {
  return scenario.skip?.[host] ?? HOST_SKIPS[host]?.[scenario.id] ?? null;
}

/** Catalogue coverage: {covered, total, missing, skipped: {id: reason}}. */
export function coverage(index, scenarios, host) {
  const skipped = {};
  for (const s of scenarios) {
    const reason = skipReason(s, host);
    if (reason !== null) skipped[s.id] = reason;
  }
  const covered = new Set(Object.keys(index.host_level ?? {}));
  for (const s of scenarios) if (!(s.id in skipped)) s.covers.forEach((c) => covered.add(c));
  const missing = index.catalogue.filter((c) => !covered.has(c));
  return { covered: index.catalogue.length - missing.length, total: index.catalogue.length, missing, skipped };
}

/** The coverage line every host's runner prints. */
export function coverageLine(cov) {
  return `conformance: ${cov.covered}/${cov.total} catalogue entries covered, ${Object.keys(cov.skipped).length} skipped`;
}

// --------------------------------------------------------------- arguments

const instant = (text) => new Date(text);
const optInstant = (text) => (text === null || text === undefined ? null : instant(text));

function base64Decode(text) {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function base64Encode(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

const isPlain = (v) => v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/** A corpus data value: {"$bytes"} and {"$tuple"} tags decoded. */
function data(v) {
  if (Array.isArray(v)) return v.map(data);
  if (isPlain(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$bytes') return base64Decode(v.$bytes);
    if (keys.length === 1 && keys[0] === '$tuple') return v.$tuple.map(data);
    return Object.fromEntries(keys.map((k) => [k, data(v[k])]));
  }
  return v;
}


// Each record's fields (Python/corpus name, camelCase name, kind) from the
// core's table (coordinate::records), read once the module is loaded.
let FIELDS = null;
function fieldsOf(api, record) {
  if (FIELDS === null) {
    FIELDS = {};
    for (const r of ['WorkSpecMeta', 'WorkUnitMeta', 'WorkUnitQuery', 'AttemptRequest', 'AddWorkUnitItem', 'SummaryRecord']) {
      FIELDS[r] = api.__recordFields(r);
    }
  }
  return FIELDS[record];
}
let API = null;

/** A corpus record (snake_case keys) as the JS object (camelCase), by kind. */
function recordIn(record, m) {
  if (m === null || m === undefined) return m;
  const fields = fieldsOf(API, record);
  const out = {};
  for (const [k, v] of Object.entries(m)) {
    const f = fields.find((x) => x.name === k);
    if (!f) throw new Error(`${record}: unknown field ${k}`);
    out[f.jsName] = f.kind === 'instant' ? optInstant(v) : f.kind === 'unit_meta' ? recordIn('WorkUnitMeta', v) : v;
  }
  return out;
}

/** A JS record (camelCase keys) in the corpus's form (snake_case keys), by kind. */
function recordOut(record, m) {
  const out = {};
  for (const f of fieldsOf(API, record)) {
    const v = m[f.jsName];
    out[f.name] = f.kind === 'unit_meta' ? recordOut('WorkUnitMeta', v) : v;
  }
  return out;
}

const specMetaIn = (m) => recordIn('WorkSpecMeta', m);
const unitMetaIn = (m) => recordIn('WorkUnitMeta', m);
const query = (q) => recordIn('WorkUnitQuery', q);
const request = (r) => recordIn('AttemptRequest', r);
const metasIn = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, specMetaIn(v)]));

function addItem(item) {
  if (typeof item === 'string') return item;
  const [name, ...rest] = item;
  const out = [name];
  if (rest.length > 0) out.push(data(rest[0]));
  if (rest.length > 1) out.push(unitMetaIn(rest[1]));
  return out;
}

// ----------------------------------------------------------------- results

const specMetaOut = (m) => recordOut('WorkSpecMeta', m);
const unitMetaOut = (m) => recordOut('WorkUnitMeta', m);
const itemOut = (i) => recordOut('AddWorkUnitItem', i);
const mapOut = (m, f = (v) => v) => Object.fromEntries([...m].map(([k, v]) => [k, f(v)]));

function summaryOut(api, records) {
  const order = Object.values(api.WorkUnitStatus);
  const key = (r) => [r.namespace, r.workSpec, order.indexOf(r.status)];
  const cmp = (a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
  };
  return [...records]
    .sort(cmp)
    .map((r) => recordOut('SummaryRecord', r));
}

/** The canonical form of a result (tests/README.md). */
export function canon(api, x) {
  if (x === null || x === undefined) return null;
  if (typeof x === 'bigint') return Number(x);
  if (typeof x !== 'object') return x;
  if (x instanceof Date) return x.toISOString();
  if (x instanceof Uint8Array) return { $bytes: base64Encode(x) };
  if (x instanceof api.Namespace) return `ns:${x.name}`;
  if (x instanceof api.WorkSpec) return `spec:${x.name}`;
  if (x instanceof api.WorkUnit) return `unit:${x.workSpec.name}/${x.name}`;
  if (x instanceof api.Worker) return `worker:${x.name}`;
  if (x instanceof api.Attempt) return `attempt:${x.workUnit.workSpec.name}/${x.workUnit.name}@${x.worker.name}`;
  if (x instanceof Map) return Object.fromEntries([...x].map(([k, v]) => [k, canon(api, v)]));
  if (Array.isArray(x)) return x.map((v) => canon(api, v));
  if (isPlain(x) || Object.getPrototypeOf(x) === null) {
    return Object.fromEntries(Object.keys(x).map((k) => [k, canon(api, x[k])]));
  }
  throw new TypeError(`no canonical form for ${x}`);
}

/** Exact equality of canonical forms, except that numbers compare by value (2 == 2.0; never true == 1). */
export function same(actual, expected) {
  if (typeof expected === 'number' || typeof actual === 'number') {
    return typeof actual === 'number' && typeof expected === 'number' && (actual === expected || (Number.isNaN(actual) && Number.isNaN(expected)));
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => same(actual[i], e));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const ka = Object.keys(actual).sort();
    const ke = Object.keys(expected).sort();
    return ka.length === ke.length && ka.every((k, i) => k === ke[i]) && ke.every((k) => same(actual[k], expected[k]));
  }
  return actual === expected;
}

// ---------------------------------------------------------------- dispatch

/** op -> (target, args) => result. Most ops are the camelCase method of the
 * same name on the target; properties and conversions are spelled out. */
export function ops(api) {
  API = api;
  const opt = (a, key, f = data) => (key in a ? f(a[key]) : undefined);
  const statusJson = (text) => JSON.stringify(text);
  return {
    // clock
    now: (t) => t.now(),
    advance: (t, a) => t.advance(a.ms),
    set: (t, a) => t.set(instant(a.time)),
    // coordinate
    namespace: (t, a) => t.namespace(a.name),
    namespaces: (t) => t.namespaces(),
    summarize: (t) => summaryOut(api, t.summarize()),
    // namespace
    name: (t) => t.name,
    destroy: (t) => t.destroy(),
    set_work_spec: (t, a) => t.setWorkSpec(data(a.data)),
    work_spec: (t, a) => ('name' in a ? t.workSpec(a.name) : t.workSpec),
    destroy_work_spec: (t, a) => t.destroyWorkSpec(a.name),
    work_spec_names: (t) => t.workSpecNames(),
    worker: (t, a) => ('name' in a ? t.worker(a.name) : t.worker),
    workers: (t) => t.workers(),
    // work spec
    data: (t) => t.data(),
    set_data: (t, a) => t.setData(data(a.data)),
    meta: (t, a) =>
      t instanceof api.WorkSpec
        ? specMetaOut(t.meta('with_counts' in a ? { withCounts: a.with_counts } : undefined))
        : unitMetaOut(t.meta()),
    set_meta: (t, a) => t.setMeta(t instanceof api.WorkSpec ? specMetaIn(a.meta) : unitMetaIn(a.meta)),
    add_work_unit: (t, a) => t.addWorkUnit(a.name, opt(a, 'data'), opt(a, 'meta', unitMetaIn)),
    add_work_units: (t, a) => t.addWorkUnits(a.items.map(addItem)),
    work_unit: (t, a) => ('name' in a ? t.workUnit(a.name) : t.workUnit),
    work_units: (t, a) => t.workUnits(opt(a, 'query', query)),
    count_work_unit_status: (t) => mapOut(t.countWorkUnitStatus()),
    set_work_unit_priorities: (t, a) => t.setWorkUnitPriorities(a.priority, opt(a, 'query', query)),
    adjust_work_unit_priorities: (t, a) => t.adjustWorkUnitPriorities(a.adjustment, opt(a, 'query', query)),
    delete_work_units: (t, a) => t.deleteWorkUnits(opt(a, 'query', query)),
    // work unit
    status: (t) => t.status(),
    priority: (t) => t.priority(),
    set_priority: (t, a) => t.setPriority(a.priority),
    active_attempt: (t) => t.activeAttempt(),
    clear_active_attempt: (t) => t.clearActiveAttempt(),
    attempts: (t) => t.attempts(),
    num_attempts: (t) => t.numAttempts(),
    // attempt
    start_time: (t) => t.startTime(),
    end_time: (t) => t.endTime(),
    expiration_time: (t) => t.expirationTime(),
    renew: (t, a) => t.renew(a.duration_ms, opt(a, 'data')),
    expire: (t, a) => t.expire(opt(a, 'data')),
    finish: (t, a) => t.finish(opt(a, 'data')),
    fail: (t, a) => t.fail(opt(a, 'data')),
    retry: (t, a) => t.retry(opt(a, 'data'), opt(a, 'delay_ms', (v) => v)),
    // worker
    parent: (t) => t.parent(),
    set_parent: (t, a) => t.setParent(a.parent),
    children: (t) => t.children(),
    active: (t) => t.active(),
    deactivate: (t) => t.deactivate(),
    mode: (t) => t.mode(),
    expiration: (t) => t.expiration(),
    last_update: (t) => t.lastUpdate(),
    update: (t, a) => t.update(data(a.data), instant(a.now), instant(a.expiration), a.mode),
    request_attempts: (t, a) => t.requestAttempts(opt(a, 'request', request)),
    make_attempt: (t, a) => t.makeAttempt(a.work_unit, opt(a, 'lifetime_ms', (v) => v)),
    active_attempts: (t) => t.activeAttempts(),
    all_attempts: (t) => t.allAttempts(),
    child_attempts: (t) => t.childAttempts(),
    // any handle
    equals: (t, a) => t.equals(a.other),
    // free functions
    extract_work_unit_output: (_, a) => mapOut(api.extractWorkUnitOutput(data(a.output), instant(a.now)), itemOut),
    extract_add_work_unit_item: (_, a) => itemOut(api.extractAddWorkUnitItem(data(a.obj), instant(a.now))),
    extract_work_spec_meta: (_, a) => {
      const { name, meta } = api.extractWorkSpecMeta(data(a.data));
      return { name, meta: specMetaOut(meta) };
    },
    limit_metas_to_names: (_, a) => [...api.limitMetasToNames(metasIn(a.metas), a.names).keys()].sort(),
    limit_metas_to_runtimes: (_, a) => [...api.limitMetasToRuntimes(metasIn(a.metas), a.runtimes).keys()].sort(),
    simplified_scheduler: (_, a) =>
      api.simplifiedScheduler(metasIn(a.metas), instant(a.now), a.available_gb, 'seed' in a ? { seed: a.seed } : undefined),
    work_unit_status_to_text: (_, a) => api.WorkUnitStatus.fromCode(a.code),
    work_unit_status_to_json: (_, a) => statusJson(api.WorkUnitStatus.fromCode(a.code)),
    work_unit_status_from_text: (_, a) => api.WorkUnitStatus.codeOf(api.WorkUnitStatus.fromText(a.text)),
    work_unit_status_from_json: (_, a) => api.WorkUnitStatus.codeOf(api.WorkUnitStatus.fromText(JSON.parse(a.json))),
    attempt_status_to_text: (_, a) => api.AttemptStatus.fromCode(a.code),
    attempt_status_to_json: (_, a) => statusJson(api.AttemptStatus.fromCode(a.code)),
    attempt_status_from_text: (_, a) => api.AttemptStatus.codeOf(api.AttemptStatus.fromText(a.text)),
    attempt_status_from_json: (_, a) => api.AttemptStatus.codeOf(api.AttemptStatus.fromText(JSON.parse(a.json))),
  };
}

// -------------------------------------------------------------- the runner

function resolve(v, env) {
  if (Array.isArray(v)) return v.map((x) => resolve(x, env));
  if (isPlain(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$ref') {
      if (!(v.$ref in env)) throw new Error(`unbound name ${v.$ref}`);
      return env[v.$ref];
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(v[k], env)]));
  }
  return v;
}

const errorCode = (api, e) => (e instanceof api.CoordinateError ? e.code : e?.name ?? String(e));
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function runStep(api, table, env, step) {
  const op = table[step.op];
  check(op, `no call for op ${step.op}`);
  const target = 'on' in step ? env[step.on] : undefined;
  check(!('on' in step) || step.on in env, `unbound name ${step.on}`);
  const args = resolve(step.args ?? {}, env);

  if (step.trials) {
    const { count, seed_arg: seedArg, first_seed: firstSeed } = step.trials;
    const tally = {};
    for (let i = 0; i < count; i++) {
      let key;
      try {
        const result = canon(api, op(target, { ...args, [seedArg]: firstSeed + i }));
        key = typeof result === 'string' ? result : JSON.stringify(result);
      } catch (e) {
        if (!(e instanceof api.CoordinateError)) throw e;
        key = e.code;
      }
      tally[key] = (tally[key] ?? 0) + 1;
    }
    for (const [key, n] of Object.entries(tally)) {
      check(key in step.expect_tally, `unexpected result ${key} (${n} times); tally ${show(tally)}`);
      const [low, high] = step.expect_tally[key];
      check(low <= n && n <= high, `${key} seen ${n} times, not in [${low}, ${high}]; tally ${show(tally)}`);
    }
    return;
  }

  if ('error' in step) {
    let thrown = null;
    try {
      op(target, args);
    } catch (e) {
      thrown = e;
    }
    check(thrown !== null, `expected error ${step.error}, but the call succeeded`);
    check(thrown instanceof Error, `thrown value is not an Error: ${thrown}`);
    const code = errorCode(api, thrown);
    check(code === step.error, `expected error ${step.error}, got ${code}: ${thrown.message}`);
    if ('message' in step) check(thrown.message === step.message, `message ${show(thrown.message)}, expected ${show(step.message)}`);
    return;
  }

  const result = op(target, args);
  if ('as' in step) env[step.as] = result;
  if ('as_each' in step) {
    check(result.length === step.as_each.length, `${result.length} results for as_each ${show(step.as_each)}`);
    step.as_each.forEach((name, i) => (env[name] = result[i]));
  }
  if ('expect' in step) {
    const got = canon(api, result);
    check(same(got, step.expect), `got ${show(got)}, expected ${show(step.expect)}`);
  }
  if ('expect_fields' in step) {
    const got = canon(api, result);
    for (const [key, want] of Object.entries(step.expect_fields)) {
      check(got !== null && typeof got === 'object' && key in got, `no field ${key} in ${show(got)}`);
      check(same(got[key], want), `${key}: got ${show(got[key])}, expected ${show(want)}`);
    }
  }
  if ('expect_len' in step) {
    const n = result instanceof Map ? result.size : Array.isArray(result) ? result.length : Object.keys(result).length;
    check(n === step.expect_len, `length ${n}, expected ${step.expect_len}: ${show(canon(api, result))}`);
  }
}

/** Runs one scenario on a fresh MockClock and Coordinate; throws on the first failing step. */
export function runScenario(api, scenario) {
  const table = ops(api);
  const clock = new api.MockClock(instant(scenario.clock));
  const coord = new api.Coordinate({ clock, seed: scenario.seed });
  const env = { coord, clock };
  scenario.steps.forEach((step, i) => {
    try {
      runStep(api, table, env, step);
    } catch (e) {
      const what = `${step.on ?? ''}.${step.op}`;
      const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new Error(`step ${i} (${what}): ${detail}\n  step: ${show(step).slice(0, 400)}`, { cause: e });
    }
  });
}

/** The ops the corpus uses that the table lacks (should be empty). */
export function missingOps(api, scenarios) {
  const table = ops(api);
  const used = new Set(scenarios.flatMap((s) => s.steps.map((st) => st.op)));
  return [...used].filter((op) => !(op in table)).sort();
}

/** Runs every scenario; returns [{id, status: "pass"|"fail"|"skip", detail}]. */
export function runAll(api, scenarios, host) {
  return scenarios.map((s) => {
    const reason = skipReason(s, host);
    if (reason !== null) return { id: s.id, status: 'skip', detail: reason };
    try {
      runScenario(api, s);
      return { id: s.id, status: 'pass', detail: '' };
    } catch (e) {
      return { id: s.id, status: 'fail', detail: e.message };
    }
  });
}
