// Idiomatic tests of the Node package: value round-trips, Dates and
// milliseconds, errors, panics, statuses, memory, and the API used as a
// JavaScript user would. Run with `node --expose-gc --test`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as api from '../pkg-node/index.js';
import * as native from '../pkg-node/coordinate_wasm.js';

const {
  AttemptStatus,
  Coordinate,
  CoordinateError,
  MockClock,
  WorkUnitStatus,
} = api;

const START = new Date('2026-01-01T00:00:00Z');
const MINUTE = 60_000;

/** A fresh coordinate on a mock clock with one namespace. */
function setup(seed = 1) {
  const clock = new MockClock(START);
  const coord = new Coordinate({ clock, seed });
  const ns = coord.namespace('test');
  return { clock, coord, ns };
}

/** Stores `value` as unit data and reads it back. */
function roundTrip(value) {
  const { ns } = setup();
  const spec = ns.setWorkSpec({ name: 's' });
  return spec.addWorkUnit('u', { v: value }).data().v;
}

/** The error `f` throws (fails if it returns). */
function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

// ---------------------------------------------------------------- values

describe('data values round-trip', () => {
  test('integers and floats come back as numbers', () => {
    for (const n of [0, 1, -1, 42, 2.5, -0.125, 1e300, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      assert.equal(roundTrip(n), n);
    }
    assert.ok(Number.isNaN(roundTrip(NaN)));
    assert.equal(roundTrip(Infinity), Infinity);
    assert.equal(roundTrip(-Infinity), -Infinity);
  });

  test('BigInt: accepted on input, returned beyond ±(2^53-1)', () => {
    assert.equal(roundTrip(5n), 5);
    assert.equal(roundTrip(2n ** 53n), 2n ** 53n);
    assert.equal(roundTrip(-(2n ** 53n)), -(2n ** 53n));
    assert.equal(roundTrip(2n ** 63n - 1n), 2n ** 63n - 1n);
    assert.equal(roundTrip(-(2n ** 63n)), -(2n ** 63n));
    const e = thrown(() => roundTrip(2n ** 63n));
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /^data: BigInt .* does not fit in 64 signed bits/);
  });

  test('integers keep their type through the core (2 and 2.5 distinct from "2")', () => {
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's', priority: 2, weight: 2.9 });
    assert.equal(spec.meta().priority, 2);
    assert.equal(spec.meta().weight, 2, 'a float weight truncates toward zero');
    const s2 = ns.setWorkSpec({ name: 't', priority: '2' });
    assert.equal(s2.meta().priority, 0, 'a string priority is ill-typed and ignored');
  });

  test('strings, booleans, null and undefined', () => {
    assert.equal(roundTrip('héllo ✓ 日本'), 'héllo ✓ 日本');
    assert.equal(roundTrip(''), '');
    assert.equal(roundTrip(true), true);
    assert.equal(roundTrip(false), false);
    assert.equal(roundTrip(null), null);
    assert.equal(roundTrip(undefined), null);
    assert.deepEqual(roundTrip({ a: undefined }), { a: null });
  });

  test('bytes: Uint8Array, Buffer and ArrayBuffer come back as Uint8Array', () => {
    const bytes = roundTrip(new Uint8Array([0, 1, 255]));
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual([...bytes], [0, 1, 255]);
    assert.deepEqual([...roundTrip(Buffer.from('hi'))], [104, 105]);
    assert.deepEqual([...roundTrip(new Uint8Array([7]).buffer)], [7]);
    assert.equal(roundTrip(new Uint8Array()).length, 0);
  });

  test('nested lists and maps, empty ones included, are plain at every level', () => {
    const value = { list: [1, 'two', [3, [4]], { five: 5 }], empty: { l: [], m: {} }, deep: { a: { b: { c: [] } } } };
    const back = roundTrip(value);
    assert.deepEqual(back, value);
    assert.equal(Object.getPrototypeOf(back.deep.a), Object.prototype);
    assert.ok(Array.isArray(back.empty.l));
  });

  test('a Map with string keys is accepted and comes back as a plain object', () => {
    const back = roundTrip(new Map([['k', new Map([['n', 1]])]]));
    assert.deepEqual(back, { k: { n: 1 } });
    const e = thrown(() => roundTrip(new Map([[1, 'x']])));
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^data: map keys must be strings, not a number/);
  });

  test('a "__proto__" key is kept as data, not as a prototype', () => {
    const input = JSON.parse('{"__proto__": {"x": 1}, "y": 2}');
    const back = roundTrip(input);
    assert.deepEqual(Object.keys(back), ['__proto__', 'y']);
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.equal(back.x, undefined);
  });

  test('values that are not data throw TypeError naming the argument', () => {
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    for (const [bad, kind] of [
      [new Date(), 'a Date'],
      [new Set([1]), 'a Set'],
      [() => 1, 'a function'],
      [Symbol('s'), 'a symbol'],
      [new (class Thing {})(), 'a Thing'],
      [spec, 'a WorkSpec'],
    ]) {
      const e = thrown(() => spec.addWorkUnit('u', { bad }));
      assert.ok(e instanceof TypeError, `${kind}: ${e}`);
      assert.ok(e.message.startsWith(`data: ${kind} cannot be stored`), e.message);
    }
    const e = thrown(() => ns.setWorkSpec([['name', 's']]));
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^data must be a plain object or a Map, not an Array/);
  });

  test('cyclic data throws RangeError instead of overflowing the stack', () => {
    const cyclic = { name: 'x' };
    cyclic.self = cyclic;
    const e = thrown(() => roundTrip(cyclic));
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /nested more than 200 levels/);
  });
});

// ------------------------------------------------------------ time values

describe('Dates and milliseconds', () => {
  test('MockClock: start, advance(ms), set(Date); default start', () => {
    const clock = new MockClock(START);
    assert.ok(clock.now() instanceof Date);
    assert.equal(clock.now().toISOString(), '2026-01-01T00:00:00.000Z');
    clock.advance(1500);
    assert.equal(clock.now().toISOString(), '2026-01-01T00:00:01.500Z');
    clock.advance(-500);
    assert.equal(clock.now().getTime(), START.getTime() + 1000);
    clock.set(new Date('2030-06-01T12:00:00Z'));
    assert.equal(clock.now().toISOString(), '2030-06-01T12:00:00.000Z');
    assert.equal(new MockClock().now().toISOString(), '2026-01-01T00:00:00.000Z');
  });

  test('attempt times, lifetimes, renew and retry delays are in milliseconds', () => {
    const { clock, ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    const unit = spec.addWorkUnit('u');
    const worker = ns.worker('w');
    const [a] = worker.requestAttempts({ lifetime: 5 * MINUTE });
    assert.equal(a.startTime().getTime(), START.getTime());
    assert.equal(a.expirationTime().getTime(), START.getTime() + 5 * MINUTE);
    assert.equal(a.endTime(), null, '"no time" is exactly null');
    clock.advance(MINUTE);
    a.renew(10 * MINUTE);
    assert.equal(a.expirationTime().getTime(), START.getTime() + 11 * MINUTE);
    a.retry(null, 90_000);
    assert.equal(a.endTime().getTime(), START.getTime() + MINUTE);
    assert.equal(unit.status(), WorkUnitStatus.DELAYED);
    assert.equal(unit.meta().notBefore.getTime(), START.getTime() + MINUTE + 90_000);
    clock.advance(90_000);
    assert.equal(unit.status(), WorkUnitStatus.AVAILABLE);
  });

  test('the default lease is 15 minutes; makeAttempt takes milliseconds', () => {
    const { ns } = setup();
    const unit = ns.setWorkSpec({ name: 's' }).addWorkUnit('u');
    const w = ns.worker('w');
    assert.equal(w.makeAttempt(unit).expirationTime().getTime() - START.getTime(), 15 * MINUTE);
    assert.equal(w.makeAttempt(unit, 2000).expirationTime().getTime() - START.getTime(), 2000);
    assert.equal(w.expiration().getTime() - w.lastUpdate().getTime(), 15 * MINUTE);
  });

  test('meta().interval is milliseconds while data "interval" stays seconds', () => {
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's', continuous: true, interval: 90 });
    const meta = spec.meta();
    assert.equal(meta.interval, 90_000);
    assert.equal(meta.nextContinuous, null);
    spec.setMeta({ ...meta, interval: 1500, nextContinuous: new Date('2026-02-01T00:00:00Z') });
    assert.equal(spec.meta().interval, 1500);
    assert.equal(spec.meta().nextContinuous.toISOString(), '2026-02-01T00:00:00.000Z');
    assert.equal(spec.data().interval, 90);
  });

  test('worker.update stores the Dates it is given', () => {
    const { ns } = setup();
    const w = ns.worker('w');
    assert.deepEqual(w.data(), {});
    assert.equal(w.mode(), '');
    const now = new Date('2026-03-01T00:00:00Z');
    const exp = new Date('2026-03-01T01:00:00Z');
    w.update({ load: 0.5 }, now, exp, 'run');
    assert.deepEqual(w.data(), { load: 0.5 });
    assert.equal(w.lastUpdate().getTime(), now.getTime());
    assert.equal(w.expiration().getTime(), exp.getTime());
    assert.equal(w.mode(), 'run');
  });

  test('bad instants and durations throw TypeError/RangeError naming the argument', () => {
    const clock = new MockClock(START);
    let e = thrown(() => clock.set('2026-01-01'));
    assert.ok(e instanceof TypeError);
    assert.equal(e.message, 'instant must be a Date, not a string');
    e = thrown(() => clock.set(new Date('nonsense')));
    assert.ok(e instanceof RangeError);
    assert.equal(e.message, 'instant is an invalid Date');
    e = thrown(() => clock.advance('1s'));
    assert.ok(e instanceof TypeError);
    assert.equal(e.message, 'ms must be a number, not a string');
    e = thrown(() => clock.advance(NaN));
    assert.ok(e instanceof api.OutOfRangeError, 'NaN durations are out of range (docs/semantics.md §2.3)');
    assert.equal(e.message, 'ms: duration is NaN');
  });
});

// ------------------------------------------------------------------ errors

describe('errors', () => {
  /** Every error code, with a call that throws it and its seed text. */
  function cases() {
    const { clock, coord, ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    const unit = spec.addWorkUnit('u');
    const worker = ns.worker('w');
    const other = new Coordinate({ clock: new MockClock(START) }).namespace('test');
    return [
      ['NoSuchWorkSpec', () => ns.workSpec('missing'), 'No such work spec missing'],
      ['NoSuchWorkUnit', () => spec.workUnit('missing'), 'No such work unit "missing"'],
      [
        'Gone',
        () => {
          const gone = ns.setWorkSpec({ name: 'gone' });
          ns.destroyWorkSpec('gone');
          gone.data();
        },
        'Object no longer exists',
      ],
      [
        'LostLease',
        () => {
          const a = worker.makeAttempt(unit);
          unit.clearActiveAttempt();
          worker.makeAttempt(unit);
          a.renew(MINUTE);
        },
        'No longer the active attempt',
      ],
      [
        'NotPending',
        () => {
          const a = worker.makeAttempt(spec.addWorkUnit('np'));
          a.finish();
          a.fail();
        },
        'Attempt is not pending',
      ],
      ['NoWork', () => api.simplifiedScheduler({}, clock.now(), 1), 'No work to do'],
      ['ChangedName', () => spec.setData({ name: 'other' }), "Cannot change work spec 'name'"],
      ['NoWorkSpecName', () => ns.setWorkSpec({}), "No 'name' key in work spec"],
      ['BadWorkSpecName', () => ns.setWorkSpec({ name: 7 }), "Work spec 'name' must be a string"],
      [
        'WrongBackend',
        () => other.worker('w').makeAttempt(unit),
        'Cannot combine coordinate objects from different backends',
      ],
      ['WorkUnitNotList', () => api.extractAddWorkUnitItem(5, clock.now()), 'work unit not a list'],
      ['WorkUnitTooShort', () => api.extractAddWorkUnitItem(['a'], clock.now()), 'too few parameters to work unit'],
      ['BadPriority', () => api.extractAddWorkUnitItem(['a', {}, {}, 'high'], clock.now()), 'priority must be a number'],
      [
        'BadWorkUnitItem',
        () => api.extractAddWorkUnitItem([1, {}], clock.now()),
        'bad work unit item: element 0 (name) is not a string',
      ],
      ['InvalidStatus', () => WorkUnitStatus.fromText('seventeen'), 'invalid status (unmarshal, seventeen)'],
      ['InvalidStatus', () => AttemptStatus.fromCode(17), 'invalid status (marshal, 17)'],
      ['InvalidStatus', () => spec.workUnits({ statuses: ['Available'] }), 'invalid status (unmarshal, Available)'],
    ];
  }

  test('requestAttempts() and finish() without arguments (their own exports) throw the same errors', () => {
    const { coord, ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    spec.addWorkUnits(['a', 'b', 'c']);
    const worker = ns.worker('w');
    const [a] = worker.requestAttempts();
    a.expire();
    const e = thrown(() => a.finish());
    assert.ok(e instanceof api.NotPendingError);
    assert.equal(e.message, 'Attempt is not pending');
    // null is absent too, as it always was; data still goes the general way.
    const [b] = worker.requestAttempts(null);
    b.finish(null);
    assert.equal(b.status(), 'finished');
    const [c] = worker.requestAttempts({ numberOfWorkUnits: 1 });
    assert.ok(thrown(() => c.finish(5)) instanceof TypeError);
    c.finish({ done: true });
    assert.deepEqual(c.data(), { done: true });
    const [again] = worker.requestAttempts(); // the last unit ("a" expired, so it is available again)
    again.finish();
    assert.deepEqual(worker.requestAttempts(), []);
    assert.deepEqual(spec.countWorkUnitStatus(), new Map([['finished', 3]]));
    coord.namespace('test').destroy();
    assert.ok(thrown(() => worker.requestAttempts()) instanceof api.GoneError);
    assert.ok(thrown(() => a.finish()) instanceof api.GoneError);
    // A failure leaves nothing behind for the next call.
    const w2 = coord.namespace('again').worker('w');
    assert.deepEqual(w2.requestAttempts(), []);
  });

  test('every error is an Error with name, code, message and its class', () => {
    for (const [code, call, message] of cases()) {
      const e = thrown(call);
      assert.ok(e instanceof Error, `${code}: not an Error: ${e}`);
      assert.ok(e instanceof CoordinateError, code);
      assert.ok(e instanceof api[`${code}Error`], code);
      assert.equal(e.name, `${code}Error`);
      assert.equal(e.code, code);
      assert.equal(e.message, message);
      assert.ok(e.stack.startsWith(`${code}Error: ${message}`), e.stack);
      assert.equal(typeof e, 'object', 'never a string');
    }
  });

  test('every code in the contract has a class, including the never-thrown one', () => {
    const codes = [
      'NoSuchWorkSpec', 'NoSuchWorkUnit', 'Gone', 'LostLease', 'NotPending', 'NoWork',
      'CannotBecomeContinuous', 'ChangedName', 'NoWorkSpecName', 'BadWorkSpecName', 'WrongBackend',
      'WorkUnitNotList', 'WorkUnitTooShort', 'BadPriority', 'BadWorkUnitItem', 'InvalidStatus',
    ];
    for (const code of codes) {
      const cls = api[`${code}Error`];
      const e = new cls('m');
      assert.equal(e.name, `${code}Error`);
      assert.equal(e.code, code);
      assert.ok(e instanceof CoordinateError && e instanceof Error);
      assert.ok(!(e instanceof (code === 'Gone' ? api.NoWorkError : api.GoneError)));
    }
  });

  test('wrong argument types throw TypeError naming the argument', () => {
    const { coord, ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    const w = ns.worker('w');
    const checks = [
      [() => coord.namespace(5), 'name must be a string, not a number'],
      [() => ns.setWorkSpec('s'), 'data must be a plain object or a Map, not a string'],
      [() => spec.addWorkUnit('u', [1]), 'data must be a plain object or a Map, not an Array'],
      [() => spec.addWorkUnit('u', {}, { priority: 'high' }), 'priority must be a number, not a string'],
      [() => w.requestAttempts({ numberOfWorkUnits: '5' }), 'numberOfWorkUnits must be an integer (number or BigInt), not a string'],
      [() => w.requestAttempts({ workSpecs: 's' }), 'workSpecs must be an Array of strings, not a string'],
      [() => w.makeAttempt('u'), 'workUnit must be a WorkUnit, not a string'],
      [() => w.makeAttempt(spec), 'workUnit must be a WorkUnit, not a WorkSpec'],
      [() => w.setParent(spec), 'parent must be a Worker, not a WorkSpec'],
      [() => new Coordinate({ clock: new Date() }), 'clock must be a MockClock, not a Date'],
      [() => new Coordinate({ seed: 'x' }), 'seed must be a number or a BigInt, not a string'],
      [() => spec.addWorkUnits('abc'), 'items must be an Array of work units to add, not a string'],
      [() => spec.addWorkUnits([5]), 'items[0] must be a name, [name, data?, meta?] or {key, data?, meta?}, not a number'],
      [() => spec.meta(true), 'options must be a plain object, not a boolean'],
    ];
    for (const [call, message] of checks) {
      const e = thrown(call);
      assert.ok(e instanceof TypeError, `${message}: got ${e}`);
      assert.equal(e.message, message);
    }
  });

  test('a misspelt option is a TypeError, not silently ignored', () => {
    const { ns } = setup();
    const e = thrown(() => ns.worker('w').requestAttempts({ numberOfWorkUnit: 3 }));
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^request: unknown option "numberOfWorkUnit"/);
  });

  test('out-of-range numbers throw RangeError', () => {
    assert.ok(thrown(() => new Coordinate({ seed: -1 })) instanceof RangeError);
    assert.ok(thrown(() => new Coordinate({ seed: 2 ** 60 })) instanceof RangeError);
    assert.ok(thrown(() => new Coordinate({ seed: 1.5 })) instanceof RangeError);
    assert.ok(thrown(() => new Coordinate({ seed: 2n ** 64n })) instanceof RangeError);
  });
});

describe('panics', () => {
  test('a Rust panic is a thrown Error with its message, not a trap, and the module keeps working', () => {
    for (let i = 0; i < 3; i++) {
      const e = thrown(() => native.__panicForTest(`boom ${i}`));
      assert.ok(e instanceof Error, `not an Error: ${e}`);
      assert.ok(!(e instanceof WebAssembly.RuntimeError), 'an opaque trap');
      assert.equal(e.name, 'PanicError');
      assert.equal(e.message, `boom ${i}`);
    }
    const { ns } = setup();
    ns.setWorkSpec({ name: 's' }).addWorkUnit('u');
    const [a] = ns.worker('w').requestAttempts();
    a.finish();
    assert.equal(a.status(), AttemptStatus.FINISHED);
  });
});

// ---------------------------------------------------------------- statuses

describe('statuses', () => {
  test('the status objects are frozen string enums matching the core', () => {
    assert.equal(WorkUnitStatus.AVAILABLE, 'available');
    assert.equal(AttemptStatus.RETRYABLE, 'retryable');
    assert.ok(Object.isFrozen(WorkUnitStatus) && Object.isFrozen(AttemptStatus));
    const texts = native.__statusTexts();
    assert.deepEqual(Object.values(WorkUnitStatus), texts.workUnit);
    assert.deepEqual(Object.values(AttemptStatus), texts.attempt);
    assert.deepEqual(Object.keys(WorkUnitStatus), texts.workUnit.map((t) => t.toUpperCase()));
  });

  test('fromText, fromCode and codeOf', () => {
    assert.equal(WorkUnitStatus.fromText('delayed'), WorkUnitStatus.DELAYED);
    assert.equal(WorkUnitStatus.fromCode(0), WorkUnitStatus.ANY);
    assert.equal(WorkUnitStatus.codeOf(WorkUnitStatus.FAILED), 4);
    assert.equal(AttemptStatus.fromCode(1), AttemptStatus.EXPIRED);
    assert.equal(AttemptStatus.codeOf('retryable'), 4);
    assert.ok(thrown(() => WorkUnitStatus.fromText('Available')) instanceof api.InvalidStatusError);
    assert.ok(thrown(() => WorkUnitStatus.fromText(1)) instanceof TypeError);
  });
});

// ----------------------------------------------------- the API, as a user

describe('using the API', () => {
  test('a pipeline: chained specs, batches, Map results, queries and summaries', () => {
    const { clock, coord, ns } = setup(7);
    const fetch = ns.setWorkSpec({ name: 'fetch', then: 'parse', max_getwork: 10 });
    ns.setWorkSpec({ name: 'parse' });
    assert.equal(fetch.addWorkUnits(['a', ['b', { url: 'b' }], ['c', null, { priority: 5 }], { key: 'd', data: { n: 1 } }]), 4);
    assert.deepEqual([...fetch.workUnits().keys()], ['a', 'b', 'c', 'd']);
    assert.equal(fetch.addWorkUnits(new Set(['e', 'f'])), 2, 'any iterable of items');
    assert.equal(fetch.deleteWorkUnits({ names: ['e', 'f'] }), 2);
    assert.equal(fetch.workUnit('c').priority(), 5);

    const worker = ns.worker('crawler');
    const attempts = worker.requestAttempts({ numberOfWorkUnits: 3, workSpecs: ['fetch'] });
    assert.deepEqual(attempts.map((a) => a.workUnit.name), ['c', 'a', 'b']);
    for (const a of attempts) a.finish({ output: [`${a.workUnit.name}.html`] });

    const counts = fetch.countWorkUnitStatus();
    assert.ok(counts instanceof Map);
    assert.deepEqual(Object.fromEntries(counts), { available: 1, finished: 3 });
    const parse = ns.workSpec('parse');
    assert.deepEqual([...parse.workUnits({ statuses: [WorkUnitStatus.AVAILABLE] }).keys()], ['a.html', 'b.html', 'c.html']);
    assert.deepEqual([...parse.workUnits({ limit: 1, previousName: 'a.html' }).keys()], ['b.html']);
    assert.equal(parse.deleteWorkUnits({ names: ['a.html'] }), 1);

    const meta = fetch.meta({ withCounts: true });
    assert.equal(meta.availableCount, 1);
    assert.equal(fetch.meta().availableCount, 0, 'plain meta() has no counts');
    assert.equal(meta.maxAttemptsReturned, 10);
    fetch.setMeta({ priority: 3, weight: 2 });
    assert.equal(fetch.meta().priority, 3);
    assert.equal(fetch.meta().maxAttemptsReturned, 0, 'a partial meta takes zero values');

    assert.deepEqual(coord.summarize(), [
      { namespace: 'test', workSpec: 'fetch', status: 'available', count: 1 },
      { namespace: 'test', workSpec: 'fetch', status: 'finished', count: 3 },
      { namespace: 'test', workSpec: 'parse', status: 'available', count: 2 },
    ]);
    assert.ok(coord.namespaces() instanceof Map);
    assert.deepEqual([...ns.workers().keys()], ['crawler']);
    assert.deepEqual(ns.workSpecNames(), ['fetch', 'parse']);
    clock.advance(MINUTE);
    assert.equal(coord.now().getTime(), START.getTime() + MINUTE);
  });

  test('worker trees, child attempts, equality and descriptions', () => {
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    spec.addWorkUnit('u');
    const parent = ns.worker('parent');
    const child = ns.worker('child');
    assert.equal(child.parent(), null);
    child.setParent(parent);
    assert.ok(child.parent().equals(parent));
    assert.deepEqual(parent.children().map((w) => w.name), ['child']);
    const [a] = child.requestAttempts();
    assert.ok(parent.childAttempts()[0].equals(a));
    assert.ok(a.workUnit.equals(spec.workUnit('u')));
    assert.ok(!a.workUnit.equals(spec));
    assert.ok(!a.equals(null) && !a.equals('attempt'));
    assert.ok(spec.workUnit('u').activeAttempt().equals(a));
    assert.ok(a.worker.namespace.equals(ns));
    assert.equal(String(a), 'Attempt("s"/"u" @ "child")');
    assert.equal(String(spec), 'WorkSpec("s")');
    child.setParent(null);
    assert.deepEqual(parent.children(), []);
  });

  test('identity is by id: a re-created object is a different object, and old handles are Gone', () => {
    const { ns } = setup();
    const old = ns.setWorkSpec({ name: 's' });
    ns.destroyWorkSpec('s');
    const fresh = ns.setWorkSpec({ name: 's' });
    assert.ok(!old.equals(fresh));
    assert.ok(thrown(() => old.meta()) instanceof api.GoneError);
    assert.equal(old.name, 's', 'immutable facts stay readable');
  });

  test('without options: the system clock (Date.now) and a random seed', () => {
    const coord = new Coordinate();
    assert.ok(Math.abs(coord.now().getTime() - Date.now()) < 60_000);
    const ns = coord.namespace();
    assert.equal(ns.name, '', 'the default namespace name');
    for (const name of ['a', 'b']) ns.setWorkSpec({ name }).addWorkUnits(['u1', 'u2']);
    const got = ns.worker('w').requestAttempts({ numberOfWorkUnits: 2 });
    assert.equal(got.length, 2, 'the scheduler drew from an OS-seeded RNG');
    assert.ok(got[0].startTime().getTime() <= Date.now());
  });

  test('the same seed and clock steps give the same schedule', () => {
    const run = (seed) => {
      const { ns } = setup(seed);
      for (const name of ['a', 'b', 'c']) {
        const s = ns.setWorkSpec({ name, weight: 1 });
        s.addWorkUnits(Array.from({ length: 20 }, (_, i) => `u${i}`));
      }
      const w = ns.worker('w');
      return Array.from({ length: 30 }, () => w.requestAttempts()[0].workUnit.workSpec.name).join('');
    };
    assert.equal(run(3), run(3));
    assert.equal(run(3n), run(3), 'a BigInt seed equals the number');
    assert.notEqual(run(3), run(4));
  });

  test('addWorkUnit without meta resets priority; free functions', () => {
    const { clock, ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    spec.addWorkUnit('u', { k: 1 }, { priority: 9 });
    spec.addWorkUnit('u', { k: 2 });
    assert.equal(spec.workUnit('u').priority(), 0);
    assert.deepEqual(spec.workUnit('u').meta(), { priority: 0, notBefore: null });

    const out = api.extractWorkUnitOutput([['x', { a: 1 }, { delay: 60 }], 'y'], clock.now());
    assert.ok(out instanceof Map);
    assert.deepEqual(out.get('x').data, { a: 1 });
    assert.equal(out.get('x').meta.notBefore.getTime(), START.getTime() + MINUTE);
    const { name, meta } = api.extractWorkSpecMeta({ name: 'n', nice: 5 });
    assert.equal(name, 'n');
    assert.equal(meta.weight, 15);
    const metas = new Map([['one', { weight: 1, availableCount: 5 }], ['two', { weight: 1, runtime: 'go' }]]);
    assert.deepEqual([...api.limitMetasToRuntimes(metas, ['go']).keys()], ['two']);
    assert.deepEqual([...api.limitMetasToNames({ a: {}, b: {} }, ['b']).keys()], ['b']);
    assert.equal(api.simplifiedScheduler(metas, clock.now(), 0, { seed: 1 }), 'one');
    assert.ok(api.canDoWork({ weight: 1, availableCount: 1 }, clock.now()));
    assert.ok(!api.canDoWork({ weight: 1, availableCount: 1, paused: true }, clock.now()));
    assert.ok(api.canStartContinuous({ continuous: true }, clock.now()));
  });

  test('interleaved async workers never share a unit (the host-level concurrency entries)', async () => {
    // JavaScript has no threads sharing one engine; the equivalent is many
    // async workers whose calls interleave. T-CONCURRENT-EXECUTION and
    // T-ADD-SAME-UNIT, with 8 workers as in the other hosts.
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 1000; i++) {
          spec.addWorkUnit(`unit${String(i).padStart(3, '0')}`, {});
          if (i % 50 === 0) await null;
        }
      }),
    );
    assert.deepEqual(Object.fromEntries(spec.countWorkUnitStatus()), { available: 1000 });

    const seen = new Map();
    await Promise.all(
      Array.from({ length: 8 }, async (_, n) => {
        const w = ns.worker(`w${n}`);
        for (;;) {
          const got = w.requestAttempts();
          if (got.length === 0) return;
          for (const a of got) {
            const name = a.workUnit.name;
            assert.ok(!seen.has(name), `${name} handed to ${seen.get(name)} and w${n}`);
            seen.set(name, `w${n}`);
            await null;
            a.finish();
          }
        }
      }),
    );
    assert.equal(seen.size, 1000);
  });
});

// ------------------------------------------------------------------ memory

describe('memory', () => {
  test('free() retires one handle: a freed handle throws GoneError, a second free() does nothing', () => {
    const { ns, clock } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    const again = ns.workSpec('s');
    spec.free();
    spec.free(); // a second free() is a no-op (it threw before)
    let e = thrown(() => spec.data());
    assert.ok(e instanceof api.GoneError, `${e}`);
    assert.equal(e.message, 'this WorkSpec handle was freed (free() or using); get a new handle to the object');
    assert.ok(thrown(() => spec.name) instanceof api.GoneError);
    assert.deepEqual(again.data(), { name: 's' }, 'other handles to the object stay valid');
    assert.ok(!again.equals(spec), 'a freed handle equals nothing');
    assert.equal(typeof again[Symbol.dispose], 'function');
    again[Symbol.dispose]();
    again[Symbol.dispose]();
    assert.ok(thrown(() => again.data()) instanceof api.GoneError);
    // A freed handle as an argument: GoneError too; a wrong kind stays a TypeError.
    const unit = ns.workSpec('s').addWorkUnit('u');
    const w = ns.worker('w');
    unit.free();
    e = thrown(() => w.makeAttempt(unit));
    assert.ok(e instanceof api.GoneError, `${e}`);
    e = thrown(() => w.makeAttempt(spec));
    assert.ok(e instanceof TypeError);
    assert.equal(e.message, 'workUnit must be a WorkUnit, not a WorkSpec');
    const [a] = w.requestAttempts();
    a.free();
    assert.ok(thrown(() => a.finish()) instanceof api.GoneError);
    assert.equal(ns.workSpec('s').workUnit('u').status(), 'pending', 'freeing released nothing in the store');
    // MockClock is a wasm-bindgen object: the same rules.
    clock.free();
    clock.free();
    assert.ok(thrown(() => clock.now()) instanceof api.GoneError);
    assert.ok(thrown(() => new Coordinate({ clock })) instanceof api.GoneError);
    // The Coordinate too; its other handles keep working.
    const { coord, ns: ns2 } = setup();
    coord.free();
    coord.free();
    assert.ok(thrown(() => coord.namespace('x')) instanceof api.GoneError);
    assert.deepEqual(ns2.workSpecNames(), []);
  });

  test('past their bound the records a reply sends by id start over, and names stay right', () => {
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    spec.addWorkUnits(['u1', 'u2']);
    for (let i = 0; i < 5000; i++) assert.equal(ns.worker(`w${i}`).name, `w${i}`);
    const all = ns.workers();
    assert.equal(all.size, 5000);
    for (const [name, w] of all) assert.equal(w.name, name);
    const [a] = ns.worker('w4999').requestAttempts();
    assert.equal(String(a), 'Attempt("s"/"u1" @ "w4999")');
    assert.equal(a.worker.namespace.name, 'test');
    assert.ok(a.workUnit.workSpec.equals(spec));
    assert.equal(String(ns.worker('w7').requestAttempts()[0]), 'Attempt("s"/"u2" @ "w7")');
  });

  test('handles cannot be constructed directly', () => {
    for (const cls of [api.Namespace, api.WorkSpec, api.WorkUnit, api.Worker, api.Attempt]) {
      assert.ok(thrown(() => new cls()) instanceof TypeError, cls.name);
    }
  });

  test('returned handles own no wasm memory (holding many costs nothing there)', () => {
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    const w = ns.worker('w');
    spec.addWorkUnits(Array.from({ length: 20_000 }, (_, i) => `u${i}`));
    assert.equal(w.requestAttempts({ numberOfWorkUnits: 20_000 }).length, 20_000);
    w.allAttempts(); // the reply buffer reaches its size once
    spec.workUnits();
    const before = native.__wasmMemoryBytes();
    const kept = [];
    for (let i = 0; i < 10; i++) kept.push(w.allAttempts(), spec.workUnits());
    const after = native.__wasmMemoryBytes();
    assert.equal(kept.length, 20);
    // 200,000 attempts and 200,000 units held: as wasm-bindgen objects these
    // took >= 100 bytes each of wasm memory (> 40 MB); as ids, none.
    assert.ok(after - before < 4 << 20, `wasm memory grew from ${before} to ${after} bytes`);
  });

  test('dropped handles are freed by the garbage collector (a long simulation does not leak)', async (t) => {
    if (typeof globalThis.gc !== 'function') {
      t.skip('run node with --expose-gc');
      return;
    }
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    const w = ns.worker('w');
    // Each round makes ~60k short-lived handles (units, attempts, their
    // workers and specs) and then deletes the units, so what remains is
    // only what the dropped JS handles still hold in wasm memory.
    const round = () => {
      for (let i = 0; i < 10_000; i++) spec.addWorkUnit(`u${i}`);
      for (const a of w.requestAttempts({ numberOfWorkUnits: 10_000 })) {
        void a.workUnit.workSpec.name;
        a.finish();
      }
      spec.deleteWorkUnits();
    };
    round();
    await settle();
    const before = native.__wasmMemoryBytes();
    for (let i = 0; i < 10; i++) {
      round();
      await settle();
    }
    const after = native.__wasmMemoryBytes();
    // 10 more rounds would hold >100 MB if handles leaked; allow some slack
    // for allocator fragmentation.
    assert.ok(after - before < 8 << 20, `wasm memory grew from ${before} to ${after} bytes`);
  });
});

// ------------------------------------------------------------- hardening

describe('hardening', () => {
  test('the options reader is reentrant: a getter that calls the API does not change the outer options', () => {
    const { ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    spec.addWorkUnits(['u1', 'u2', 'u3', 'u4', 'u5']);
    const w = ns.worker('w');
    let inner = null;
    const units = spec.workUnits({
      limit: 1,
      get names() {
        inner = thrown(() => w.requestAttempts({ lifetime: 5, bogus: 1 }));
        return undefined;
      },
    });
    assert.ok(inner instanceof TypeError, 'the inner call saw its own options');
    assert.equal(units.size, 1, 'the outer call kept its limit');
    // A getter whose inner call succeeds, with options of its own.
    const got = w.requestAttempts({
      get numberOfWorkUnits() {
        assert.equal(spec.workUnits({ limit: 4, statuses: ['available'] }).size, 4);
        return 2;
      },
      lifetime: 60_000,
    });
    assert.equal(got.length, 2);
    assert.equal(got[0].expirationTime().getTime() - got[0].startTime().getTime(), 60_000);
  });

  test('lone surrogates throw TypeError naming the argument instead of merging names', () => {
    const { coord, ns } = setup();
    const spec = ns.setWorkSpec({ name: 's' });
    const message = (arg, unit, at = 0) =>
      `${arg}: the string has a lone surrogate ('\\u${unit}' at index ${at}): surrogates not allowed (strings must be valid Unicode)`;
    for (const [call, arg, unit, at] of [
      [() => coord.namespace('\ud800'), 'name', 'd800'],
      [() => coord.namespace('ok\udbff'), 'name', 'dbff', 2],
      [() => ns.worker('\udc00'), 'name', 'dc00'],
      [() => ns.setWorkSpec({ name: '\ud800' }), 'data', 'd800'],
      [() => spec.addWorkUnit('\ud800'), 'name', 'd800'],
      [() => spec.addWorkUnit('u', { '\ud800': 1 }), 'data', 'd800'],
      [() => spec.addWorkUnit('u', new Map([['\udfff', 1]])), 'data', 'dfff'],
      [() => spec.addWorkUnit('u', { k: ['x', { deep: 'a\ud800' }] }), 'data', 'd800', 1],
      [() => spec.addWorkUnits(['fine', '\ud800']), 'items[1]', 'd800'],
      [() => spec.addWorkUnits([['\ud800']]), 'items[0] name', 'd800'],
      [() => spec.workUnits({ names: ['\ud800'] }), 'names', 'd800'],
      [() => ns.workSpec('\ud800'), 'name', 'd800'],
    ]) {
      const e = thrown(call);
      assert.ok(e instanceof TypeError, `${arg}: ${e}`);
      assert.equal(e.message, message(arg, unit, at ?? 0));
    }
    assert.deepEqual(spec.workUnits().size, 0, 'nothing was added');
    assert.deepEqual([...coord.namespaces().keys()], ['test']);
    // Pairs and a real U+FFFD are text.
    const data = { '\ud83d\ude00': '\ufffd', k: 'x\ud83d\ude00y' };
    assert.deepEqual(spec.addWorkUnit('\ud83d\ude00\ufffd', data).data(), data);
    assert.equal(coord.namespace('\ufffd').name, '\ufffd');
  });
});
