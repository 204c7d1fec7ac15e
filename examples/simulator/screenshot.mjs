// Renders the simulator page after a full run of a preset (20-minute
// samples) in headless Chromium and writes a PNG (the README's
// docs/img/simulator.png):
//
//   make wasm-build && node examples/simulator/screenshot.mjs [OUT.png] [--preset NAME] [--seed N]
import { writeFileSync } from 'node:fs';
import { DEFAULT_PRESET } from './sim.mjs';
import { serve, PAGE, REPO } from './serve.mjs';
import { launch } from './chromium.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const preset = opt('--preset', DEFAULT_PRESET);
const seed = opt('--seed', '1');
const out = args[0] ?? `${REPO}docs/img/simulator.png`;

const server = await serve({ port: 0 });
const browser = await launch({ timeoutMs: 600_000 });
try {
  const page = await browser.open(`http://127.0.0.1:${server.address().port}${PAGE}?preset=${preset}&seed=${seed}&sampleMinutes=20&autorun=1`, { width: 1200, height: 1180 });
  const state = await page.waitFor(`['done', 'error'].includes(document.body.dataset.state) && document.body.dataset.state`, 600_000);
  if (state !== 'done') throw new Error(`the page failed: ${await page.evaluate(`document.getElementById('error').textContent`)}`);
  const png = await page.screenshot();
  writeFileSync(out, png);
  console.log(`${out}: ${png.length} bytes`);
} finally {
  await browser.close();
  server.close();
}
