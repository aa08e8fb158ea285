#!/usr/bin/env node
// gridctl's launcher. The CLI is one CommonJS bundle, dist/cli/gridctl.cjs, made by
// `npm run build` (and by `npm ci`, through the prepare script): CommonJS because Node 20 starts
// a CommonJS file ~10 ms sooner than an ES module, and a CLI pays start-up on every call.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'gridctl.cjs');
if (!fs.existsSync(entry)) {
  process.stderr.write(`error: gridctl is not built (${entry} is missing): run npm run build in ${path.join(__dirname, '..')}\n`);
  process.exit(1);
}
require(entry);
