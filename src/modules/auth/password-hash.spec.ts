import { hashPassword, parseHash, verifyPassword, type ParsedHash } from './password-hash.js';

const FAST = { N: 2 ** 14, r: 8, p: 1 };

describe(hashPassword.name, () => {
  it('stores a self-describing scrypt hash with a fresh salt, never the password', async () => {
    const a = await hashPassword('correct horse battery', FAST);
    const b = await hashPassword('correct horse battery', FAST);

    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toEqual(b);
    expect(a).not.toContain('correct');
  });

  it.each([
    { given: 'correct horse battery', want: true },
    { given: 'correct horse batterY', want: false },
    { given: '', want: false },
  ])('verifies $given as $want', async ({ given, want }) => {
    const stored = parseHash(await hashPassword('correct horse battery', FAST)) as ParsedHash;

    expect(await verifyPassword(given, stored)).toBe(want);
  });

  it('verifies a hash made with other parameters by the ones it carries', async () => {
    const stored = await hashPassword('correct horse battery', { N: 2 ** 15, r: 4, p: 2 });

    expect(await verifyPassword('correct horse battery', parseHash(stored) as ParsedHash)).toBe(true);
  });
});

describe(parseHash.name, () => {
  const salt = 'A'.repeat(22);
  const hash = 'B'.repeat(43);
  it.each([
    { s: 'secure123', want: /must be scrypt\$N\$r\$p\$salt\$hash/ },
    { s: `scrypt$1000$8$1$${salt}$${hash}`, want: /N must be a power of two/ },
    { s: `scrypt$${2 ** 24}$8$1$${salt}$${hash}`, want: /N must be a power of two 16384..1048576 \(got 16777216\)/ },
    { s: `scrypt$16384$64$1$${salt}$${hash}`, want: /r must be 1..32/ },
    { s: `scrypt$16384$8$99$${salt}$${hash}`, want: /p must be 1..16/ },
  ])('refuses $s', ({ s, want }) => {
    expect(parseHash(s)).toMatch(want);
  });
});
