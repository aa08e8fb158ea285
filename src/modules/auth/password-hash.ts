// Passwords are stored only as scrypt hashes in one self-describing string,
// `scrypt$N$r$p$salt$hash` (salt and hash base64url), so the cost can be raised later
// without losing the hashes already stored: each one carries its own parameters.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP's scrypt minimum (N=2^17 r=8 p=1 is their first choice; 2^15 keeps a Basic-auth login near 50 ms on a small node). */
export const DEFAULT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

export interface ParsedHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

/** Why a stored hash is unusable, or the parsed hash. Bounds keep a hash from a users file from costing minutes or gigabytes per login. */
export function parseHash(s: string): ParsedHash | string {
  const m = FORMAT.exec(s);
  if (!m) return 'must be scrypt$N$r$p$salt$hash (make one with `npm run grid -- hash-password`)';
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 ** 14 || N > 2 ** 20 || (N & (N - 1)) !== 0) return `N must be a power of two 16384..1048576 (got ${N})`;
  if (r < 1 || r > 32) return `r must be 1..32 (got ${r})`;
  if (p < 1 || p > 16) return `p must be 1..16 (got ${p})`;
  return { N, r, p, salt: Buffer.from(m[4], 'base64url'), hash: Buffer.from(m[5], 'base64url') };
}

function derive(password: string, salt: Buffer, length: number, { N, r, p }: ScryptParams): Promise<Buffer> {
  // Node refuses scrypt above maxmem (32 MiB by default); 128*N*r is what it needs.
  return new Promise((resolve, reject) => scrypt(password, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (e, key) => (e ? reject(e) : resolve(key))));
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, KEY_BYTES, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Constant time in the password: the whole derived key is compared with timingSafeEqual. */
export async function verifyPassword(password: string, stored: ParsedHash): Promise<boolean> {
  const got = await derive(password, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(got, stored.hash);
}
