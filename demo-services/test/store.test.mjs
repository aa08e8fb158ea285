// The shop's store: its API and limits, durability across SIGKILL (every
// acknowledged write is there after a restart on the same directory), a torn
// last line cut off, a damaged file refused, and two replicas of the other
// services answering the same because they share it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startService, killAll, runToExit, request, post, tempDir, removeTempDirs } from '../test-support/helpers.mjs';

after(killAll);
after(removeTempDirs);

const FILE = 'store.jsonl';

describe('store API', () => {
  let store;
  before(async () => {
    store = await startService('shop/store.js', { STORE_DIR: tempDir(), POD_NAME: 'store-0' });
  });
  after(() => store.kill());

  it('creates records with ids, lists them, reads one', async () => {
    const a = await post(store.url + '/v1/things', { name: 'a', n: 1 });
    assert.deepEqual([a.status, a.json], [201, { id: 1, name: 'a', n: 1 }]);
    const many = await post(store.url + '/v1/things', [{ name: 'b' }, { name: 'c' }]);
    assert.deepEqual([many.status, many.json], [201, { items: [{ id: 2, name: 'b' }, { id: 3, name: 'c' }], count: 2 }]);
    const other = await post(store.url + '/v1/other-things', { x: null });
    assert.deepEqual(other.json, { id: 1, x: null }, 'ids count per collection');

    const all = await request(store.url + '/v1/things');
    assert.deepEqual(all.json, { items: [a.json, ...many.json.items], count: 3, total: 3 });
    const newest = await request(store.url + '/v1/things?limit=2&order=desc');
    assert.deepEqual(newest.json, { items: [many.json.items[1], many.json.items[0]], count: 2, total: 3 });
    assert.deepEqual((await request(store.url + '/v1/things/2')).json, { id: 2, name: 'b' });
    assert.deepEqual((await request(store.url + '/v1/nothing-yet')).json, { items: [], count: 0, total: 0 });
    assert.deepEqual((await request(store.url + '/v1')).json, { collections: { things: 3, 'other-things': 1 } });

    const missing = await request(store.url + '/v1/things/99');
    assert.deepEqual([missing.status, missing.json], [404, { error: 'not found', collection: 'things', id: 99 }]);
  });

  it('?unique=<field> refuses a second record with the same value (409), also within one request', async () => {
    const first = await post(store.url + '/v1/people?unique=username', { username: 'ann' });
    assert.equal(first.status, 201);
    const again = await post(store.url + '/v1/people?unique=username', { username: 'ann', email: 'x' });
    assert.deepEqual([again.status, again.json], [409, { error: 'conflict', field: 'username', value: 'ann', id: first.json.id }]);
    const twice = await post(store.url + '/v1/people?unique=username', [{ username: 'bob' }, { username: 'bob' }]);
    assert.equal(twice.status, 409);
    const noValue = await post(store.url + '/v1/people?unique=username', { email: 'x' });
    assert.equal(noValue.status, 400);
    assert.equal((await request(store.url + '/v1/people')).json.total, 1, 'refused writes store nothing');

    // Concurrent creates of one value (they share an fsync): exactly one wins.
    const race = await Promise.all(Array.from({ length: 10 }, () => post(store.url + '/v1/people?unique=username', { username: 'cat' })));
    assert.deepEqual(race.map((r) => r.status).sort(), [201, ...Array(9).fill(409)]);
  });

  it('answers 4xx naming the problem for bad input, and stores nothing', async () => {
    const before = (await request(store.url + '/v1')).json;
    const cases = [
      [post(store.url + '/v1/Bad_Name', {}), 400, /collection must be/],
      [post(store.url + '/v1/things', '{"a":'), 400, /invalid JSON/],
      [post(store.url + '/v1/things', 42), 400, /must be a JSON object/],
      [post(store.url + '/v1/things', []), 400, /no records/],
      [post(store.url + '/v1/things', [{ a: 1 }, 'x']), 400, /"index":1/],
      [post(store.url + '/v1/things', { id: 7 }), 400, /id is given by the store/],
      [post(store.url + '/v1/things', Array(1001).fill({})), 400, /at most 1000/],
      [post(store.url + '/v1/things?unique=a.b', {}), 400, /unique must be/],
      [post(store.url + '/v1/things', JSON.stringify({ big: 'x'.repeat(2 * 1024 * 1024) })), 413, /too large/],
      [request(store.url + '/v1/things/0'), 400, /positive integer/],
      [request(store.url + '/v1/things/1e3'), 400, /positive integer/],
      [request(store.url + '/v1/things?limit=0'), 400, /limit/],
      [request(store.url + '/v1/things?order=up'), 400, /order/],
      [request(store.url + '/v1/things/1', { method: 'DELETE' }), 405, /method not allowed/],
      [request(store.url + '/v1/things/1/more'), 404, /not found/],
    ];
    for (const [p, status, body] of cases) {
      const r = await p;
      assert.equal(r.status, status, r.text);
      assert.match(r.text, body);
    }
    assert.deepEqual((await request(store.url + '/v1')).json, before);
  });

  it('health, info and metrics', async () => {
    assert.deepEqual((await request(store.url + '/api/v1/info')).json, { service: 'store', version: '1.0.0', pod: 'store-0', region: 'local' });
    assert.equal((await request(store.url + '/health/live')).status, 200);
    const ready = await request(store.url + '/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.json.status, 'ready');
    // Public through the gateway: no path of this machine in it (the start log line names the file).
    assert.equal(ready.json.file, undefined);
    assert.doesNotMatch(ready.text, /store\.jsonl|\/tmp|grid-demo-/);
    assert.match(store.output().stdout, /replayed 0 lines .* from .*grid-demo-.*store\.jsonl/);
    const m = (await request(store.url + '/metrics')).text;
    assert.match(m, /^shop_store_records\{collection="things"\} 3$/m);
    assert.match(m, /^shop_store_appends_total \d+$/m);
    assert.match(m, /^shop_store_file_bytes [1-9]\d*$/m);
  });
});

describe('store durability', () => {
  it('refuses to start without GRID_POD_DATA or STORE_DIR', async () => {
    const r = await runToExit('shop/store.js', { PORT: '0' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GRID_POD_DATA is not set \(give the service spec\.storage: \{ persistent: true \}/);
    assert.equal(r.stdout, '');
  });

  it('uses GRID_POD_DATA, before STORE_DIR', async () => {
    const podData = tempDir();
    const other = tempDir();
    const store = await startService('shop/store.js', { GRID_POD_DATA: podData, STORE_DIR: other });
    try {
      assert.equal((await post(store.url + '/v1/x', {})).status, 201);
      assert.ok(fs.existsSync(path.join(podData, FILE)));
      assert.deepEqual(fs.readdirSync(other), []);
    } finally {
      await store.kill();
    }
  });

  it('every acknowledged write survives SIGKILL, also in the middle of a burst', async () => {
    const dir = tempDir();
    let store = await startService('shop/store.js', { STORE_DIR: dir });
    const acked = [];
    let stop = false;
    // Four writers keep writing; the store is killed while they do.
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await post(store.url + '/v1/orders', { writer: w, i, pad: 'p'.repeat(500) });
          if (r.status === 201) acked.push(r.json);
        } catch {
          return; // the connection died with the store
        }
      }
    });
    while (acked.length < 200) await new Promise((r) => setImmediate(r));
    await store.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);

    store = await startService('shop/store.js', { STORE_DIR: dir });
    try {
      const all = (await request(store.url + '/v1/orders')).json;
      const byId = new Map(all.items.map((o) => [o.id, o]));
      for (const a of acked) assert.deepEqual(byId.get(a.id), a, `acknowledged order ${a.id} is there`);
      assert.ok(all.total >= acked.length);
      const next = await post(store.url + '/v1/orders', { after: true });
      assert.equal(next.json.id, Math.max(...all.items.map((o) => o.id)) + 1, 'ids go on after the last durable one');
    } finally {
      await store.kill();
    }
  });

  it('cuts a torn last line off (logged), keeps the rest, and appends after it', async () => {
    const dir = tempDir();
    const file = path.join(dir, FILE);
    const good = '{"c":"users","items":[{"id":1,"username":"ann"}]}\n{"c":"users","items":[{"id":2,"username":"bob"}]}\n';
    for (const torn of ['{"c":"users","items":[{"id":3,"us', '\0\0\0\0\0\0', '{"c":"users","items":[{"id":3}]}']) {
      fs.writeFileSync(file, good + torn);
      const store = await startService('shop/store.js', { STORE_DIR: dir });
      try {
        assert.match(store.output().stderr, new RegExp(`cut a torn last line off .*store\\.jsonl at byte ${Buffer.byteLength(good)} \\(${Buffer.byteLength(torn)} bytes`));
        assert.match(store.output().stdout, /replayed 2 lines \(2 records in 1 collections\)/);
        assert.equal(fs.readFileSync(file, 'utf8'), good, 'the file is cut back to its last whole line');
        assert.deepEqual((await request(store.url + '/v1/users')).json.items.map((u) => u.username), ['ann', 'bob']);
        const carl = await post(store.url + '/v1/users', { username: 'carl' });
        assert.equal(carl.json.id, 3);
      } finally {
        await store.kill();
      }
      const again = await startService('shop/store.js', { STORE_DIR: dir });
      try {
        assert.equal(again.output().stderr, '', 'nothing torn the second time');
        assert.equal((await request(again.url + '/v1/users')).json.total, 3);
      } finally {
        await again.kill();
      }
    }
  });

  it('refuses to start on a damaged line that is not the last (no data dropped silently)', async () => {
    const dir = tempDir();
    const content = '{"c":"users","items":[{"id":1}]}\n{"c":"users","items":[{"id":1}]}\n{"c":"users","items":[{"id":2}]}\n';
    fs.writeFileSync(path.join(dir, FILE), content);
    const r = await runToExit('shop/store.js', { PORT: '0', STORE_DIR: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 2 \(byte 33\) is not a valid entry and more lines follow it/);
    assert.equal(fs.readFileSync(path.join(dir, FILE), 'utf8'), content, 'the file is left as it was');
  });
});

describe('store limits', () => {
  const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  const fileSize = (dir) => (fs.existsSync(path.join(dir, FILE)) ? fs.statSync(path.join(dir, FILE)).size : 0);

  it('a record over STORE_MAX_RECORD_BYTES (64 KiB) is a 413 naming the limit, and nothing is stored', async () => {
    const dir = tempDir();
    const store = await startService('shop/store.js', { STORE_DIR: dir });
    try {
      // The review's record: 1.7 MB of 150,000 keys, which cost ~20 MB of memory each once stored.
      const keys = {};
      for (let i = 0; i < 150_000; i++) keys[`k${i}`] = 0;
      const big = await post(store.url + '/v1/things', keys);
      assert.equal(big.status, 413, big.text);
      assert.deepEqual({ ...big.json, bytes: undefined }, { error: 'record too large', quota: 'STORE_MAX_RECORD_BYTES', limit: 65536, bytes: undefined, index: 0 });
      assert.ok(big.json.bytes > 65536);
      // In a batch: the index of the record, and the others are not stored either.
      const batch = await post(store.url + '/v1/things', [{ a: 1 }, { pad: 'x'.repeat(65536) }]);
      assert.deepEqual([batch.status, batch.json.index], [413, 1]);
      // Exactly at the limit is fine: {"id":1,"pad":"…"} is 17 bytes around the padding.
      const edge = await post(store.url + '/v1/things', { pad: 'x'.repeat(65536 - 17) });
      assert.equal(edge.status, 201, edge.text);
      assert.equal((await request(store.url + '/v1/things')).json.total, 1);
    } finally {
      await store.kill();
    }
  });

  it('file bytes, records per collection, collections: 507 naming the quota, nothing stored, reads go on', async () => {
    const dir = tempDir();
    const store = await startService('shop/store.js', { STORE_DIR: dir, STORE_MAX_BYTES: '2000', STORE_MAX_RECORDS: '3', STORE_MAX_COLLECTIONS: '2' });
    try {
      assert.equal((await post(store.url + '/v1/a', [{}, {}])).status, 201);
      const records = await post(store.url + '/v1/a', [{}, {}]);
      assert.deepEqual([records.status, records.json], [507, { error: 'store full', quota: 'STORE_MAX_RECORDS', limit: 3, collection: 'a', records: 2, adding: 2 }]);
      assert.equal((await post(store.url + '/v1/a', {})).status, 201, 'up to the quota is fine');
      assert.equal((await post(store.url + '/v1/b', {})).status, 201);
      const collections = await post(store.url + '/v1/c', {});
      assert.deepEqual([collections.status, collections.json], [507, { error: 'store full', quota: 'STORE_MAX_COLLECTIONS', limit: 2, collections: 2 }]);

      const before = fileSize(dir);
      const bytes = await post(store.url + '/v1/b', { pad: 'x'.repeat(2000) });
      assert.deepEqual([bytes.status, bytes.json.quota, bytes.json.limit, bytes.json.bytes], [507, 'STORE_MAX_BYTES', 2000, before]);
      assert.equal(fileSize(dir), before, 'nothing appended');
      assert.deepEqual((await request(store.url + '/v1')).json, { collections: { a: 3, b: 1 } });
      assert.equal((await request(store.url + '/v1/a/3')).status, 200);
      assert.match((await request(store.url + '/metrics')).text, /^shop_store_max_bytes 2000$/m);
    } finally {
      await store.kill();
    }
  });

  it('writes racing for the last bytes never take the file past STORE_MAX_BYTES', async () => {
    const dir = tempDir();
    const store = await startService('shop/store.js', { STORE_DIR: dir, STORE_MAX_BYTES: '10000' });
    try {
      // Each line is 128 bytes: 78 fit, whichever of the 100 concurrent writes they are.
      const pad = 'x'.repeat(128 - '{"c":"r","items":[{"id":10,"p":""}]}\n'.length);
      const rs = await Promise.all(Array.from({ length: 100 }, () => post(store.url + '/v1/r', { p: pad })));
      const created = rs.filter((r) => r.status === 201).length;
      assert.ok(rs.every((r) => r.status === 201 || r.status === 507));
      assert.ok(created >= 70 && created <= 78, `created ${created}`);
      assert.ok(fileSize(dir) <= 10000, `file ${fileSize(dir)} bytes`);
      assert.equal((await request(store.url + '/v1/r')).json.total, created);
    } finally {
      await store.kill();
    }
  });

  it('a file already over STORE_MAX_BYTES at start: the store starts (no crash loop), reads work, writes 507', async () => {
    const dir = tempDir();
    const content = Array.from({ length: 50 }, (_, i) => `{"c":"users","items":[{"id":${i + 1},"username":"u${i}"}]}\n`).join('');
    fs.writeFileSync(path.join(dir, FILE), content);
    const store = await startService('shop/store.js', { STORE_DIR: dir, STORE_MAX_BYTES: '1000' });
    try {
      assert.match(store.output().stderr, new RegExp(`holds ${Buffer.byteLength(content)} bytes, over STORE_MAX_BYTES=1000: writes answer 507`));
      assert.equal((await request(store.url + '/health/ready')).status, 200);
      assert.equal((await request(store.url + '/v1/users')).json.total, 50);
      assert.deepEqual((await request(store.url + '/v1/users/50')).json, { id: 50, username: 'u49' });
      const w = await post(store.url + '/v1/users', { username: 'new' });
      assert.deepEqual([w.status, w.json.quota], [507, 'STORE_MAX_BYTES']);
      assert.equal(fs.readFileSync(path.join(dir, FILE), 'utf8'), content);
    } finally {
      await store.kill();
    }
  });

  it('replay streams the file: one past 2 GiB (here a torn, sparse tail) is cut, not a fatal read error', async () => {
    const dir = tempDir();
    const file = path.join(dir, FILE);
    const good = '{"c":"users","items":[{"id":1,"username":"ann"}]}\n';
    fs.writeFileSync(file, good);
    fs.truncateSync(file, 2 ** 31 + 4096); // a hole of zeros: no disk used, but readFileSync refuses it
    const store = await startService('shop/store.js', { STORE_DIR: dir }, { timeoutMs: 60_000 });
    try {
      assert.match(store.output().stderr, new RegExp(`cut a torn last line off .*store\\.jsonl at byte ${Buffer.byteLength(good)} \\(${2 ** 31 + 4096 - Buffer.byteLength(good)} bytes`));
      assert.equal(fs.statSync(file).size, Buffer.byteLength(good));
      assert.deepEqual((await request(store.url + '/v1/users/1')).json, { id: 1, username: 'ann' });
    } finally {
      await store.kill();
    }
  });

  it('records nested deeper than 32 levels are a 400 (not a 500 from JSON.stringify), and nothing is stored', async () => {
    const dir = tempDir();
    const store = await startService('shop/store.js', { STORE_DIR: dir });
    try {
      const nested = (depth) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
      for (const depth of [33, 5000]) {
        const r = await post(store.url + '/v1/deep', `[{},${nested(depth)}]`);
        assert.deepEqual([r.status, r.json], [400, { error: 'records nest at most 32 levels deep', index: 1, limit: 32 }], `depth ${depth}`);
      }
      const arrays = await post(store.url + '/v1/deep', { a: JSON.parse('['.repeat(40) + ']'.repeat(40)) });
      assert.equal(arrays.status, 400);
      assert.equal(fileSize(dir), 0);
      assert.equal((await post(store.url + '/v1/deep', nested(32))).status, 201);
    } finally {
      await store.kill();
    }
  });

  it('memory: a replayed file of many-key records costs about its size, not ~9x (records are kept as JSON text)', async () => {
    const empty = tempDir();
    const dir = tempDir();
    // 16 MiB of 60 KiB records of 5,000 distinct keys each: the shape that costs most as objects.
    const lines = [];
    let bytes = 0;
    for (let id = 1; bytes < 16 * 1024 * 1024; id++) {
      const r = { id };
      for (let j = 0; j < 5000; j++) r[`k${id}_${j}`] = 0;
      lines.push(JSON.stringify({ c: 'records', items: [r] }) + '\n');
      bytes += lines.at(-1).length;
    }
    fs.writeFileSync(path.join(dir, FILE), lines.join(''));
    const baseline = await startService('shop/store.js', { STORE_DIR: empty });
    const store = await startService('shop/store.js', { STORE_DIR: dir }, { timeoutMs: 60_000 });
    try {
      const growth = rss(store.pid) - rss(baseline.pid);
      // Measured: ~3.7x with the text (the heap keeps replay's garbage), ~8.4x as objects.
      assert.ok(growth < 6 * bytes, `RSS grew ${(growth / 2 ** 20).toFixed(0)} MiB for a ${(bytes / 2 ** 20).toFixed(0)} MiB file`);
      assert.equal((await request(store.url + '/v1/records?limit=1')).json.total, lines.length);
    } finally {
      await Promise.all([baseline.kill(), store.kill()]);
    }
  });

  it('at most 2 different unique fields per collection (each is an index in memory)', async () => {
    const store = await startService('shop/store.js', { STORE_DIR: tempDir() });
    try {
      assert.equal((await post(store.url + '/v1/u?unique=a', { a: 1, b: 1, c: 1 })).status, 201);
      assert.equal((await post(store.url + '/v1/u?unique=b', { a: 2, b: 2, c: 2 })).status, 201);
      const third = await post(store.url + '/v1/u?unique=c', { a: 3, b: 3, c: 3 });
      assert.deepEqual([third.status, third.json], [400, { error: 'at most 2 different unique fields per collection', unique: 'c', fields: ['a', 'b'] }]);
      assert.equal((await post(store.url + '/v1/u?unique=a', { a: 1 })).status, 409);
      assert.equal((await request(store.url + '/v1/u')).json.total, 2);
    } finally {
      await store.kill();
    }
  });
});

describe('replicas share the store', () => {
  it('two replicas of each service answer the same, and a store restart loses nothing', async () => {
    const dir = tempDir();
    let store = await startService('shop/store.js', { STORE_DIR: dir });
    const env = () => ({ STORE_URL: store.url });
    const bls = await Promise.all([1, 2].map((i) => startService('shop/business-logic.js', { ...env(), POD_NAME: `bl-${i}` })));
    const dis = await Promise.all([1, 2].map((i) => startService('shop/data-ingest.js', { ...env(), POD_NAME: `di-${i}` })));
    const fes = await Promise.all(
      [1, 2].map((i) => startService('shop/frontend-api.js', { ...env(), BUSINESS_LOGIC_URL: bls[i - 1].url, DATA_INGEST_URL: dis[i - 1].url, POD_NAME: `fe-${i}` })),
    );
    try {
      const order = await post(fes[0].url + '/api/v1/orders', { user_id: 7, amount: 20 });
      assert.equal(order.status, 201);
      assert.equal(order.json.processed_by, 'bl-1');
      await post(fes[1].url + '/api/v1/orders', { user_id: 8, amount: 30 });
      await post(dis[0].url + '/api/v1/ingest', { type: 'click' });
      await post(dis[1].url + '/api/v1/ingest', [{ type: 'view' }, { type: 'click', source: 'web' }]);

      // Two frontends racing for one username: one 201, one 409.
      const race = await Promise.all(fes.map((fe) => post(fe.url + '/api/v1/users', { username: 'dora', email: 'd@x' })));
      assert.deepEqual(race.map((r) => r.status).sort(), [201, 409]);

      const views = async () => {
        const out = [];
        for (const bl of bls) {
          const summary = (await request(bl.url + '/api/v1/analytics/summary')).json;
          delete summary.pod;
          out.push(summary, (await request(`${bl.url}/api/v1/orders/${order.json.order_id}`)).json);
        }
        for (const di of dis) out.push((await request(di.url + '/api/v1/ingest/stats')).json, (await request(di.url + '/api/v1/ingest/recent')).json);
        for (const fe of fes) out.push((await request(fe.url + '/api/v1/users')).json, (await request(fe.url + '/api/v1/orders')).json);
        return out;
      };
      const seen = await views();
      assert.deepEqual(seen.slice(0, 2), seen.slice(2, 4), 'both business-logic replicas');
      assert.deepEqual(seen.slice(4, 6), seen.slice(6, 8), 'both data-ingest replicas');
      assert.deepEqual(seen.slice(8, 10), seen.slice(10, 12), 'both frontend-api replicas');
      assert.deepEqual(seen[1], order.json);
      assert.equal(seen[0].orders, 2);
      assert.deepEqual(seen[4], { total: 3, by_type: { click: 2, view: 1 }, by_source: { api: 2, web: 1 } });
      assert.equal(seen[8].count, 1);

      // SIGKILL the store and start it again on the same directory, on another port: restart
      // the others pointed at it; they see exactly what they saw before.
      await store.kill('SIGKILL');
      store = await startService('shop/store.js', { STORE_DIR: dir });
      await Promise.all([...bls, ...dis, ...fes].map((s) => s.kill()));
      bls.splice(0, 2, ...(await Promise.all([1, 2].map((i) => startService('shop/business-logic.js', { ...env(), POD_NAME: `bl-${i}` })))));
      dis.splice(0, 2, ...(await Promise.all([1, 2].map((i) => startService('shop/data-ingest.js', { ...env(), POD_NAME: `di-${i}` })))));
      fes.splice(
        0,
        2,
        ...(await Promise.all(
          [1, 2].map((i) => startService('shop/frontend-api.js', { ...env(), BUSINESS_LOGIC_URL: bls[i - 1].url, DATA_INGEST_URL: dis[i - 1].url, POD_NAME: `fe-${i}` })),
        )),
      );
      assert.deepEqual(await views(), seen);
    } finally {
      await Promise.all([store, ...bls, ...dis, ...fes].map((s) => s.kill()));
    }
  });
});
