import { Ring, samplePoint, ServiceHistory } from './history.js';

describe(Ring.name, () => {
  it.each([
    { pushed: [], want: [] },
    { pushed: [1, 2], want: [1, 2] },
    { pushed: [1, 2, 3], want: [1, 2, 3] },
    { pushed: [1, 2, 3, 4], want: [2, 3, 4] },
    { pushed: [1, 2, 3, 4, 5, 6, 7], want: [5, 6, 7] },
  ])('keeps the newest 3 of $pushed in order', ({ pushed, want }) => {
    const sut = new Ring<number>(3);
    for (const n of pushed) sut.push(n);
    expect(sut.toArray()).toEqual(want);
  });
});

describe(samplePoint.name, () => {
  const replicas = { desired: 3, ready: 2, restarts: 1 };
  it.each([
    { name: 'no traffic', versions: [], want: { rps: 0, errorRate: 0, p99Ms: null } },
    { name: 'one version', versions: [{ requests: 50, errors5xx: 5, p99Ms: 12 }], want: { rps: 10, errorRate: 0.1, p99Ms: 12 } },
    {
      name: 'a canary: rates over both, the slower p99, an idle version ignored',
      versions: [
        { requests: 90, errors5xx: 0, p99Ms: 8 },
        { requests: 10, errors5xx: 10, p99Ms: 30 },
        { requests: 0, errors5xx: 0, p99Ms: 0 },
      ],
      want: { rps: 20, errorRate: 0.1, p99Ms: 30 },
    },
  ])('$name', ({ versions, want }) => {
    expect(samplePoint(1000, replicas, versions, 5000)).toEqual({ t: 1000, ...replicas, ...want });
  });
});

describe(ServiceHistory.name, () => {
  const point = (t: number) => samplePoint(t, { desired: 1, ready: 1, restarts: 0 }, [], 5000);

  it('keeps a ring per service and forgets a service that is gone', () => {
    const sut = new ServiceHistory(2);
    sut.record('a', 'u1', point(1));
    sut.record('a', 'u1', point(2));
    sut.record('a', 'u1', point(3));
    sut.record('b', 'u2', point(1));
    sut.retain(new Set(['a']));

    expect(sut.points('a').map((p) => p.t)).toEqual([2, 3]);
    expect(sut.points('b')).toEqual([]);
  });

  it('starts afresh for a new service of the same name (another uid)', () => {
    const sut = new ServiceHistory(5);
    sut.record('a', 'old', point(1));
    sut.record('a', 'new', point(2));

    expect(sut.points('a').map((p) => p.t)).toEqual([2]);
  });
});
