// Access control against the real Grid: every mutating operation the OpenAPI document lists
// (so a route added later is covered without touching this file), reads once users exist,
// what stays open, the login limiter, secure-by-default boot, users file and hash-password.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyYaml, cleanupAll, json, ROOT, startGrid, tempDataDir, type GridHandle } from '../utils/grid.js';

const MAIN = path.join(ROOT, 'dist', 'main.js');
const ADMIN_PW = 'e2e admin password';
const VIEWER_PW = 'e2e viewer password';
const KEY = 'ci-key-e2e-0123456789';
const basic = (name: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${pw}`).toString('base64')}` });
const ADMIN = basic('admin', ADMIN_PW);
const VIEWER = basic('vera', VIEWER_PW);

function hashPassword(password: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'hash-password'], { input: `${password}\n`, encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs Grid to its exit (it must not get as far as listening). */
function bootToExit(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { PATH: process.env.PATH!, GRID_PORT: '0', GRID_DATA_DIR: tempDataDir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

interface Operation {
  method: string;
  path: string;
  mutating: boolean;
  /** A POST that only computes an answer from its body (POST /export). */
  read: boolean;
}

async function operations(g: GridHandle): Promise<Operation[]> {
  const doc = (await json(`${g.url}/docs-json`, { headers: ADMIN })).body as { paths: Record<string, Record<string, { 'x-grid-mutating'?: boolean; 'x-grid-read'?: boolean }>> };
  const out: Operation[] = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      // Parameters get a name no service or user has: the request reaches the handler and changes nothing.
      out.push({ method: method.toUpperCase(), path: p.replace(/\{[^}]+\}/g, 'no-such-e2e'), mutating: op['x-grid-mutating'] === true, read: op['x-grid-read'] === true });
    }
  }
  return out;
}

describe('access control', () => {
  let g: GridHandle;
  let usersFile: string;

  beforeAll(async () => {
    const hash = hashPassword(VIEWER_PW);
    expect(hash).toMatchObject({ status: 0, stdout: expect.stringMatching(/^scrypt\$\d+\$\d+\$\d+\$\S+\$\S+\n$/) });
    usersFile = path.join(tempDataDir(), 'users.yaml');
    fs.writeFileSync(usersFile, `users:\n  - name: vera\n    role: viewer\n    passwordHash: "${hash.stdout.trim()}"\n`);
    // Every refusal below must leave its own audit row: more than the 20 a minute one address gets by default.
    g = await startGrid({ env: { GRID_ADMIN_PASSWORD: ADMIN_PW, GRID_API_KEYS: `ci:${KEY}`, GRID_USERS_FILE: usersFile, GRID_GATEWAY_PORT: '0', GRID_AUDIT_REFUSALS_PER_MINUTE: '1000' } });
  });
  afterAll(cleanupAll);

  it('marks every state-changing operation of the API as mutating', async () => {
    const unmarked = (await operations(g)).filter((o) => o.method !== 'GET' && o.method !== 'HEAD' && !o.mutating && !o.read && !/^\/(gateway|proxy)\//.test(o.path));

    expect(unmarked).toEqual([]);
  });

  it('every mutating operation: 401 without credentials, 403 for a viewer, through for an operator and for an API key; each attempt audited', async () => {
    const ops = (await operations(g)).filter((o) => o.mutating);
    expect(ops.length).toBeGreaterThanOrEqual(10);
    /** The audit entry the last request left (the newest; these requests run one at a time). */
    const lastAudit = async () => {
      const r = await json(`${g.url}/audit?limit=1`, { headers: ADMIN });
      const e = r.body.entries[0] as { actor: string; action: string; status: number; target: string | null };
      return { actor: e.actor, action: e.action, status: e.status };
    };
    for (const o of ops) {
      const url = `${g.url}${o.path}`;
      const none = await fetch(url, { method: o.method });
      expect({ op: o, status: none.status, challenge: none.headers.get('www-authenticate') }).toEqual({ op: o, status: 401, challenge: 'Basic realm="Grid", charset="UTF-8"' });
      expect({ op: o, audit: await lastAudit() }).toEqual({ op: o, audit: { actor: 'anonymous', action: 'auth.refused', status: 401 } });
      expect({ op: o, status: (await fetch(url, { method: o.method, headers: VIEWER })).status }).toEqual({ op: o, status: 403 });
      expect({ op: o, audit: await lastAudit() }).toEqual({ op: o, audit: { actor: 'vera', action: 'auth.refused', status: 403 } });
      for (const [actor, headers] of [['admin', ADMIN], ['ci', { 'x-api-key': KEY }], ['ci', { authorization: `Bearer ${KEY}` }]] as const) {
        const status = (await fetch(url, { method: o.method, headers })).status;
        expect({ op: o, headers: Object.keys(headers), status: [401, 403, 429].includes(status) ? status : 'through' }).toEqual({ op: o, headers: Object.keys(headers), status: 'through' });
        const audit = await lastAudit();
        expect({ op: o, actor: audit.actor, status: audit.status, refused: audit.action === 'auth.refused' }).toEqual({ op: o, actor, status, refused: false });
      }
    }
  });

  it('once users exist, every read needs credentials (the JSON API and /docs alike); a viewer or a key may read', async () => {
    const reads = (await operations(g)).filter((o) => o.method === 'GET' && !/^\/(gateway|proxy)\/|^\/(healthz|metrics)$/.test(o.path));
    expect(reads.map((o) => o.path)).toEqual(expect.arrayContaining(['/state', '/services', '/users', '/events']));
    for (const o of [...reads, { method: 'GET', path: '/docs-json' }, { method: 'GET', path: '/docs' }, { method: 'GET', path: '/docs/swagger-ui.css' }]) {
      expect({ path: o.path, status: (await fetch(`${g.url}${o.path}`)).status }).toEqual({ path: o.path, status: 401 });
    }
    for (const headers of [VIEWER, { 'x-api-key': KEY }]) {
      expect((await json(`${g.url}/state`, { headers })).status).toBe(200);
      expect((await fetch(`${g.url}/docs`, { headers })).status).toBe(200);
    }
  });

  it('/healthz, /metrics and gateway traffic need no credentials', async () => {
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${g.url}/metrics`)).status).toBe(200);
    expect((await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: {name: open}\nspec: {replicas: 1, image: local://demo@v1}\n', ADMIN)).status).toBe(200);
    for (const url of [`${g.url}/gateway/open/`, `${g.url}/proxy/open/`, `${g.gatewayUrl}/open/`]) {
      const status = (await fetch(url)).status;
      expect({ url, status: [401, 403].includes(status) ? status : 'not refused' }).toEqual({ url, status: 'not refused' });
    }
  });

  it('manages users: an operator adds and removes one; the list never shows a hash; the file and the admin password stay', async () => {
    const created = await json(`${g.url}/users`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'otto', password: 'otto password 1', role: 'operator' }) });
    expect(created).toMatchObject({ status: 201, body: { name: 'otto', role: 'operator' } });
    const list = await json(`${g.url}/users`, { headers: VIEWER });
    expect(list.body.users).toEqual([
      { name: 'admin', role: 'operator', source: 'env' },
      { name: 'otto', role: 'operator', source: 'api' },
      { name: 'vera', role: 'viewer', source: 'file' },
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(/scrypt|password/i);
    const bad = await json(`${g.url}/users`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'eve', password: 'short', role: 'operator' }) });
    expect(bad).toMatchObject({ status: 400, body: { errors: [{ path: 'password' }] } });
    expect((await json(`${g.url}/state`, { headers: basic('otto', 'otto password 1') })).status).toBe(200);
    expect((await json(`${g.url}/users/vera`, { method: 'DELETE', headers: ADMIN })).status).toBe(409);
    expect((await json(`${g.url}/users/otto`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    expect((await json(`${g.url}/state`, { headers: basic('otto', 'otto password 1') })).status).toBe(401);
  });

  it('keeps users across a restart and re-reads the users file', async () => {
    const dataDir = g.dataDir;
    await json(`${g.url}/users`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'kept', password: 'kept password 1', role: 'viewer' }) });
    expect(await g.stop()).toBe(0);
    fs.writeFileSync(usersFile, 'users: []\n');
    g = await startGrid({ dataDir, env: { GRID_API_KEYS: `ci:${KEY}`, GRID_USERS_FILE: usersFile } });

    expect((await json(`${g.url}/users`, { headers: { 'x-api-key': KEY } })).body.users).toEqual([{ name: 'kept', role: 'viewer', source: 'api' }]);
    expect((await json(`${g.url}/state`, { headers: basic('kept', 'kept password 1') })).status).toBe(200);
    expect((await json(`${g.url}/state`, { headers: VIEWER })).status).toBe(401);
  });
});

describe('access control: failed logins, keys only, boot', () => {
  afterAll(cleanupAll);

  it('slows down repeated failed logins from one address: 429 with Retry-After, even for right credentials', async () => {
    const g = await startGrid({ env: { GRID_ADMIN_PASSWORD: ADMIN_PW } });
    for (let i = 0; i < 6; i++) expect((await fetch(`${g.url}/state`, { headers: basic('admin', `guess-${i}`) })).status).toBe(401);
    const blocked = await fetch(`${g.url}/state`, { headers: ADMIN });

    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
  });

  it('a burst of parallel wrong passwords from one address: at most six reach the password check, the rest get 429 at once; a valid API key from that address still works', async () => {
    const g = await startGrid({ env: { GRID_ADMIN_PASSWORD: ADMIN_PW, GRID_API_KEYS: `ci:${KEY}` } });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${g.url}/state`, { headers: basic('admin', `wrong-${i}`) })));
    const statuses = answers.map((r) => r.status);

    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
    expect(statuses.filter((s) => s !== 401)).toEqual(Array.from({ length: statuses.filter((s) => s !== 401).length }, () => 429));
    expect(answers.filter((r) => r.status === 429).every((r) => Number(r.headers.get('retry-after')) >= 1)).toBe(true);
    expect((await fetch(`${g.url}/state`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    expect((await fetch(`${g.url}/scale?service=x&delta=1`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } })).status).toBe(404);
    // Still blocked after the key was let in: the key was not let in because the wait had ended.
    expect((await fetch(`${g.url}/state`, { headers: ADMIN })).status).toBe(429);
  });

  it('with only X_API_KEY (the seed), reads stay open and mutations need the key', async () => {
    const g = await startGrid({ env: { X_API_KEY: 'seed-key-123' } });

    expect((await fetch(`${g.url}/state`)).status).toBe(200);
    expect((await fetch(`${g.url}/docs-json`)).status).toBe(200);
    expect((await fetch(`${g.url}/scale?service=x&delta=1`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${g.url}/scale?service=x&delta=1`, { method: 'POST', headers: { 'x-api-key': 'seed-key-123' } })).status).toBe(404);
  });

  it('without credentials serves only on loopback and says so once', async () => {
    const g = await startGrid({ env: { GRID_LOG_LEVEL: 'log' } });
    await g.stop();

    expect(g.output().match(/serves only on loopback/g)).toHaveLength(1);
  });

  it('refuses to start on a non-loopback address without credentials (exit 2, before listening)', async () => {
    const r = await bootToExit({ GRID_HOST: '0.0.0.0' });

    expect(r.code).toBe(2);
    expect(r.out).toContain('GRID_HOST: 0.0.0.0 is not loopback and no credentials are configured');
    expect(r.out).toContain('GRID_ALLOW_INSECURE=true');
    expect(r.out).not.toContain('Grid listening');
  });

  it.each([
    { text: 'users: [{name: admin, role: operator, password: secure123}]', want: 'users[0] ("admin"): unknown field password' },
    { text: 'users: [{name: bob, role: root, passwordHash: x}]', want: 'users[0] ("bob"): role must be one of viewer, operator' },
  ])('exits 2 on a bad users file, naming the file and the entry: $want', async ({ text, want }) => {
    const file = path.join(tempDataDir(), 'users.yaml');
    fs.writeFileSync(file, text);
    const r = await bootToExit({ GRID_USERS_FILE: file });

    expect(r.code).toBe(2);
    expect(r.out).toContain(`GRID_USERS_FILE: ${file}: ${want}`);
  });

  it('hash-password refuses a short password and never prints it', () => {
    const r = hashPassword('secure123');

    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain('secure123');
  });
});
