import { strayGroups, type ProcessSighting } from './stray-pods.js';

const LOGS = '/data/logs';
const seen = (pid: number, pod: string, stdout = `${LOGS}/${pod}.log`, pgid = pid): ProcessSighting => ({ pid, pgid, pod, stdout });

describe(strayGroups.name, () => {
  it.each([
    { name: 'an unrecorded pod of this Grid', sightings: [seen(10, 'api-aaaaa')], adopted: [], want: [10] },
    { name: 'an adopted pod', sightings: [seen(10, 'api-aaaaa')], adopted: [10], want: [] },
    { name: 'a helper in an adopted pod\'s group', sightings: [seen(11, 'api-aaaaa', undefined, 10)], adopted: [10], want: [] },
    { name: 'a pod of another Grid (another log dir)', sightings: [seen(10, 'api-aaaaa', '/other/logs/api-aaaaa.log')], adopted: [], want: [] },
    { name: 'a copied environment writing elsewhere', sightings: [seen(10, 'api-aaaaa', '/dev/pts/1')], adopted: [], want: [] },
    { name: 'a pod name that would escape the log dir', sightings: [seen(10, '../x', `${LOGS}/../x.log`)], adopted: [], want: [] },
    { name: 'a stray leader and its helper: one group', sightings: [seen(10, 'api-aaaaa'), seen(11, 'api-aaaaa', undefined, 10)], adopted: [], want: [10] },
  ])('$name', ({ sightings, adopted, want }) => {
    expect(strayGroups(sightings, LOGS, new Set(adopted))).toEqual(want);
  });
});
