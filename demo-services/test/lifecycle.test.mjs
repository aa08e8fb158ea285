// Process lifecycle of the versioned service: crash, graceful SIGTERM with an
// in-flight request and with idle keep-alive connections, streaming echo, and
// the CPU burn that must not starve the probes.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { startService, killAll, request, post, waitFor, within } from '../test-support/helpers.mjs';

const SCRIPT = 'versioned/server.js';

after(killAll);

function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return null;
  }
}

describe('crash', () => {
  it('POST /chaos/crash answers 202, then exits with code 1', async () => {
    const svc = await startService(SCRIPT);
    try {
      const r = await post(svc.url + '/chaos/crash');
      assert.equal(r.status, 202);
      assert.equal(r.json.exiting, true);
      const { code } = await within(svc.exited, 5000, 'exit after crash');
      assert.equal(code, 1);
    } finally {
      await svc.kill();
    }
  });
});

describe('SIGTERM', () => {
  it('stops accepting, finishes an in-flight slow request with Connection: close, exits 0', async () => {
    const svc = await startService(SCRIPT);
    // A keep-alive request, so `Connection: close` in the answer comes from the draining server.
    const agent = new http.Agent({ keepAlive: true });
    try {
      await post(svc.url + '/chaos/slow?ms=1000');
      let answeredAt = 0;
      const inFlight = request(svc.url + '/version', { agent }).then((r) => {
        answeredAt = Date.now();
        return r;
      });
      await waitFor(async () => (await request(svc.url + '/chaos')).json.delayedRequests === 1, {
        what: 'the slow request to be in flight',
      });
      const t = Date.now();
      svc.child.kill('SIGTERM');
      // New connections are refused once the server stopped listening.
      await waitFor(
        async () => {
          try {
            await request(svc.url + '/health/live', { timeoutMs: 500 });
            return false;
          } catch (err) {
            return err.code === 'ECONNREFUSED';
          }
        },
        { what: 'connections to be refused' },
      );
      const r = await inFlight;
      assert.ok(answeredAt > t, 'the request was still in flight at SIGTERM');
      assert.equal(r.status, 200);
      assert.equal(r.json.version, 'v1');
      assert.equal(r.headers.connection, 'close');
      const { code, signal } = await within(svc.exited, 5000, 'exit after SIGTERM');
      assert.equal(signal, null);
      assert.equal(code, 0);
      assert.ok(Date.now() - t < 3000, `drain took ${Date.now() - t} ms`);
      assert.match(svc.output().stdout, /SIGTERM received: draining\n/);
    } finally {
      agent.destroy();
      await svc.kill();
    }
  });

  it('closes idle keep-alive connections at once and exits 0 quickly', async () => {
    const svc = await startService(SCRIPT);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      // Several idle keep-alive connections.
      await Promise.all([1, 2, 3, 4].map(() => request(svc.url + '/', { agent })));
      assert.ok(Object.values(agent.freeSockets).flat().length >= 1, 'keep-alive sockets are pooled');
      const t = Date.now();
      svc.child.kill('SIGTERM');
      const { code } = await within(svc.exited, 5000, 'exit after SIGTERM');
      assert.equal(code, 0);
      assert.ok(Date.now() - t < 1500, `exit took ${Date.now() - t} ms`);
    } finally {
      agent.destroy();
      await svc.kill();
    }
  });

  it('a slow request longer than the 5 s drain bound is cut off: still exits 0 within ~5 s', async () => {
    const svc = await startService(SCRIPT);
    try {
      await post(svc.url + '/chaos/slow?ms=60000');
      const inFlight = request(svc.url + '/', { timeoutMs: 20_000 }).catch((err) => err);
      await waitFor(async () => (await request(svc.url + '/chaos')).json.delayedRequests === 1, {
        what: 'the slow request to be in flight',
      });
      const t = Date.now();
      svc.child.kill('SIGTERM');
      const { code } = await within(svc.exited, 8000, 'forced exit');
      assert.equal(code, 0);
      const took = Date.now() - t;
      assert.ok(took >= 4500 && took < 7000, `forced exit after ${took} ms`);
      assert.ok((await inFlight) instanceof Error, 'the cut-off request fails');
    } finally {
      await svc.kill();
    }
  });
});

describe('echo', () => {
  it('streams the request body back as it arrives, with the same content type', async () => {
    const svc = await startService(SCRIPT);
    try {
      const result = await within(
        new Promise((resolve, reject) => {
          const req = http.request(svc.url + '/echo', {
            method: 'POST',
            agent: false,
            headers: { 'content-type': 'text/x-demo' },
          });
          req.on('error', reject);
          req.on('response', (res) => {
            let body = '';
            let sentSecond = false;
            res.setEncoding('utf8');
            res.on('data', (d) => {
              body += d;
              // The first chunk came back before the request body ended: streaming.
              if (!sentSecond && body === 'hello ') {
                sentSecond = true;
                req.end('world');
              }
            });
            res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body, sentSecond }));
          });
          req.write('hello ');
        }),
        5000,
        'streaming echo',
      );
      assert.deepEqual(result, { status: 200, type: 'text/x-demo', body: 'hello world', sentSecond: true });
    } finally {
      await svc.kill();
    }
  });

  it('echoes a 2 MiB binary body byte for byte (any method)', async () => {
    const svc = await startService(SCRIPT);
    try {
      const payload = crypto.randomBytes(2 * 1024 * 1024);
      const r = await request(svc.url + '/echo', {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: payload,
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.ok(r.body.equals(payload));
      const g = await request(svc.url + '/echo');
      assert.equal(g.status, 200);
      assert.equal(g.body.length, 0);
    } finally {
      await svc.kill();
    }
  });
});

describe('cpu burn', () => {
  it('burns CPU for N seconds while probes keep answering', async () => {
    const svc = await startService(SCRIPT);
    try {
      const cpuBefore = cpuSeconds(svc.pid);
      const r = await post(svc.url + '/chaos/cpu?seconds=1.5');
      assert.equal(r.status, 202);
      assert.equal(r.json.cpuBurning, true);
      let worst = 0;
      for (let i = 0; i < 10; i++) {
        const t = Date.now();
        assert.equal((await request(svc.url + '/health/live')).status, 200);
        worst = Math.max(worst, Date.now() - t);
      }
      assert.ok(worst < 500, `slowest probe during the burn took ${worst} ms`);
      await waitFor(async () => (await request(svc.url + '/chaos')).json.cpuBurning === false, {
        timeoutMs: 6000,
        what: 'the burn to end',
      });
      const cpuAfter = cpuSeconds(svc.pid);
      if (cpuBefore !== null && cpuAfter !== null) {
        // 1.5 s of wall time; on a contended machine the process gets less than a full core.
        assert.ok(cpuAfter - cpuBefore >= 0.25, `burned ${(cpuAfter - cpuBefore).toFixed(2)} s of CPU`);
      }
      assert.equal((await post(svc.url + '/chaos/cpu?seconds=301')).status, 400);
      assert.equal((await post(svc.url + '/chaos/cpu?seconds=x')).status, 400);
    } finally {
      await svc.kill();
    }
  });
});
