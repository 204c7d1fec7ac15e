// Runs the conformance corpus in headless Chromium: serves the repository
// on 127.0.0.1 (a free port), loads browser/index.html, which imports the
// web build (wasm/pkg-web) and runs every scenario with runner.mjs, and
// asserts from the dumped DOM that every scenario passed. One test per
// scenario id. Needs Debian's chromium (scripts/wasm-toolchain.sh --chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { readCorpus } from './corpus-node.mjs';
import { HOST_SKIPS, scenariosOf } from './runner.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** Serves wasm/ and tests/ of the repository, plus /corpus.json (every corpus file by name). */
function serve() {
  const corpus = JSON.stringify(readCorpus());
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (path === '/corpus.json') {
      res.writeHead(200, { 'content-type': TYPES['.json'] });
      res.end(corpus);
      return;
    }
    const file = join(REPO, path);
    if (!/^\/(wasm|tests)\//.test(path) || !file.startsWith(REPO) || !existsSync(file)) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function dumpDom(url) {
  const profile = mkdtempSync(join(tmpdir(), 'coordinate-chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, '--virtual-time-budget=60000', '--dump-dom', url,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 300_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err && !stdout) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function unescapeHtml(s) {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

const scenarios = scenariosOf(readCorpus());
const haveChromium = existsSync(CHROMIUM);

const outcome = (async () => {
  assert.ok(haveChromium, `no ${CHROMIUM}: install it with scripts/wasm-toolchain.sh --chromium`);
  const server = await serve();
  try {
    const url = `http://127.0.0.1:${server.address().port}/wasm/tests/browser/index.html`;
    const dom = await dumpDom(url);
    const m = dom.match(/<pre id="result">([\s\S]*?)<\/pre>/);
    assert.ok(m && m[1], `no result in the page:\n${dom.slice(0, 2000)}`);
    const page = JSON.parse(unescapeHtml(m[1]));
    assert.ok(!page.error, `the page failed: ${page.error}`);
    console.log(`browser: ${page.userAgent}`);
    console.log(`skip list (browser): ${JSON.stringify(HOST_SKIPS.browser)}`);
    console.log(page.line);
    return page;
  } finally {
    server.close();
  }
})();
outcome.catch(() => {}); // reported by every test below

test('the browser page ran the corpus', async () => {
  const page = await outcome;
  assert.deepEqual(page.coverage.missing, []);
  assert.equal(page.results.length, scenarios.length);
});

for (const scenario of scenarios) {
  test(`browser: ${scenario.id}`, async (t) => {
    const page = await outcome;
    const r = page.results.find((x) => x.id === scenario.id);
    assert.ok(r, 'scenario missing from the page results');
    if (r.status === 'skip') t.skip(r.detail);
    else assert.equal(r.status, 'pass', r.detail);
  });
}
