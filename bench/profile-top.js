// Top self-time functions of a V8 .cpuprofile (from node --cpu-prof).
//
//   node bench/profile-top.js <file.cpuprofile> [--top=10] [--json]
//
// Also exported: topSelf(profile, n) for the benchmarks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Self time by function (name + file:line), largest first; also totals by file and by category. */
export function topSelf(profile, n = 10, window = {}) {
  const byId = new Map();
  const parentOf = new Map();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parentOf.set(c, node.id);
  }
  const frameKey = (cf) => {
    const file = shortUrl(cf.url);
    return `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
  };
  const selfUs = new Map();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  // Sample times are CLOCK_MONOTONIC µs (process.hrtime.bigint() / 1000n in any process on this machine).
  let t = profile.startTime ?? 0;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (window.fromUs !== undefined && t < window.fromUs) continue;
    if (window.toUs !== undefined && t > window.toUs) continue;
    const d = Math.max(0, deltas[i] ?? 0);
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + d);
    total += d;
  }
  const byFn = new Map();
  const byFile = new Map();
  const byGroup = new Map();
  let profilerUs = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)?.callFrame;
    if (!cf) continue;
    let file = shortUrl(cf.url);
    let key = frameKey(cf);
    // Native functions (no url) are named after their JavaScript caller: "run [native] ← flush events.service.js:107".
    if (!cf.url && cf.functionName && !cf.functionName.startsWith('(')) {
      const parent = byId.get(parentOf.get(id))?.callFrame;
      if (parent?.url === 'node:inspector') {
        // The in-process inspector serializing the profile at Profiler.stop: measurement overhead, not Grid.
        profilerUs += us;
        continue;
      }
      if (parent) {
        key = `${cf.functionName} [native] ← ${frameKey(parent)}`;
        file = shortUrl(parent.url);
      }
    }
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const group = groupOf(cf, key, file);
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
    const fk = file || `(${cf.functionName || 'native'})`;
    byFile.set(fk, (byFile.get(fk) ?? 0) + us);
  }
  const rows = [...byFn].sort((a, b) => b[1] - a[1]);
  const idleUs = byFn.get('(idle)') ?? 0;
  total -= profilerUs;
  const busy = total - idleUs;
  const pct = (us) => Math.round((us / total) * 1000) / 10;
  const pctBusy = (us) => Math.round((us / (busy || 1)) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    idleMs: Math.round(idleUs / 1000),
    busyMs: Math.round(busy / 1000),
    profilerOverheadMs: Math.round(profilerUs / 1000),
    top: rows
      .filter(([k]) => k !== '(idle)')
      .slice(0, n)
      .map(([fn, us]) => ({ fn, selfMs: Math.round(us / 100) / 10, pctOfTotal: pct(us), pctOfBusy: pctBusy(us) })),
    groups: [...byGroup]
      .filter(([k]) => k !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .map(([group, us]) => ({ group, selfMs: Math.round(us / 100) / 10, pctOfBusy: pctBusy(us) })),
    topFiles: [...byFile]
      .filter(([k]) => k !== '((idle))')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([file, us]) => ({ file, selfMs: Math.round(us / 100) / 10, pctOfBusy: pctBusy(us) })),
  };
}

/** A coarse owner for a frame: where would a saving have to come from. */
function groupOf(cf, key, file) {
  const name = cf.functionName;
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'V8/native (program)';
  if (key.includes('[native]')) return 'native calls (syscalls, C++ bindings)';
  if (!cf.url) return 'V8/native (other)';
  if (file.startsWith('undici/')) return 'undici';
  if (file.startsWith('prom-client/')) return 'prom-client';
  if (file.startsWith('fastify/') || file.startsWith('@fastify/') || file.startsWith('find-my-way/') || file.startsWith('light-my-request/') || file.startsWith('avvio/')) return 'fastify';
  if (file.startsWith('@nestjs/')) return 'nestjs';
  if (file.startsWith('dist/modules/')) return `grid ${file.split('/').slice(1, 3).join('/')}`;
  if (file.startsWith('dist/')) return 'grid (other dist/)';
  if (file.startsWith('typeorm/')) return 'typeorm';
  if (file.startsWith('better-sqlite3/')) return 'better-sqlite3 (JS)';
  if (file.startsWith('yaml/')) return 'yaml';
  if (file.startsWith('node:')) return 'node core (JS)';
  if (/^[0-9a-f]+$/.test(file)) return 'undici (llhttp wasm)';
  return 'other packages';
}

function shortUrl(url) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const dist = u.indexOf('/dist/');
  if (dist >= 0) return u.slice(dist + 1);
  return u.startsWith('node:') ? u : path.basename(u);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/profile-top.js <file.cpuprofile> [--top=10] [--json]\n');
    process.exit(2);
  }
  const top = Number((process.argv.find((a) => a.startsWith('--top=')) ?? '--top=10').slice(6));
  const r = topSelf(JSON.parse(fs.readFileSync(file, 'utf8')), top);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    process.stdout.write(`${file}: ${r.totalMs} ms sampled, ${r.idleMs} ms idle\n`);
    for (const t of r.top) process.stdout.write(`${String(t.selfMs).padStart(9)} ms  ${String(t.pctOfBusy).padStart(5)}% of busy  ${t.fn}\n`);
    process.stdout.write('by owner:\n');
    for (const t of r.groups) process.stdout.write(`${String(t.selfMs).padStart(9)} ms  ${String(t.pctOfBusy).padStart(5)}%  ${t.group}\n`);
    process.stdout.write('by file:\n');
    for (const t of r.topFiles) process.stdout.write(`${String(t.selfMs).padStart(9)} ms  ${String(t.pctOfBusy).padStart(5)}%  ${t.file}\n`);
  }
}
