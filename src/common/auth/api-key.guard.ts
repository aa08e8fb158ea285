// Access control moved to the auth module's global guard (src/modules/auth/auth.guard.ts);
// the route markers stay importable from here.
export { MUTATING, Mutating, PUBLIC, Public } from './mutating.js';
