// The simulation example (examples/simulation.mjs) runs, and the same seed
// gives the same output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../examples/simulation.mjs', import.meta.url));
const run = (seed) => execFileSync(process.execPath, [SCRIPT, String(seed)], { encoding: 'utf8', timeout: 300_000 });

test('the simulation is reproducible: same seed, same output', () => {
  const first = run(7);
  const second = run(7);
  assert.equal(first, second);
  assert.match(first, /^Coordinate simulation: seed 7, 50 workers, one simulated day/);
  for (const spec of ['alerts', 'crawl', 'index']) assert.match(first, new RegExp(`^${spec} `, 'm'));
  assert.match(first, /share of pending work among the priority-0 specs/);
  // The scheduler steers pending work toward the weights (crawl 75%, index 25%).
  const share = Number(first.match(/^ {2}crawl +([\d.]+)%/m)[1]);
  assert.ok(Math.abs(share - 75) < 10, `crawl's share ${share}% is far from its weight share 75%`);
});

test('another seed gives another day', () => {
  assert.notEqual(run(7), run(8));
});
