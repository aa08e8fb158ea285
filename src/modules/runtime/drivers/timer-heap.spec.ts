import { TimerHeap } from './timer-heap.js';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(TimerHeap.name, () => {
  it('starts empty', () => {
    const sut = new TimerHeap<string>();

    expect([sut.size, sut.peek(), sut.popDue(Number.MAX_SAFE_INTEGER)]).toEqual([0, undefined, []]);
  });

  it('pops in due order regardless of push order', () => {
    const sut = new TimerHeap<string>();
    for (const [at, item] of [
      [30, 'c'],
      [10, 'a'],
      [50, 'e'],
      [20, 'b'],
      [40, 'd'],
    ] as const) {
      sut.push(at, item);
    }

    expect(sut.peek()).toBe(10);
    expect(sut.popDue(100)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(sut.size).toBe(0);
  });

  it.each([
    { now: 9, want: [], left: 5, next: 10 },
    { now: 10, want: ['a'], left: 4, next: 20 },
    { now: 29, want: ['a', 'b'], left: 3, next: 30 },
    { now: 40, want: ['a', 'b', 'c', 'd'], left: 1, next: 50 },
    { now: 50, want: ['a', 'b', 'c', 'd', 'e'], left: 0, next: undefined },
  ])('pops only what is due at $now', ({ now, want, left, next }) => {
    const sut = new TimerHeap<string>();
    sut.push(40, 'd');
    sut.push(20, 'b');
    sut.push(50, 'e');
    sut.push(10, 'a');
    sut.push(30, 'c');

    expect(sut.popDue(now)).toEqual(want);
    expect([sut.size, sut.peek()]).toEqual([left, next]);
  });

  it('keeps working across pops and pushes', () => {
    const sut = new TimerHeap<string>();
    sut.push(10, 'a');
    sut.push(30, 'c');
    expect(sut.popDue(15)).toEqual(['a']);

    sut.push(20, 'b');
    sut.push(5, 'late');

    expect(sut.popDue(25)).toEqual(['late', 'b']);
    expect(sut.popDue(30)).toEqual(['c']);
  });

  it('pops every item of equal due time', () => {
    const sut = new TimerHeap<number>();
    for (let i = 0; i < 5; i++) sut.push(7, i);

    expect([...sut.popDue(7)].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it.each([1, 2, 3])('pops 5,000 random items sorted by due time (seed %i)', (seed) => {
    const sut = new TimerHeap<{ id: number; at: number }>();
    const rand = random(seed);
    const items = Array.from({ length: 5_000 }, (_, id) => ({ id, at: Math.floor(rand() * 1_000) }));
    for (const it of items) sut.push(it.at, it);

    const firstHalf = sut.popDue(499);
    const rest = sut.popDue(1_000);
    const popped = [...firstHalf, ...rest];

    expect(firstHalf.every((x) => x.at <= 499)).toBe(true);
    expect(rest.every((x) => x.at > 499)).toBe(true);
    expect(popped.map((x) => x.at)).toEqual(items.map((x) => x.at).sort((a, b) => a - b));
    expect(popped.map((x) => x.id).sort((a, b) => a - b)).toEqual(items.map((x) => x.id));
    expect(sut.size).toBe(0);
  });
});
