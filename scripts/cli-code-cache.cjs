// Makes V8's code cache of dist/cli/gridctl.cjs for bin/gridctl.cjs (run by build-cli.mjs as
// `node scripts/cli-code-cache.cjs --help`): compiles the bundle as the launcher does, runs
// `gridctl --help` (commander's parsing and every command's registration), and at exit writes
// the cache, which then holds the functions a call runs first.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const dir = path.join(__dirname, '..', 'dist', 'cli');
const entry = path.join(dir, 'gridctl.cjs');
const script = new vm.Script(Module.wrap(fs.readFileSync(entry, 'utf8')), { filename: entry });
process.on('exit', () => fs.writeFileSync(`${entry}.cache`, script.createCachedData()));
const mod = new Module(entry, module);
mod.filename = entry;
mod.paths = Module._nodeModulePaths(dir);
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(entry), mod, entry, dir);
