// Runs the whole conformance corpus against the web build (wasm/pkg-web)
// with the same runner as Node, and writes the outcome into the page:
// #result holds JSON {host, coverage, results: [{id, status, detail}]},
// which the test (wasm/tests/browser.test.mjs) reads with --dump-dom.
import init, * as api from '/wasm/pkg-web/index.js';
import { coverage, coverageLine, runAll, scenariosOf } from '/wasm/tests/runner.mjs';

const HOST = 'browser';
const status = document.getElementById('status');
const out = document.getElementById('result');

try {
  await init();
  const files = await (await fetch('/corpus.json')).json();
  const scenarios = scenariosOf(files);
  const results = runAll(api, scenarios, HOST);
  const cov = coverage(files['index.json'], scenarios, HOST);
  out.textContent = JSON.stringify({ host: HOST, userAgent: navigator.userAgent, coverage: cov, line: coverageLine(cov), results });
  status.textContent = 'done';
} catch (e) {
  out.textContent = JSON.stringify({ host: HOST, error: `${e?.name}: ${e?.message}\n${e?.stack}` });
  status.textContent = 'error';
}
