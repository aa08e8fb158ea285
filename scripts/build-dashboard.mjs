// Builds the dashboard (src/dashboard) into dist/dashboard: one JS and one CSS bundle named by
// content hash (served as immutable), index.html pointing at them (served no-cache), and a
// gzip and brotli copy of each for @fastify/static's preCompressed serving.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src/dashboard');
const OUT = path.join(ROOT, 'dist/dashboard');

const result = await esbuild.build({
  entryPoints: { app: path.join(SRC, 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // The Apply page preloads examples/*.yaml as text.
  loader: { '.yaml': 'text' },
  entryNames: '[name]-[hash]',
  outdir: path.join(OUT, 'assets'),
  metafile: true,
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});

fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(path.join(OUT, 'assets'), { recursive: true });
const names = {};
for (const file of result.outputFiles) {
  fs.writeFileSync(file.path, file.contents);
  names[path.extname(file.path)] = '/assets/' + path.basename(file.path);
}
if (!names['.js'] || !names['.css']) throw new Error('dashboard build: expected one .js and one .css bundle');
const html = fs.readFileSync(path.join(SRC, 'index.html'), 'utf8').replace('%JS%', names['.js']).replace('%CSS%', names['.css']);
fs.writeFileSync(path.join(OUT, 'index.html'), html);

let raw = 0;
let gz = 0;
for (const rel of ['index.html', ...Object.values(names).map((n) => n.slice(1))]) {
  const file = path.join(OUT, rel);
  const body = fs.readFileSync(file);
  const g = zlib.gzipSync(body, { level: 9 });
  fs.writeFileSync(file + '.gz', g);
  fs.writeFileSync(file + '.br', zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  raw += body.length;
  gz += g.length;
}
console.log(`dashboard: ${names['.js']} ${names['.css']} (${(raw / 1024).toFixed(0)} KiB, ${(gz / 1024).toFixed(0)} KiB gzip)`);
