import type { Pod } from './pod.types.js';
import { parseVolumeName, volumeViews } from './volume-list.js';

describe(parseVolumeName.name, () => {
  it.each<[string, { service: string; ordinal: number } | undefined]>([
    ['db-0', { service: 'db', ordinal: 0 }],
    ['db-12', { service: 'db', ordinal: 12 }],
    ['api-1-0', { service: 'api-1', ordinal: 0 }],
    ['db-01', undefined],
    ['db', undefined],
    ['-0', undefined],
    ['.db-0.purging', undefined],
    ['Db-0', undefined],
    [`${'a'.repeat(64)}-0`, undefined],
  ])('%s → %p', (name, want) => {
    expect(parseVolumeName(name)).toEqual(want);
  });
});

describe(volumeViews.name, () => {
  const pod = (service: string, ordinal: number | undefined, id: string): Pod => ({ id, service, ordinal }) as Pod;

  it('binds a directory to the pod holding its ordinal, of its own service only', () => {
    const dirs = [
      { name: 'db-0', service: 'db', ordinal: 0, bytes: 10, createdAt: 0 },
      { name: 'db-1', service: 'db', ordinal: 1, bytes: 0, createdAt: 0 },
      { name: 'old-0', service: 'old', ordinal: 0, bytes: 5, createdAt: 0 },
    ];

    const sut = volumeViews(dirs, [pod('db', 0, 'db-a'), pod('web', 1, 'web-b'), pod('db', undefined, 'db-c')], (s) => s === 'db');

    expect(sut.map((v) => [v.path, v.status, v.pod, v.serviceExists])).toEqual([
      ['pods/db-0', 'Bound', 'db-a', true],
      ['pods/db-1', 'Released', null, true],
      ['pods/old-0', 'Released', null, false],
    ]);
  });
});
