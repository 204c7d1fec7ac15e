// Drives headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ending in NUL, commands on the
// child's fd 3, replies and events on its fd 4), so no WebSocket and no npm
// package is needed. Used by wasm/tests/simulator.test.mjs and
// screenshot.mjs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Starts Chromium headless; resolves to a browser with
 * `open(url, {width, height})` -> page, and `close()`.
 * A page has `evaluate(expression)` (awaits promises, returns the value),
 * `waitFor(expression, timeoutMs)` and `screenshot()` -> PNG bytes.
 */
export async function launch({ timeoutMs = 120_000 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'coordinate-simulator-chromium-'));
  const child = spawn(
    CHROMIUM,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--no-default-browser-check',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
      `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const pending = new Map();
  let nextId = 1;
  let buffer = Buffer.alloc(0);
  let exited = null;
  const fail = (err) => {
    for (const { reject } of pending.values()) reject(err);
    pending.clear();
  };
  // If this process ends first (a crash, an uncaught error), take Chromium and its profile along.
  const cleanup = () => {
    child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  child.on('exit', (code, signal) => {
    process.removeListener('exit', cleanup);
    exited = new Error(`chromium exited (${code ?? signal}):\n${stderr}`);
    fail(exited);
    rmSync(profile, { recursive: true, force: true });
  });
  child.on('error', (e) => fail(new Error(`cannot start ${CHROMIUM}: ${e.message}`)));
  child.stdio[4].on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (let end = buffer.indexOf(0); end >= 0; end = buffer.indexOf(0)) {
      const msg = JSON.parse(buffer.subarray(0, end).toString('utf8'));
      buffer = buffer.subarray(end + 1);
      const p = msg.id !== undefined && pending.get(msg.id);
      if (!p) continue; // an event
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
    }
  });
  child.stdio[3].on('error', () => {}); // reported through 'exit'

  const send = (method, params = {}, sessionId = undefined) => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${method}: no answer from chromium in ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        method,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      child.stdio[3].write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    });
  };

  try {
    await send('Browser.getVersion');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }

  return {
    async open(url, { width = 1200, height = 900 } = {}) {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      const call = (method, params) => send(method, params, sessionId);
      await call('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
      await call('Page.navigate', { url });
      const evaluate = async (expression) => {
        const r = await call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
        if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        return r.result.value;
      };
      return {
        evaluate,
        async waitFor(expression, waitMs = timeoutMs) {
          const deadline = Date.now() + waitMs;
          for (;;) {
            const v = await evaluate(expression).catch(() => undefined);
            if (v) return v;
            if (Date.now() > deadline) throw new Error(`the page never got to ${expression} in ${waitMs} ms`);
            await new Promise((r) => setTimeout(r, 100));
          }
        },
        async screenshot() {
          const { data } = await call('Page.captureScreenshot', { format: 'png' });
          return Buffer.from(data, 'base64');
        },
      };
    },
    async close() {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      await send('Browser.close').catch(() => {});
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
