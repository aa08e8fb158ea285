import type { GatewayEndpoint, GatewayRoute, VersionBackend } from './gateway.types.js';
import { EndpointPicker, WeightedVersionPicker } from './lb.js';

function endpoints(version: string, count: number): GatewayEndpoint[] {
  return Array.from({ length: count }, (_, i) => ({ podId: `${version}-${i}`, version, host: '127.0.0.1', port: 9000 + i }));
}

function route(...versions: Array<[string, number, number]>): GatewayRoute {
  return {
    service: 'api',
    versions: versions.map(([version, weight, pods]): VersionBackend => ({ version, weight, endpoints: endpoints(version, pods) })),
  };
}

function countPicks(sut: WeightedVersionPicker, r: GatewayRoute, picks: number, isAvailable?: (id: string) => boolean) {
  const counts: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const v = sut.pick(r, isAvailable)?.version ?? 'none';
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
}

describe(WeightedVersionPicker.name, () => {
  it.each([
    { name: '25/75', r: route(['v1', 25, 1], ['v2', 75, 1]), want: { v1: 25, v2: 75 } },
    { name: '1/99', r: route(['v1', 1, 1], ['v2', 99, 1]), want: { v1: 1, v2: 99 } },
    { name: '0/100', r: route(['v1', 0, 3], ['v2', 100, 1]), want: { v2: 100 } },
    { name: '50/50 with uneven pods', r: route(['v1', 50, 1], ['v2', 50, 5]), want: { v1: 50, v2: 50 } },
    { name: 'three versions 10/30/60', r: route(['a', 10, 1], ['b', 30, 1], ['c', 60, 2]), want: { a: 10, b: 30, c: 60 } },
    { name: 'weight on a version without endpoints goes to the other', r: route(['v1', 25, 1], ['v2', 75, 0]), want: { v1: 100 } },
    { name: 'only weight-0 versions have pods: they serve', r: route(['v1', 0, 2], ['v2', 100, 0]), want: { v1: 100 } },
    { name: 'no endpoints at all', r: route(['v1', 50, 0], ['v2', 50, 0]), want: { none: 100 } },
  ])('splits exactly over 100 picks: $name', ({ r, want }) => {
    const sut = new WeightedVersionPicker();

    expect(countPicks(sut, r, 100)).toEqual(want);
  });

  it('is exact over any 100 consecutive picks, not only from the start', () => {
    const sut = new WeightedVersionPicker();
    const r = route(['v1', 1, 1], ['v2', 99, 1]);
    const seq = Array.from({ length: 300 }, () => sut.pick(r)!.version);

    for (let start = 0; start <= 200; start += 7) {
      expect(seq.slice(start, start + 100).filter((v) => v === 'v1')).toHaveLength(1);
    }
  });

  it('interleaves smoothly instead of sending bursts', () => {
    const sut = new WeightedVersionPicker();
    const r = route(['v1', 50, 1], ['v2', 50, 1]);

    expect(Array.from({ length: 4 }, () => sut.pick(r)!.version)).toEqual(['v1', 'v2', 'v1', 'v2']);
  });

  it('resets when the weights change and is exact under the new weights', () => {
    const sut = new WeightedVersionPicker();
    countPicks(sut, route(['v1', 90, 1], ['v2', 10, 1]), 37);

    expect(countPicks(sut, route(['v1', 25, 1], ['v2', 75, 1]), 100)).toEqual({ v1: 25, v2: 75 });
  });

  it('skips a version whose pods are all unavailable', () => {
    const sut = new WeightedVersionPicker();
    const r = route(['v1', 25, 1], ['v2', 75, 2]);

    expect(countPicks(sut, r, 100, (id) => !id.startsWith('v2'))).toEqual({ v1: 100 });
  });

  it('keeps state per service', () => {
    const sut = new WeightedVersionPicker();
    const a = { ...route(['v1', 50, 1], ['v2', 50, 1]), service: 'a' };
    const b = { ...route(['v1', 50, 1], ['v2', 50, 1]), service: 'b' };

    expect([sut.pick(a)!.version, sut.pick(b)!.version, sut.pick(a)!.version]).toEqual(['v1', 'v1', 'v2']);
  });
});

describe(EndpointPicker.name, () => {
  const eps = endpoints('v1', 3);

  function picks(sut: EndpointPicker, n: number, list = eps, isAvailable?: (id: string) => boolean, exclude?: string) {
    return Array.from({ length: n }, () => sut.pick('api', 'v1', list, isAvailable, exclude)?.podId);
  }

  it.each([
    { name: 'spreads in order', available: undefined, exclude: undefined, want: ['v1-0', 'v1-1', 'v1-2', 'v1-0', 'v1-1', 'v1-2'] },
    { name: 'skips an unavailable pod evenly', available: (id: string) => id !== 'v1-1', exclude: undefined, want: ['v1-0', 'v1-2', 'v1-0', 'v1-2'] },
    { name: 'honours exclude without moving the cursor', available: undefined, exclude: 'v1-0', want: ['v1-1', 'v1-1'] },
    { name: 'nothing available', available: () => false, exclude: undefined, want: [undefined, undefined] },
  ])('round robin: $name', ({ available, exclude, want }) => {
    const sut = new EndpointPicker('round-robin');

    expect(picks(sut, want.length, eps, available, exclude)).toEqual(want);
  });

  it('a retry pick does not shift the rotation', () => {
    const sut = new EndpointPicker('round-robin');

    expect([...picks(sut, 1), ...picks(sut, 1, eps, undefined, 'v1-0'), ...picks(sut, 2)]).toEqual(['v1-0', 'v1-1', 'v1-1', 'v1-2']);
  });

  it('round robin tolerates the list changing between calls', () => {
    const sut = new EndpointPicker('round-robin');
    picks(sut, 2);

    expect(picks(sut, 3, eps.slice(0, 2))).toEqual(['v1-0', 'v1-1', 'v1-0']);
    expect(picks(sut, 4, endpoints('v1', 4))).toEqual(['v1-1', 'v1-2', 'v1-3', 'v1-0']);
  });

  it('returns undefined for an empty list', () => {
    const sut = new EndpointPicker('least-request');

    expect(sut.pick('api', 'v1', [])).toBeUndefined();
  });

  it.each<{ name: string; load: Record<string, number>; exclude: string | undefined; want: string[] }>([
    { name: 'fewest in flight wins', load: { 'v1-0': 3, 'v1-1': 1, 'v1-2': 2 }, exclude: undefined, want: ['v1-1', 'v1-1'] },
    { name: 'ties go round robin', load: {}, exclude: undefined, want: ['v1-0', 'v1-1', 'v1-2', 'v1-0'] },
    { name: 'tie between two idle pods alternates', load: { 'v1-0': 5 }, exclude: undefined, want: ['v1-1', 'v1-2', 'v1-1'] },
    { name: 'exclude beats low load', load: { 'v1-0': 0, 'v1-1': 9, 'v1-2': 9 }, exclude: 'v1-0', want: ['v1-1', 'v1-1'] },
  ])('least-request: $name', ({ load, exclude, want }) => {
    const sut = new EndpointPicker('least-request', (id) => load[id] ?? 0);

    expect(picks(sut, want.length, eps, undefined, exclude)).toEqual(want);
  });

  it('least-request skips unavailable pods even when idle', () => {
    const sut = new EndpointPicker('least-request', (id) => (id === 'v1-0' ? 0 : 4));

    expect(picks(sut, 2, eps, (id) => id !== 'v1-0')).toEqual(['v1-1', 'v1-2']);
  });
});
