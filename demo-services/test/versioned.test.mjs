// The versioned demo service: identity per version, health, metrics, every
// chaos toggle, reset, v3's stability, and the env knobs.

import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startService, killAll, request, post, waitFor, runToExit } from '../test-support/helpers.mjs';

const SCRIPT = 'versioned/server.js';

after(killAll);

describe('identity', () => {
  for (const version of ['v1', 'v2', 'v3']) {
    it(`${version}: GET / and /version answer the version JSON`, async () => {
      const svc = await startService(SCRIPT, { VERSION: version, POD_NAME: `web-${version}` });
      try {
        for (const p of ['/', '/version']) {
          const r = await request(svc.url + p);
          assert.equal(r.status, 200);
          assert.equal(r.headers['content-type'], 'application/json');
          assert.equal(Number(r.headers['content-length']), r.body.length);
          assert.deepEqual(Object.keys(r.json), ['service', 'version', 'pod', 'hostname']);
          assert.equal(r.json.service, 'versioned');
          assert.equal(r.json.version, version);
          assert.equal(r.json.pod, `web-${version}`);
          assert.equal(typeof r.json.hostname, 'string');
        }
      } finally {
        await svc.kill();
      }
    });
  }

  it('defaults: VERSION v1, SERVICE versioned; SERVICE and GRID_POD are honoured', async () => {
    const a = await startService(SCRIPT, { POD_NAME: '' });
    const b = await startService(SCRIPT, { SERVICE: 'web', POD_NAME: '', GRID_POD: 'web-7f3a' });
    try {
      const ra = await request(a.url + '/');
      assert.equal(ra.json.version, 'v1');
      assert.equal(ra.json.service, 'versioned');
      assert.equal(ra.json.pod, ra.json.hostname);
      const rb = await request(b.url + '/version');
      assert.equal(rb.json.service, 'web');
      assert.equal(rb.json.pod, 'web-7f3a');
    } finally {
      await Promise.all([a.kill(), b.kill()]);
    }
  });

  it('prints exactly one "listening on 127.0.0.1:<port>" line and starts quickly', async () => {
    const svc = await startService(SCRIPT);
    try {
      assert.equal(svc.output().stdout, `listening on 127.0.0.1:${svc.port}\n`);
      // Generous bound for slow CI machines; typically ~40-60 ms including Node's own boot.
      assert.ok(svc.startupMs < 3000, `startup took ${svc.startupMs} ms`);
    } finally {
      await svc.kill();
    }
  });

  it('exits 1 with a message when PORT is missing', async () => {
    const r = await runToExit(SCRIPT, {});
    assert.equal(r.code, 1);
    assert.match(r.stderr, /PORT/);
  });
});

describe('routes (v1)', () => {
  let svc;
  before(async () => {
    svc = await startService(SCRIPT, { VERSION: 'v1' });
  });
  after(() => svc.kill());
  beforeEach(async () => {
    assert.equal((await post(svc.url + '/reset')).status, 200);
  });

  it('health endpoints answer healthy/alive/ready', async () => {
    const h = await request(svc.url + '/health');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'healthy');
    const l = await request(svc.url + '/health/live');
    assert.deepEqual([l.status, l.json], [200, { status: 'alive' }]);
    const r = await request(svc.url + '/health/ready');
    assert.deepEqual([r.status, r.json], [200, { status: 'ready' }]);
  });

  it('/metrics is Prometheus text with request counts and demo_up', async () => {
    await request(svc.url + '/');
    await request(svc.url + '/nope');
    const r = await request(svc.url + '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /^# HELP demo_requests_total /m);
    assert.match(r.text, /^# TYPE demo_requests_total counter$/m);
    assert.match(r.text, /^demo_requests_total\{code="200"\} \d+$/m);
    assert.match(r.text, /^demo_requests_total\{code="404"\} \d+$/m);
    assert.match(r.text, /^# TYPE demo_up gauge$/m);
    assert.match(r.text, /^demo_up 1$/m);
    // Every non-comment line is `name{labels} value` or `name value`.
    for (const line of r.text.trimEnd().split('\n')) {
      if (line.startsWith('#')) assert.match(line, /^# (HELP|TYPE) [a-z_]+ .+$/);
      else assert.match(line, /^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$/);
    }
  });

  it('unknown path -> 404 JSON; wrong method -> 405', async () => {
    const r = await request(svc.url + '/does/not/exist');
    assert.equal(r.status, 404);
    assert.equal(r.json.error, 'not found');
    const m = await request(svc.url + '/version', { method: 'DELETE' });
    assert.equal(m.status, 405);
    const c = await request(svc.url + '/chaos/corrupt');
    assert.equal(c.status, 405);
    assert.equal(c.headers.allow, 'POST');
  });

  it('GET /headers returns the request headers', async () => {
    const r = await request(svc.url + '/headers', {
      headers: { 'X-Forwarded-For': '10.0.0.1', 'X-Forwarded-Proto': 'http', 'X-Request-Id': 'abc-123' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.json['x-forwarded-for'], '10.0.0.1');
    assert.equal(r.json['x-forwarded-proto'], 'http');
    assert.equal(r.json['x-request-id'], 'abc-123');
    assert.equal(r.json.host, `127.0.0.1:${svc.port}`);
  });

  it('GET /chaos shows the toggles', async () => {
    const r = await request(svc.url + '/chaos');
    assert.equal(r.status, 200);
    assert.equal(r.json.version, 'v1');
    assert.equal(r.json.stable, false);
    assert.equal(r.json.corrupted, false);
    assert.equal(r.json.failRate, 0);
    assert.equal(r.json.slowMs, 0);
    assert.equal(r.json.livenessFail, false);
    assert.equal(r.json.unready, false);
    assert.equal(r.json.cpuBurning, false);
  });

  it('corrupt: wrong data on / and /version, /health and /health/ready 503; reset restores', async () => {
    const c = await post(svc.url + '/chaos/corrupt');
    assert.equal(c.status, 200);
    assert.equal(c.json.corrupted, true);
    for (const p of ['/', '/version']) {
      const r = await request(svc.url + p);
      assert.equal(r.status, 200);
      assert.equal(r.json.version, 'corrupted');
      assert.equal(r.json.service, 'versioned');
      assert.equal(typeof r.json.data, 'string');
    }
    const h = await request(svc.url + '/health');
    assert.equal(h.status, 503);
    assert.equal(h.json.status, 'unhealthy');
    assert.ok(h.json.reason);
    assert.equal((await request(svc.url + '/health/ready')).status, 503);
    assert.equal((await request(svc.url + '/health/live')).status, 200);

    const reset = await post(svc.url + '/reset');
    assert.equal(reset.json.corrupted, false);
    assert.equal((await request(svc.url + '/')).json.version, 'v1');
    assert.equal((await request(svc.url + '/health')).status, 200);
    assert.equal((await request(svc.url + '/health/ready')).status, 200);
  });

  it('fail rate 0.5 fails exactly 50 of 100 requests, deterministically', async () => {
    const f = await post(svc.url + '/chaos/fail?rate=0.5');
    assert.equal(f.status, 200);
    assert.equal(f.json.failRate, 0.5);
    const statuses = [];
    for (let i = 0; i < 100; i++) statuses.push((await request(svc.url + (i % 2 ? '/' : '/version'))).status);
    assert.equal(statuses.filter((s) => s === 500).length, 50);
    assert.equal(statuses.filter((s) => s === 200).length, 50);
    // Health is never failed by the toggle.
    assert.equal((await request(svc.url + '/health/live')).status, 200);
    assert.equal((await request(svc.url + '/health/ready')).status, 200);
  });

  it('fail rates 0.1, 0.25 and default 1 give exact shares; failures are 500 "injected failure"', async () => {
    for (const [rate, expected] of [
      ['0.1', 10],
      ['0.25', 25],
      ['', 100],
    ]) {
      await post(svc.url + `/chaos/fail${rate ? `?rate=${rate}` : ''}`);
      let failed = 0;
      let body;
      for (let i = 0; i < 100; i++) {
        const r = await request(svc.url + '/');
        if (r.status === 500) {
          failed++;
          body = r.json;
        }
      }
      assert.equal(failed, expected, `rate ${rate || 'default'}`);
      assert.equal(body.error, 'injected failure');
    }
    const h = await request(svc.url + '/health');
    assert.equal(h.status, 503, 'rate 1 makes /health unhealthy');
    await post(svc.url + '/chaos/fail?rate=0');
    assert.equal((await request(svc.url + '/')).status, 200);
    assert.equal((await post(svc.url + '/chaos/fail?rate=2')).status, 400);
    assert.equal((await post(svc.url + '/chaos/fail?rate=abc')).status, 400);
  });

  it('slow delays non-health responses only', async () => {
    const s = await post(svc.url + '/chaos/slow?ms=600');
    assert.equal(s.json.slowMs, 600);
    let t = Date.now();
    assert.equal((await request(svc.url + '/')).status, 200);
    assert.ok(Date.now() - t >= 590, `GET / took ${Date.now() - t} ms`);
    t = Date.now();
    assert.equal((await request(svc.url + '/health/ready')).status, 200);
    assert.ok(Date.now() - t < 400, `health took ${Date.now() - t} ms`);
    assert.equal((await post(svc.url + '/chaos/slow?ms=60001')).status, 400);
    assert.equal((await post(svc.url + '/chaos/slow')).status, 400);
    await post(svc.url + '/chaos/slow?ms=0');
    t = Date.now();
    await request(svc.url + '/');
    assert.ok(Date.now() - t < 400, `GET / took ${Date.now() - t} ms after slow=0`);
  });

  it('liveness toggle: fail=true -> 500, fail=false -> 200', async () => {
    const on = await post(svc.url + '/chaos/liveness?fail=true');
    assert.equal(on.json.livenessFail, true);
    assert.equal((await request(svc.url + '/health/live')).status, 500);
    assert.equal((await request(svc.url + '/health')).status, 503);
    await post(svc.url + '/chaos/liveness?fail=false');
    assert.equal((await request(svc.url + '/health/live')).status, 200);
    await post(svc.url + '/chaos/liveness');
    assert.equal((await request(svc.url + '/health/live')).status, 500, 'no parameter means fail=true');
    assert.equal((await post(svc.url + '/chaos/liveness?fail=maybe')).status, 400);
  });

  it('unready toggle: value=true -> 503, value=false -> 200', async () => {
    const on = await post(svc.url + '/chaos/unready?value=true');
    assert.equal(on.json.unready, true);
    const r = await request(svc.url + '/health/ready');
    assert.equal(r.status, 503);
    assert.equal(r.json.status, 'not ready');
    assert.equal((await request(svc.url + '/health/live')).status, 200);
    assert.equal((await request(svc.url + '/')).status, 200);
    await post(svc.url + '/chaos/unready?value=false');
    assert.equal((await request(svc.url + '/health/ready')).status, 200);
  });

  it('reset clears every toggle at once', async () => {
    await post(svc.url + '/chaos/corrupt');
    await post(svc.url + '/chaos/fail?rate=1');
    await post(svc.url + '/chaos/slow?ms=100');
    await post(svc.url + '/chaos/liveness?fail=true');
    await post(svc.url + '/chaos/unready?value=true');
    await post(svc.url + '/chaos/cpu?seconds=30');
    const r = await post(svc.url + '/reset');
    assert.equal(r.status, 200);
    for (const [k, v] of Object.entries({ corrupted: false, failRate: 0, slowMs: 0, livenessFail: false, unready: false, ready: true })) {
      assert.equal(r.json[k], v, k);
    }
    await waitFor(async () => (await request(svc.url + '/chaos')).json.cpuBurning === false, { what: 'CPU burn to stop' });
    assert.equal((await request(svc.url + '/')).status, 200);
    assert.equal((await request(svc.url + '/health')).status, 200);
    assert.equal((await request(svc.url + '/health/live')).status, 200);
    assert.equal((await request(svc.url + '/health/ready')).status, 200);
  });
});

describe('v3 is stable', () => {
  let svc;
  before(async () => {
    svc = await startService(SCRIPT, { VERSION: 'v3', FAIL_RATE: '1' });
  });
  after(() => svc.kill());

  it('ignores FAIL_RATE, corrupt and fail, but honours the other toggles', async () => {
    assert.equal((await request(svc.url + '/')).status, 200, 'FAIL_RATE ignored');
    const c = await post(svc.url + '/chaos/corrupt');
    assert.equal(c.status, 200);
    assert.equal(c.json.ignored, true);
    assert.equal(c.json.corrupted, false);
    const f = await post(svc.url + '/chaos/fail?rate=1');
    assert.equal(f.status, 200);
    assert.equal(f.json.ignored, true);
    assert.equal(f.json.failRate, 0);
    for (let i = 0; i < 10; i++) {
      const r = await request(svc.url + '/version');
      assert.equal(r.status, 200);
      assert.equal(r.json.version, 'v3');
    }
    assert.equal((await request(svc.url + '/health')).status, 200);
    assert.equal((await request(svc.url + '/health/ready')).status, 200);
    await post(svc.url + '/chaos/unready?value=true');
    assert.equal((await request(svc.url + '/health/ready')).status, 503);
    await post(svc.url + '/chaos/liveness?fail=true');
    assert.equal((await request(svc.url + '/health/live')).status, 500);
    await post(svc.url + '/reset');
    assert.equal((await request(svc.url + '/health/ready')).status, 200);
  });
});

describe('env knobs', () => {
  it('FAIL_RATE starts failing at that rate (v1)', async () => {
    const svc = await startService(SCRIPT, { FAIL_RATE: '0.5' });
    try {
      let failed = 0;
      for (let i = 0; i < 20; i++) if ((await request(svc.url + '/')).status === 500) failed++;
      assert.equal(failed, 10);
      assert.equal((await request(svc.url + '/chaos')).json.failRate, 0.5);
    } finally {
      await svc.kill();
    }
  });

  it('START_DELAY_MS delays listening', async () => {
    const t = Date.now();
    const svc = await startService(SCRIPT, { START_DELAY_MS: '300' });
    try {
      assert.ok(Date.now() - t >= 300);
      assert.equal((await request(svc.url + '/')).status, 200);
    } finally {
      await svc.kill();
    }
  });

  it('READY_DELAY_MS keeps /health/ready 503 at first, then 200', async () => {
    const svc = await startService(SCRIPT, { READY_DELAY_MS: '400' });
    try {
      const first = await request(svc.url + '/health/ready');
      assert.equal(first.status, 503);
      assert.equal(first.json.reason, 'starting up');
      assert.equal((await request(svc.url + '/health/live')).status, 200);
      assert.equal((await request(svc.url + '/')).status, 200);
      await waitFor(async () => (await request(svc.url + '/health/ready')).status === 200, { what: 'ready' });
    } finally {
      await svc.kill();
    }
  });

  it('LIVENESS_FAIL_AFTER_MS makes /health/live fail after a while', async () => {
    const svc = await startService(SCRIPT, { LIVENESS_FAIL_AFTER_MS: '300' });
    try {
      assert.equal((await request(svc.url + '/health/live')).status, 200);
      await waitFor(async () => (await request(svc.url + '/health/live')).status === 500, { what: 'liveness failure' });
      await post(svc.url + '/reset');
      assert.equal((await request(svc.url + '/health/live')).status, 200);
    } finally {
      await svc.kill();
    }
  });

  it('CRASH_AFTER_MS exits with code 1', async () => {
    const svc = await startService(SCRIPT, { CRASH_AFTER_MS: '200' });
    try {
      assert.equal((await request(svc.url + '/chaos')).json.crashScheduled, true);
      const { code } = await svc.exited;
      assert.equal(code, 1);
    } finally {
      await svc.kill();
    }
  });
});
