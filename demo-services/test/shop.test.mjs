// The shop: a store in a temporary directory, business-logic and data-ingest
// on it, then frontend-api wired straight to them (BUSINESS_LOGIC_URL /
// DATA_INGEST_URL / STORE_URL), end to end.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, killAll, request, post, waitFor, within, tempDir, removeTempDirs } from '../test-support/helpers.mjs';

after(killAll);
after(removeTempDirs);

describe('shop end to end', () => {
  let store;
  let bl;
  let di;
  let fe;

  before(async () => {
    store = await startService('shop/store.js', { POD_NAME: 'store-0', STORE_DIR: tempDir() });
    [bl, di] = await Promise.all([
      startService('shop/business-logic.js', { POD_NAME: 'bl-1', REGION: 'eu-test', STORE_URL: store.url }),
      startService('shop/data-ingest.js', { POD_NAME: 'di-1', STORE_URL: store.url }),
    ]);
    fe = await startService('shop/frontend-api.js', {
      POD_NAME: 'fe-1',
      VERSION: '2.0.0',
      BUSINESS_LOGIC_URL: bl.url,
      DATA_INGEST_URL: di.url + '/', // a trailing slash is tolerated
      STORE_URL: store.url,
    });
  });
  after(async () => {
    await Promise.all([store, bl, di, fe].filter(Boolean).map((s) => s.kill()));
  });

  it('every service answers /api/v1/info, /health/live, /health/ready and /metrics', async () => {
    const info = await request(bl.url + '/api/v1/info');
    assert.deepEqual(info.json, { service: 'business-logic', version: '1.0.0', pod: 'bl-1', region: 'eu-test' });
    assert.deepEqual((await request(di.url + '/api/v1/info')).json, {
      service: 'data-ingest',
      version: '1.0.0',
      pod: 'di-1',
      region: 'local',
    });
    assert.deepEqual((await request(fe.url + '/api/v1/info')).json, {
      service: 'frontend-api',
      version: '2.0.0',
      pod: 'fe-1',
      region: 'local',
    });
    for (const s of [store, bl, di, fe]) {
      assert.equal((await request(s.url + '/health/live')).status, 200);
      const ready = await request(s.url + '/health/ready');
      assert.equal(ready.status, 200, ready.text);
      assert.equal(ready.json.status, 'ready');
      const m = await request(s.url + '/metrics');
      assert.match(m.text, /^shop_up 1$/m);
      assert.match(m.text, /^shop_requests_total\{code="200"\} \d+$/m);
    }
    const feReady = await request(fe.url + '/health/ready');
    assert.equal(feReady.json.dependencies['business-logic'].ok, true);
    assert.equal(feReady.json.dependencies['data-ingest'].ok, true);
    assert.equal(feReady.json.dependencies.store.ok, true);
    for (const s of [bl, di]) assert.deepEqual((await request(s.url + '/health/ready')).json.dependencies, { store: { url: store.url, ok: true } });
  });

  it('users: create 201, list, duplicate 409, invalid 400, bad JSON 400', async () => {
    const created = await post(fe.url + '/api/v1/users', { username: 'alice_01', email: 'alice@example.com' });
    assert.equal(created.status, 201, created.text);
    assert.equal(typeof created.json.id, 'number');
    assert.equal(created.json.username, 'alice_01');
    assert.equal(created.json.email, 'alice@example.com');
    assert.ok(!Number.isNaN(Date.parse(created.json.created_at)));

    const list = await request(fe.url + '/api/v1/users');
    assert.equal(list.status, 200);
    assert.equal(list.json.count, 1);
    assert.deepEqual(list.json.users, [created.json]);

    const dup = await post(fe.url + '/api/v1/users', { username: 'alice_01', email: 'other@example.com' });
    assert.equal(dup.status, 409);

    const invalid = await post(fe.url + '/api/v1/users', { username: 'a!', email: 'nope' });
    assert.equal(invalid.status, 400);
    assert.ok(Array.isArray(invalid.json.errors));
    assert.equal(invalid.json.errors.length, 2);

    const missing = await post(fe.url + '/api/v1/users', {});
    assert.equal(missing.status, 400);

    const badJson = await post(fe.url + '/api/v1/users', '{"username":');
    assert.equal(badJson.status, 400);
    assert.deepEqual(badJson.json, { error: 'invalid JSON' });

    assert.equal((await request(fe.url + '/api/v1/users')).json.count, 1);
  });

  it('business-logic validates users directly', async () => {
    const ok = await post(bl.url + '/api/v1/validate/user', { username: 'Bob_2', email: 'b@x.io' });
    assert.deepEqual([ok.status, ok.json], [200, { valid: true }]);
    const long = await post(bl.url + '/api/v1/validate/user', { username: 'x'.repeat(51), email: 'b@x.io' });
    assert.equal(long.status, 400);
    assert.equal(long.json.valid, false);
    assert.equal(long.json.errors.length, 1);
    const notObject = await post(bl.url + '/api/v1/validate/user', [1, 2]);
    assert.equal(notObject.status, 400);
  });

  it('ingest through the frontend (single and array), batch, stats, recent', async () => {
    const one = await post(fe.url + '/api/v1/data/ingest', { type: 'sensor', data: { temperature: 25.5 }, source: 'api' });
    assert.equal(one.status, 201, one.text);
    assert.equal(one.json.ingested, 1);
    assert.equal(one.json.ids.length, 1);

    const many = await post(fe.url + '/api/v1/data/ingest', [
      { type: 'click', data: { x: 1 }, source: 'web' },
      { type: 'sensor', data: { temperature: 26 } },
    ]);
    assert.equal(many.status, 201);
    assert.equal(many.json.ingested, 2);

    const noType = await post(fe.url + '/api/v1/data/ingest', { data: 1 });
    assert.equal(noType.status, 400);

    const batch = await post(di.url + '/api/v1/ingest/batch', { records: [{ type: 'log', data: 'x', source: 'batch' }] });
    assert.equal(batch.status, 201);
    assert.equal(batch.json.ingested, 1);
    assert.equal((await post(di.url + '/api/v1/ingest/batch', { nope: [] })).status, 400);

    const stats = await request(di.url + '/api/v1/ingest/stats');
    assert.deepEqual(stats.json, {
      total: 4,
      by_type: { sensor: 2, click: 1, log: 1 },
      by_source: { api: 2, web: 1, batch: 1 },
    });

    const recent = await request(di.url + '/api/v1/ingest/recent?limit=2');
    assert.equal(recent.json.records.length, 2);
    assert.equal(recent.json.records[0].type, 'log', 'newest first');
    assert.equal(recent.json.records[1].type, 'sensor');
    assert.ok(recent.json.records[0].id > recent.json.records[1].id);
    assert.equal((await request(di.url + '/api/v1/ingest/recent')).json.records.length, 4);
    assert.equal((await request(di.url + '/api/v1/ingest/recent?limit=1000')).json.records.length, 4);
    assert.equal((await request(di.url + '/api/v1/ingest/recent?limit=0')).status, 400);
  });

  it('orders through the frontend, and the analytics summary', async () => {
    const order = await post(fe.url + '/api/v1/orders', { user_id: 1, amount: 99.99 });
    assert.equal(order.status, 201, order.text);
    assert.equal(order.json.user_id, 1);
    assert.equal(order.json.amount, 99.99);
    assert.equal(order.json.status, 'processed');
    assert.equal(order.json.tax, 8);
    assert.equal(order.json.total, 107.99);
    assert.equal(typeof order.json.order_id, 'number');

    const second = await post(bl.url + '/api/v1/process/order', { user_id: 2, amount: 10.05 });
    assert.equal(second.status, 201);
    assert.equal(second.json.tax, 0.8);
    assert.equal(second.json.total, 10.85);

    for (const bad of [{ user_id: 1.5, amount: 1 }, { user_id: 1, amount: 0 }, { user_id: '1', amount: 5 }, { amount: 5 }]) {
      assert.equal((await post(fe.url + '/api/v1/orders', bad)).status, 400, JSON.stringify(bad));
    }

    const summary = await request(bl.url + '/api/v1/analytics/summary');
    assert.equal(summary.json.orders, 2);
    assert.equal(summary.json.revenue, 110.04);
    assert.equal(summary.json.average_order, 55.02);

    const read = await request(`${fe.url}/api/v1/orders/${order.json.order_id}`);
    assert.deepEqual([read.status, read.json], [200, order.json]);
    const all = await request(fe.url + '/api/v1/orders');
    assert.deepEqual(all.json, { orders: [order.json, second.json], count: 2 });
    assert.equal((await request(fe.url + '/api/v1/orders/999')).status, 404);
    assert.equal((await request(fe.url + '/api/v1/orders/x')).status, 400);
  });

  it('bodies over 1 MiB are refused with 413', async () => {
    const big = JSON.stringify({ type: 'blob', data: 'x'.repeat(1024 * 1024) });
    const r = await post(di.url + '/api/v1/ingest', big);
    assert.equal(r.status, 413);
    const viaFrontend = await post(fe.url + '/api/v1/data/ingest', big);
    assert.equal(viaFrontend.status, 413);
  });

  it('unknown path 404, wrong method 405', async () => {
    assert.equal((await request(fe.url + '/api/v1/nope')).status, 404);
    const m = await request(fe.url + '/api/v1/orders', { method: 'DELETE' });
    assert.equal(m.status, 405);
    assert.equal(m.headers.allow, 'POST, GET, HEAD');
  });
});

describe('frontend-api with its upstreams down', () => {
  it('is not ready and answers 502 "<name> unavailable"', async () => {
    // Take free ports by starting and stopping services on them.
    const store = await startService('shop/store.js', { STORE_DIR: tempDir() });
    const [bl, di] = await Promise.all([
      startService('shop/business-logic.js', { STORE_URL: store.url }),
      startService('shop/data-ingest.js', { STORE_URL: store.url }),
    ]);
    const fe = await startService('shop/frontend-api.js', { BUSINESS_LOGIC_URL: bl.url, DATA_INGEST_URL: di.url, STORE_URL: store.url });
    try {
      await waitFor(async () => (await request(fe.url + '/health/ready')).status === 200, { what: 'frontend ready' });
      await Promise.all([bl.kill(), di.kill(), store.kill()]);

      const notReady = await waitFor(
        async () => {
          const r = await request(fe.url + '/health/ready');
          return r.status === 503 ? r : null;
        },
        { what: 'frontend unready' },
      );
      assert.equal(notReady.json.dependencies['business-logic'].ok, false);
      assert.equal(notReady.json.dependencies.store.ok, false);
      assert.equal((await request(fe.url + '/health/live')).status, 200, 'liveness does not depend on upstreams');
      const users = await request(fe.url + '/api/v1/users');
      assert.deepEqual([users.status, users.json.error], [502, 'store unavailable']);

      const user = await post(fe.url + '/api/v1/users', { username: 'carol', email: 'c@x' });
      assert.equal(user.status, 502);
      assert.equal(user.json.error, 'business-logic unavailable');
      const order = await post(fe.url + '/api/v1/orders', { user_id: 1, amount: 1 });
      assert.equal(order.status, 502);
      assert.equal(order.json.error, 'business-logic unavailable');
      const ingest = await post(fe.url + '/api/v1/data/ingest', { type: 't' });
      assert.equal(ingest.status, 502);
      assert.equal(ingest.json.error, 'data-ingest unavailable');
    } finally {
      await Promise.all([store.kill(), bl.kill(), di.kill(), fe.kill()]);
    }
  });

  it('business-logic and data-ingest are not ready without the store, and answer 502 "store unavailable"', async () => {
    // A port nothing listens on: a store's, once it is gone.
    const gone = await startService('shop/store.js', { STORE_DIR: tempDir() });
    await gone.kill();
    const [bl, di] = await Promise.all([
      startService('shop/business-logic.js', { STORE_URL: gone.url }),
      startService('shop/data-ingest.js', { STORE_URL: gone.url }),
    ]);
    try {
      for (const s of [bl, di]) {
        const r = await request(s.url + '/health/ready');
        assert.equal(r.status, 503);
        assert.deepEqual(r.json.dependencies.store, { url: gone.url, ok: false, error: 'ECONNREFUSED' });
      }
      const order = await post(bl.url + '/api/v1/process/order', { user_id: 1, amount: 1 });
      assert.deepEqual([order.status, order.json.error], [502, 'store unavailable']);
      const ingest = await post(di.url + '/api/v1/ingest', { type: 't' });
      assert.deepEqual([ingest.status, ingest.json.error], [502, 'store unavailable']);
    } finally {
      await Promise.all([bl.kill(), di.kill()]);
    }
  });

  it('falls back to ${GRID_URL}/gateway/<name> when the URL env vars are unset', async () => {
    // A versioned service stands in for Grid: its /headers and 404s show which path was asked for.
    const grid = await startService('versioned/server.js');
    const fe = await startService('shop/frontend-api.js', { GRID_URL: grid.url + '/' });
    try {
      const r = await request(fe.url + '/health/ready');
      assert.equal(r.status, 503, 'the stand-in answers 404 for /gateway/.../health/live');
      assert.equal(r.json.dependencies['business-logic'].url, `${grid.url}/gateway/business-logic`);
      assert.equal(r.json.dependencies['data-ingest'].url, `${grid.url}/gateway/data-ingest`);
      assert.equal(r.json.dependencies.store.url, `${grid.url}/gateway/store`);
      assert.equal(r.json.dependencies['business-logic'].status, 404);
    } finally {
      await Promise.all([grid.kill(), fe.kill()]);
    }
  });
});

describe('shop services drain on SIGTERM', () => {
  for (const script of ['shop/store.js', 'shop/business-logic.js', 'shop/data-ingest.js', 'shop/frontend-api.js']) {
    it(`${script} exits 0`, async () => {
      const svc = await startService(script, {
        BUSINESS_LOGIC_URL: 'http://127.0.0.1:9',
        DATA_INGEST_URL: 'http://127.0.0.1:9',
        STORE_URL: 'http://127.0.0.1:9',
        STORE_DIR: tempDir(),
      });
      try {
        assert.equal((await request(svc.url + '/health/live')).status, 200);
        svc.child.kill('SIGTERM');
        const { code } = await within(svc.exited, 5000, 'exit after SIGTERM');
        assert.equal(code, 0);
      } finally {
        await svc.kill();
      }
    });
  }
});
