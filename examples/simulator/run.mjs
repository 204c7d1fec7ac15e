// The simulator in Node: the same core (sim.mjs) as the page, with the Node
// build of the wasm package. Same settings and seed, same figures.
//
//   make wasm-build      # once, from the repository root
//   node examples/simulator/run.mjs [--preset NAME] [--seed N] [--short]
//        [--settings FILE.json] [--json]
//
// --json prints {summary, series} (what the page computes) instead of the table.
import { readFileSync } from 'node:fs';
import * as api from '../../wasm/pkg-node/index.js';
import { DEFAULT_PRESET, PRESETS, presetSettings, shortened, simulate } from './sim.mjs';
import { formatSummary } from './report.mjs';

function parseArgs(argv) {
  const opts = { preset: DEFAULT_PRESET, seed: 1, short: false, json: false, settings: null };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--preset') opts.preset = value();
    else if (a === '--seed') opts.seed = Number(value());
    else if (a === '--short') opts.short = true;
    else if (a === '--json') opts.json = true;
    else if (a === '--settings') opts.settings = value();
    else throw new Error(`unknown argument ${a}; presets: ${Object.keys(PRESETS).join(', ')}`);
  }
  return opts;
}

try {
  const opts = parseArgs(process.argv.slice(2));
  let settings = opts.settings ? { seed: opts.seed, ...JSON.parse(readFileSync(opts.settings, 'utf8')) } : presetSettings(opts.preset, opts.seed);
  if (opts.short) settings = shortened(settings);
  const result = simulate(api, settings);
  if (opts.json) console.log(JSON.stringify(result));
  else console.log(formatSummary(result.summary));
} catch (e) {
  console.error(`simulator: ${e.message}`);
  process.exit(2);
}
