#!/usr/bin/env node
// gridctl's launcher. The CLI is one CommonJS bundle, dist/cli/gridctl.cjs, made by
// `npm run build` (and by `npm ci`, through the prepare script): CommonJS because Node 20 starts
// a CommonJS file ~10 ms sooner than an ES module, and a CLI pays start-up on every call.
// The build also leaves V8's code cache of the bundle beside it (gridctl.cjs.cache): loading
// it spares V8 compiling commander and gridctl again on every call, ~8 ms of ~75 (Node 22's
// module.enableCompileCache does the same; Node 20 lacks it). A cache V8 rejects (another Node
// version) only costs that compile.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const dir = path.join(__dirname, '..', 'dist', 'cli');
const entry = path.join(dir, 'gridctl.cjs');
let source;
try {
  source = fs.readFileSync(entry, 'utf8');
} catch {
  process.stderr.write(`error: gridctl is not built (${entry} is missing): run npm run build in ${path.join(__dirname, '..')}\n`);
  process.exit(1);
}
let cachedData;
try {
  cachedData = fs.readFileSync(`${entry}.cache`);
} catch {
  // built without a cache: V8 compiles as usual
}
const script = new vm.Script(Module.wrap(source), { filename: entry, cachedData });
const mod = new Module(entry, module);
mod.filename = entry;
mod.paths = Module._nodeModulePaths(dir);
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(entry), mod, entry, dir);
