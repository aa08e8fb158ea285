// Test helpers: spawn a demo service as a real child process on an ephemeral
// port (PORT=0; the service prints `listening on 127.0.0.1:<port>`), make raw
// HTTP requests, poll with a deadline, and kill every child we started.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..'); // demo-services/
export const LISTENING_RE = /^listening on (127\.0\.0\.1):(\d+)$/;

const children = new Set();

// Last resort if a test file dies without running its `after` hooks.
process.on('exit', () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {}
    }
  }
});

/**
 * Start `script` (relative to demo-services/) with PORT=0 plus `env`.
 * Resolves once it printed its listening line:
 * { child, pid, port, url, startupMs, output(), exited: Promise<{code, signal}>, kill(signal) }.
 */
export function startService(script, env = {}, { timeoutMs = 10_000 } = {}) {
  const started = process.hrtime.bigint();
  // A clean environment: nothing from the test runner (NODE_TEST_CONTEXT, GRID_*) leaks in.
  const child = spawn(process.execPath, [path.join(ROOT, script)], {
    env: { PATH: process.env.PATH, PORT: '0', POD_NAME: 'test-pod', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const svc = {
    child,
    pid: child.pid,
    exited,
    output: () => ({ stdout, stderr }),
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      finish(new Error(`${script} did not print its listening line within ${timeoutMs} ms\n${stdout}${stderr}`));
    }, timeoutMs);
    function finish(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        svc.kill();
        reject(err);
      } else resolve(svc);
    }
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      if (done) return;
      for (const line of stdout.split('\n')) {
        const m = LISTENING_RE.exec(line);
        if (m) {
          svc.port = Number(m[2]);
          svc.url = `http://127.0.0.1:${svc.port}`;
          svc.startupMs = Number(process.hrtime.bigint() - started) / 1e6;
          finish();
          return;
        }
      }
    });
    exited.then(({ code, signal }) => {
      finish(new Error(`${script} exited (code ${code}, signal ${signal}) before listening\n${stdout}${stderr}`));
    });
  });
}

const tempDirs = [];

/** A fresh temporary directory (e.g. a store's STORE_DIR), removed by removeTempDirs(). */
export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-demo-'));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs() {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** SIGKILL every child still running that this process started. */
export async function killAll() {
  const waits = [];
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      waits.push(new Promise((r) => child.once('exit', r)));
      child.kill('SIGKILL');
    }
  }
  await Promise.all(waits);
}

/** Run a script that is expected to exit without listening; resolves {code, signal, stdout, stderr}. */
export function runToExit(script, env = {}, { timeoutMs = 10_000 } = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, script)], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * One HTTP request on a fresh connection (unless `agent` is given).
 * Resolves { status, headers, body: Buffer, text, json }.
 */
export function request(url, { method = 'GET', headers = {}, body, agent = false, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, headers: res.headers, body: buf, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    if (body !== undefined) {
      req.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    } else req.end();
  });
}

/** JSON POST helper. */
export function post(url, body, opts = {}) {
  return request(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
    ...opts,
  });
}

/**
 * Poll `fn` until it returns a truthy value (or resolves to one); throws with
 * the last error/value after `timeoutMs`.
 */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolve `promise`, or reject after `ms`. */
export function within(promise, ms, what = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
