#!/usr/bin/env node
// gridctl's launcher: the CLI itself is bundled into dist/cli by `npm run build` (and by
// `npm ci`, through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/cli/gridctl.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write(`error: gridctl is not built (${entry} is missing): run npm run build in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(1);
}
await import(entry);
