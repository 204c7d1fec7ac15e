// Issue 15, points 1, 12 and 13 in Node: the capacity bound of a Coordinate
// (`maxUnits`, `maxBytes`) refuses adds with a CapacityError before wasm
// memory runs out, and the module keeps working; parent cycles throw
// InvalidArgumentError; `keep_attempts` bounds each unit's history.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as api from '../pkg-node/index.js';

const { Coordinate, CapacityError, CoordinateError, InvalidArgumentError, MockClock } = api;

const START = new Date('2026-01-01T00:00:00Z');

function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

function setup(options) {
  const coord = new Coordinate({ clock: new MockClock(START), seed: 1, ...options });
  const ns = coord.namespace('cap');
  ns.setWorkSpec({ name: 't' });
  return { coord, ns, spec: ns.setWorkSpec({ name: 's', then: 't' }), worker: ns.worker('w') };
}

describe('capacity', () => {
  test('CapacityError is a CoordinateError with its code', () => {
    const e = new CapacityError('m');
    assert.ok(e instanceof CoordinateError && e instanceof Error);
    assert.equal(e.name, 'CapacityError');
    assert.equal(e.code, 'Capacity');
  });

  test('maxUnits refuses adds, changes nothing, and the module keeps working', () => {
    const { coord, spec } = setup({ maxUnits: 3 });
    assert.equal(spec.addWorkUnits(['a', 'b', 'c']), 3);
    const e = thrown(() => spec.addWorkUnit('d'));
    assert.ok(e instanceof CapacityError, String(e));
    assert.equal(e.code, 'Capacity');
    assert.match(e.message, /max_units=3/);
    assert.ok(thrown(() => spec.addWorkUnits([['a', { v: 1 }], 'e'])) instanceof CapacityError);
    assert.deepEqual([...spec.workUnits().keys()].sort(), ['a', 'b', 'c']);
    assert.deepEqual(spec.workUnit('a').data(), {});
    // Still usable: other Coordinates, and this one after freeing room.
    const other = new Coordinate().namespace('x').setWorkSpec({ name: 'y' });
    other.addWorkUnit('z');
    assert.equal(spec.deleteWorkUnits({ names: ['c'] }), 1);
    spec.addWorkUnit('d');
    assert.equal(coord.namespace('cap').workSpec('s').workUnits().size, 3);
  });

  test('maxBytes covers the copies of unit data that attempts make', () => {
    const { spec, worker } = setup({ maxBytes: 17000 });
    spec.addWorkUnit('a', { blob: 'x'.repeat(5000) });
    spec.addWorkUnit('b', { blob: 'x'.repeat(5000) });
    assert.ok(thrown(() => spec.addWorkUnit('c', { blob: 'x'.repeat(7000) })) instanceof CapacityError);
    // Like the report: two requests; the first gets what fits, the second is refused.
    assert.equal(worker.requestAttempts({ numberOfWorkUnits: 2 }).length, 1);
    assert.ok(thrown(() => worker.requestAttempts()) instanceof CapacityError);
    assert.equal(spec.workUnit('b').status(), 'available');
    assert.equal(worker.activeAttempts().length, 1);
  });

  test('bad bounds throw', () => {
    assert.ok(thrown(() => new Coordinate({ maxUnits: -1 })) instanceof RangeError);
    assert.ok(thrown(() => new Coordinate({ maxBytes: 'lots' })) instanceof TypeError);
  });
});

describe('loose ends', () => {
  test('setParent refuses itself and cycles', () => {
    const ns = new Coordinate().namespace('p');
    const a = ns.worker('a');
    const b = ns.worker('b');
    b.setParent(a);
    const e = thrown(() => a.setParent(a));
    assert.ok(e instanceof InvalidArgumentError, String(e));
    assert.equal(e.message, 'parent: a worker cannot be its own parent');
    assert.ok(thrown(() => a.setParent(b)) instanceof InvalidArgumentError);
    assert.equal(a.parent(), null);
  });

  test('keep_attempts drops old attempts, whose handles are Gone', () => {
    const ns = new Coordinate().namespace('k');
    const spec = ns.setWorkSpec({ name: 's', keep_attempts: 2 });
    const unit = spec.addWorkUnit('u');
    const w = ns.worker('w');
    const made = [];
    for (let i = 0; i < 4; i++) {
      const a = w.makeAttempt(unit);
      a.expire();
      made.push(a);
    }
    assert.equal(unit.attempts().length, 2);
    assert.equal(unit.numAttempts(), 4);
    assert.ok(thrown(() => made[0].status()) instanceof api.GoneError);
    assert.ok(thrown(() => ns.setWorkSpec({ name: 'x', keep_attempts: 1.5 })) instanceof InvalidArgumentError);
  });
});
