import { canonical, entryHash, GENESIS, link, verifyChain, type AuditDraft, type AuditEntry, type BrokenReason } from './hash-chain.js';

const T0 = Date.UTC(2026, 0, 1);

function draft(i: number, overrides: Partial<AuditDraft> = {}): AuditDraft {
  return { time: T0 + i, actor: 'ops', actorKind: 'api-key', sourceIp: '127.0.0.1', action: 'apply', target: `svc${i}`, summary: `svc${i} created`, status: 200, ...overrides };
}

/** A valid chain of n entries, ids 1..n. */
function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = 0; i < n; i++) out.push(link(out[out.length - 1] ?? null, draft(i)));
  return out;
}

/** Recomputes an entry's hash after a change, as a careful tamperer would. */
function rehash(e: AuditEntry): AuditEntry {
  return { ...e, hash: entryHash(e.prevHash, e) };
}

describe(canonical.name, () => {
  it('is the same whatever order the fields were set in', () => {
    const a = { id: 1, ...draft(1) };
    const b = { status: a.status, summary: a.summary, target: a.target, action: a.action, sourceIp: a.sourceIp, actorKind: a.actorKind, actor: a.actor, time: a.time, id: 1 };
    expect(canonical(b)).toBe(canonical(a));
  });

  it.each([
    ['a separator moved between fields', { actor: 'a,b', action: 'c' }, { actor: 'a', action: 'b,c' }],
    ['a quote moved between fields', { actor: 'a"', action: 'b' }, { actor: 'a', action: '"b' }],
    ['null versus the string "null"', { target: null }, { target: 'null' }],
    ['status null versus 0', { status: null }, { status: 0 }],
  ])('tells apart %s', (_name, x, y) => {
    expect(canonical({ id: 1, ...draft(1, x) })).not.toBe(canonical({ id: 1, ...draft(1, y) }));
  });
});

describe(link.name, () => {
  it('starts at id 1 on the genesis hash and chains each entry to the one before', () => {
    const [a, b] = chain(2);
    expect(a).toMatchObject({ id: 1, prevHash: GENESIS });
    expect(b).toMatchObject({ id: 2, prevHash: a.hash });
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).not.toBe(a.hash);
  });
});

describe(verifyChain.name, () => {
  const sut = verifyChain;

  it.each([
    ['an empty log', 0],
    ['one entry', 1],
    ['many entries', 50],
  ])('accepts %s', (_name, n) => {
    const entries = chain(n);
    expect(sut(entries)).toEqual({ ok: true, checked: n });
    expect(sut(entries, entries[n - 1] ?? null)).toEqual({ ok: true, checked: n });
  });

  type Case = [name: string, tamper: (c: AuditEntry[]) => AuditEntry[], useAnchor: boolean, id: number, reason: BrokenReason, checked: number];
  const cases: Case[] = [
    ['a changed summary', (c) => ((c[3] = { ...c[3], summary: 'nothing happened' }), c), false, 4, 'altered', 3],
    ['a changed status', (c) => ((c[0] = { ...c[0], status: 500 }), c), false, 1, 'altered', 0],
    ['a changed actor with its own hash recomputed', (c) => ((c[2] = rehash({ ...c[2], actor: 'someone-else' })), c), false, 4, 'bad-prev-hash', 3],
    ['a changed hash', (c) => ((c[5] = { ...c[5], hash: 'f'.repeat(64) }), c), false, 6, 'altered', 5],
    ['a removed middle entry', (c) => (c.splice(4, 1), c), false, 5, 'removed', 4],
    ['two removed entries', (c) => (c.splice(4, 2), c), false, 5, 'removed', 4],
    ['a removed first entry', (c) => c.slice(1), false, 1, 'removed', 0],
    ['a removed last entry (only the anchor knows)', (c) => c.slice(0, -1), true, 10, 'removed', 9],
    ['all entries removed (only the anchor knows)', () => [], true, 1, 'removed', 0],
    ['two entries swapped', (c) => ([c[2], c[3]] = [c[3], c[2]], c), false, 3, 'removed', 2],
    ['an entry renumbered to fill a gap', (c) => (c.splice(4, 1), (c[4] = rehash({ ...c[4], id: 5 })), c), false, 5, 'bad-prev-hash', 4],
    ['a whole tail recomputed after a change (only the anchor knows)', (c) => recomputeFrom(c, 7, { summary: 'rewritten' }), true, 10, 'altered', 10],
    ['an entry appended from outside with a valid hash', (c) => [...c, link(c[c.length - 1], draft(99))], true, 11, 'unknown-entry', 10],
  ];

  it.each(cases)('finds %s', (_name, tamper, useAnchor, id, reason, checked) => {
    const original = chain(10);
    const anchor = original[9];
    const r = sut(tamper(original.map((e) => ({ ...e }))), useAnchor ? anchor : undefined);
    expect(r).toMatchObject({ ok: false, checked, firstBroken: { id, reason } });
    expect(r.firstBroken!.detail).toContain(String(id));
  });

  it('misses a recomputed tail without the anchor (why Grid keeps one)', () => {
    expect(sut(recomputeFrom(chain(10), 7, { summary: 'rewritten' }))).toEqual({ ok: true, checked: 10 });
  });
});

/** Changes entry `from` (0-based) and recomputes every hash from there: a chain-aware tamperer. */
function recomputeFrom(c: AuditEntry[], from: number, change: Partial<AuditDraft>): AuditEntry[] {
  const out = c.slice(0, from);
  for (let i = from; i < c.length; i++) {
    const { id: _id, prevHash: _p, hash: _h, ...d } = c[i];
    out.push(link(out[out.length - 1] ?? null, i === from ? { ...d, ...change } : d));
  }
  return out;
}
