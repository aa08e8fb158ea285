// The yaml package, re-exported from an ES module: esbuild's bundle gives a CommonJS package
// loaded by import() only a default export (`const { parse } = await import('yaml')` read
// undefined), while this module's chunk carries the named exports. Load it with import('./yaml.js').
export { parse, parseAllDocuments, stringify } from 'yaml';
