// Bundles gridctl (src/cli) with esbuild into dist/cli: one entry file plus a chunk per
// command group, loaded on use. One file to read instead of a tree of modules keeps Node's
// start-up, which dominates a CLI call, as short as it can be (bench: npm run bench -- gridctl).
// `npm run build` runs it, and so does `prepare` (npm ci / npm install in the checkout), so
// `npx gridctl` works right after `npm ci`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist/cli');

const ENTRY = path.join(ROOT, 'src/cli/gridctl.ts');
if (!fs.existsSync(ENTRY)) {
  // The Dockerfile's npm ci runs before src/ is copied; its npm run build builds the CLI later.
  console.warn('gridctl not built yet: src/cli is not there');
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('gridctl not built: esbuild is missing (npm ci installs it; production installs without dev dependencies use dist/ from a build)');
  process.exit(0);
}

fs.rmSync(OUT, { recursive: true, force: true });
await esbuild.build({
  entryPoints: { gridctl: ENTRY },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: OUT,
  chunkNames: 'chunks/[name]-[hash]',
  // commander and yaml are CommonJS: their require() of Node built-ins needs a real require.
  banner: { js: "import { createRequire as __gridctlRequire } from 'node:module'; const require = __gridctlRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  minifySyntax: true,
});
fs.writeFileSync(path.join(OUT, 'package.json'), '{ "type": "module" }\n');
