// The yaml package behind one import, loaded on use (`await import('./yaml.js')`): the parser
// costs ~30 ms of start-up that `gridctl get pods` never needs. Its named exports are re-exported
// from a module of ours, so they survive whatever interop the bundle uses for a CommonJS package.
export { parse, parseAllDocuments, stringify } from 'yaml';
