import { strayGroups, type ProcessSighting, type StrayOwner } from './stray-pods.js';

const LOGS = '/data/logs';
const OWNER: StrayOwner = { logDir: LOGS, instance: '0123456789abcdef', uid: 1000, pgid: 500 };
// What Node's spawn leaves on fd 1 for a log opened with 'a': O_WRONLY|O_APPEND|O_LARGEFILE.
const APPEND = 0o102001;
const seen = (pid: number, pod: string, o: Partial<ProcessSighting> = {}): ProcessSighting => ({
  pid,
  pgid: pid,
  uids: [1000, 1000],
  pod,
  instance: OWNER.instance,
  stdout: `${LOGS}/${pod}.log`,
  stdoutFlags: APPEND,
  ...o,
});

describe(strayGroups.name, () => {
  it.each([
    { name: 'an unrecorded pod of this Grid', sightings: [seen(10, 'api-aaaaa')], adopted: [], want: [10] },
    { name: 'an adopted pod', sightings: [seen(10, 'api-aaaaa')], adopted: [10], want: [] },
    { name: 'a helper in an adopted pod\'s group', sightings: [seen(11, 'api-aaaaa', { pgid: 10 })], adopted: [10], want: [] },
    { name: 'a pod of another Grid (another log dir)', sightings: [seen(10, 'api-aaaaa', { stdout: '/other/logs/api-aaaaa.log' })], adopted: [], want: [] },
    { name: 'a copied environment writing elsewhere', sightings: [seen(10, 'api-aaaaa', { stdout: '/dev/pts/1' })], adopted: [], want: [] },
    { name: 'a pod name that would escape the log dir', sightings: [seen(10, '../x', { stdout: `${LOGS}/../x.log` })], adopted: [], want: [] },
    { name: 'a stray leader and its helper: the group once, by its leader', sightings: [seen(10, 'api-aaaaa'), seen(11, 'api-aaaaa', { pgid: 10 })], adopted: [], want: [10] },
    { name: 'another user\'s process (real uid)', sightings: [seen(10, 'api-aaaaa', { uids: [65534, 1000] })], adopted: [], want: [] },
    { name: 'another user\'s process (effective uid)', sightings: [seen(10, 'api-aaaaa', { uids: [1000, 65534] })], adopted: [], want: [] },
    { name: 'a process whose uid could not be read', sightings: [seen(10, 'api-aaaaa', { uids: [] })], adopted: [], want: [] },
    { name: 'a member that does not lead its group (its group is someone else\'s)', sightings: [seen(11, 'api-aaaaa', { pgid: 10 })], adopted: [], want: [] },
    { name: 'group 1 (kill(-1) signals every process)', sightings: [seen(1, 'api-aaaaa')], adopted: [], want: [] },
    { name: 'group 0', sightings: [seen(0, 'api-aaaaa')], adopted: [], want: [] },
    { name: 'Grid\'s own group', sightings: [seen(500, 'api-aaaaa')], adopted: [], want: [] },
    { name: 'no GRID_INSTANCE', sightings: [seen(10, 'api-aaaaa', { instance: '' })], adopted: [], want: [] },
    { name: 'another data dir\'s GRID_INSTANCE', sightings: [seen(10, 'api-aaaaa', { instance: 'fedcba9876543210' })], adopted: [], want: [] },
    { name: 'the log opened read-only as fd 1', sightings: [seen(10, 'api-aaaaa', { stdoutFlags: 0o100000 })], adopted: [], want: [] },
    { name: 'the log opened read-write as fd 1', sightings: [seen(10, 'api-aaaaa', { stdoutFlags: 0o102002 })], adopted: [], want: [] },
    { name: 'the log opened for writing without O_APPEND', sightings: [seen(10, 'api-aaaaa', { stdoutFlags: 0o100001 })], adopted: [], want: [] },
    { name: 'the attack as reported: a nobody group holding a log read-only, and its sibling without GRID_POD', sightings: [seen(10, 'api-aaaaa', { uids: [65534, 65534], stdoutFlags: 0o100000, instance: '' })], adopted: [], want: [] },
  ])('$name', ({ sightings, adopted, want }) => {
    expect(strayGroups(sightings, OWNER, new Set(adopted)).map((s) => s.pid)).toEqual(want);
  });

  it('stops nothing when this Grid has no instance id', () => {
    expect(strayGroups([seen(10, 'api-aaaaa', { instance: '' })], { ...OWNER, instance: '' }, new Set())).toEqual([]);
  });

  it('names the pod of each stray', () => {
    expect(strayGroups([seen(10, 'api-aaaaa')], OWNER, new Set())).toEqual([{ pid: 10, pod: 'api-aaaaa' }]);
  });
});
