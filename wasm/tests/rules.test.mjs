// The rules written once in the core, as JavaScript sees them: the error
// classes against the core's list, the duration and instant ranges, NaN
// priorities, and the grammar of a unit to add. Run with `node --test`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as api from '../pkg-node/index.js';

const { Coordinate, CoordinateError, MockClock, OutOfRangeError, BadPriorityError } = api;

const START = new Date('2026-01-01T00:00:00Z');

function setup() {
  const clock = new MockClock(START);
  const coord = new Coordinate({ clock, seed: 1 });
  const ns = coord.namespace('rules');
  return { clock, ns, spec: ns.setWorkSpec({ name: 's' }), worker: ns.worker('w') };
}

function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

describe('error classes', () => {
  test('the exported classes are exactly the core codes, each with its code', () => {
    const codes = api.errorCodes();
    assert.ok(codes.includes('NoSuchWorkSpec') && codes.includes('OutOfRange'));
    const exported = Object.keys(api).filter((k) => k.endsWith('Error') && typeof api[k] === 'function');
    assert.deepEqual(exported.sort(), [...codes.map((c) => `${c}Error`), 'CoordinateError'].sort());
    for (const code of codes) {
      const cls = api[`${code}Error`];
      assert.equal(cls.code, code);
      const e = new cls('m');
      assert.ok(e instanceof CoordinateError);
      assert.equal(e.code, code);
      assert.equal(e.name, `${code}Error`);
    }
  });
});

describe('durations and instants', () => {
  test('out-of-range durations throw OutOfRangeError at the call', () => {
    const { clock, spec, worker } = setup();
    const unit = spec.addWorkUnit('u');
    for (const bad of [1e12 + 1, 1e15, Infinity, -Infinity, NaN]) {
      let e = thrown(() => worker.makeAttempt(unit, bad));
      assert.ok(e instanceof OutOfRangeError, `${bad}: ${e}`);
      assert.match(e.message, /^lifetimeMs: /);
      e = thrown(() => clock.advance(bad));
      assert.ok(e instanceof OutOfRangeError);
      assert.match(e.message, /^ms: /);
      e = thrown(() => worker.requestAttempts({ lifetime: bad }));
      assert.ok(e instanceof OutOfRangeError);
      assert.match(e.message, /^lifetime: /);
    }
    assert.equal(clock.now().getTime(), START.getTime());
    const attempt = worker.makeAttempt(unit, 1e12);
    assert.equal(attempt.expirationTime().getTime(), START.getTime() + 1e12);
    assert.ok(thrown(() => attempt.renew(Infinity)) instanceof OutOfRangeError);
    assert.ok(thrown(() => attempt.retry(null, 1e13)) instanceof OutOfRangeError);
  });

  test('instants outside years 1..9999 are refused', () => {
    const { clock } = setup();
    const e = thrown(() => clock.set(new Date('+010000-01-01T00:00:00Z')));
    assert.ok(e instanceof OutOfRangeError);
    clock.set(new Date('9999-12-31T23:00:00Z'));
    assert.ok(thrown(() => clock.advance(2 * 3600_000)) instanceof OutOfRangeError);
    assert.equal(clock.now().toISOString(), '9999-12-31T23:00:00.000Z');
  });

  test('a spec interval out of range is clamped to 10^9 s', () => {
    const { ns } = setup();
    const meta = ns.setWorkSpec({ name: 'c', continuous: true, interval: 1e300 }).meta();
    assert.equal(meta.interval, 1e12);
  });
});

describe('priorities', () => {
  test('NaN priorities throw BadPriorityError; infinities are kept', () => {
    const { spec } = setup();
    const unit = spec.addWorkUnit('u');
    assert.ok(thrown(() => unit.setPriority(NaN)) instanceof BadPriorityError);
    assert.ok(thrown(() => spec.setWorkUnitPriorities(NaN)) instanceof BadPriorityError);
    assert.ok(thrown(() => spec.adjustWorkUnitPriorities(NaN)) instanceof BadPriorityError);
    assert.ok(thrown(() => spec.addWorkUnit('v', {}, { priority: NaN })) instanceof BadPriorityError);
    unit.setPriority(Infinity);
    assert.equal(unit.priority(), Infinity);
  });
});

describe('records and the grammar', () => {
  test('records keep their camelCase keys, from the core table', () => {
    const { spec } = setup();
    const names = api.__recordFields('WorkSpecMeta').map((f) => f.jsName);
    assert.deepEqual(Object.keys(spec.meta()), names);
    assert.ok(names.includes('maxAttemptsReturned'));
    assert.deepEqual(Object.keys(spec.summarize()[0] ?? { namespace: 0, workSpec: 0, status: 0, count: 0 }), [
      'namespace',
      'workSpec',
      'status',
      'count',
    ]);
  });

  test('addWorkUnits keeps every form, with exact notBefore', () => {
    const { spec } = setup();
    const later = new Date(START.getTime() + 1234);
    assert.equal(
      spec.addWorkUnits(['a', ['b'], ['c', { k: 1 }], ['d', null, { priority: 2, notBefore: later }], { key: 'e' }]),
      5,
    );
    assert.deepEqual(spec.workUnit('d').meta(), { priority: 2, notBefore: later });
    assert.deepEqual(spec.workUnit('c').data(), { k: 1 });
    const e = thrown(() => spec.addWorkUnits([['x', null, { notBefore: new Date('+020000-01-01T00:00:00Z') }]]));
    assert.ok(e instanceof OutOfRangeError, `${e}`);
  });
});
