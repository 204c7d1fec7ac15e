// Replays the shared conformance corpus against the Node package
// (wasm/pkg-node): one test per scenario id. Run with `node --test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as api from '../pkg-node/index.js';
import { readCorpus } from './corpus-node.mjs';
import { coverage, coverageLine, missingOps, runScenario, scenariosOf, skipReason, HOST_SKIPS } from './runner.mjs';

const HOST = 'node';
const files = readCorpus();
const scenarios = scenariosOf(files);
const cov = coverage(files['index.json'], scenarios, HOST);

console.log(`skip list (${HOST}): ${JSON.stringify(HOST_SKIPS[HOST])}`);
console.log(coverageLine(cov));

for (const scenario of scenarios) {
  const reason = skipReason(scenario, HOST);
  test(scenario.id, { skip: reason ?? false }, () => runScenario(api, scenario));
}

test('scenario ids are unique', () => {
  const seen = new Set();
  const dup = scenarios.map((s) => s.id).filter((id) => seen.has(id) || !seen.add(id));
  assert.deepEqual(dup, []);
});

test('every op has a call', () => {
  assert.deepEqual(missingOps(api, scenarios), []);
});

test('catalogue coverage', () => {
  assert.deepEqual(cov.missing, [], `catalogue entries with no scenario: ${cov.missing}`);
});

test('the runner rejects a wrong expectation', () => {
  const base = { id: 't', covers: [], clock: '2026-01-01T00:00:00Z', seed: 1 };
  const wrong = [
    [{ on: 'clock', op: 'now', expect: '2026-01-01T00:00:00.001Z' }],
    [
      { on: 'coord', op: 'namespace', args: { name: 'n' }, as: 'ns' },
      { on: 'ns', op: 'work_spec', args: { name: 'x' }, error: 'Gone' },
    ],
    [
      { on: 'coord', op: 'namespace', args: { name: 'n' }, as: 'ns' },
      { on: 'ns', op: 'set_work_spec', args: { data: { name: 's', priority: 1 } }, as: 'S' },
      { on: 'S', op: 'data', expect: { name: 's', priority: true } },
    ],
  ];
  for (const steps of wrong) assert.throws(() => runScenario(api, { ...base, steps }));
});
