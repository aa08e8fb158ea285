import { FakeClock } from '../../common/clock/fake-clock.js';
import {
  DEGRADED_PROBE_MS,
  describeFault,
  faultOf,
  HEALTHY_PROBE_MS,
  initialStatus,
  mutationRefusal,
  nextProbeInMs,
  onFault,
  onProbeOk,
  RETRY_AFTER_S,
  type StorageFault,
  type StorageState,
  type StorageStatus,
} from './storage-state.js';

const DIR = '/var/lib/grid';

describe('faultOf', () => {
  it.each([
    ['EROFS', 'ReadOnly'],
    ['EACCES', 'ReadOnly'],
    ['EIO', 'ReadOnly'],
    ['SQLITE_READONLY', 'ReadOnly'],
    ['SQLITE_READONLY_DBMOVED', 'ReadOnly'],
    ['SQLITE_IOERR_WRITE', 'ReadOnly'],
    ['SQLITE_IOERR_FSYNC', 'ReadOnly'],
    ['SQLITE_CANTOPEN', 'ReadOnly'],
    ['ENOSPC', 'Full'],
    ['EDQUOT', 'Full'],
    ['SQLITE_FULL', 'Full'],
  ])('%s is %s', (code, state) => {
    expect(faultOf(Object.assign(new Error('x'), { code }))).toEqual({ state, code });
  });

  it.each([['SQLITE_CONSTRAINT_UNIQUE'], ['SQLITE_BUSY'], ['ENOENT'], [undefined]])('%s is no storage fault', (code) => {
    expect(faultOf(Object.assign(new Error('x'), { code }))).toBeUndefined();
  });

  it('is undefined for what is not an error', () => {
    expect(faultOf(null)).toBeUndefined();
    expect(faultOf('EROFS')).toBeUndefined();
  });
});

type Step = { at: number; input: 'probe-ok' | string; state: StorageState; since: number; nextProbeMs: number; refused: boolean };

/** Drives the machine the way the storage service does: each input at its time on a fake clock. */
function run(steps: Step[]): void {
  const clock = new FakeClock(0);
  let s: StorageStatus = initialStatus(clock.now());
  for (const step of steps) {
    clock.set(step.at);
    const fault = step.input === 'probe-ok' ? undefined : faultOf({ code: step.input });
    s = fault ? onFault(s, fault, clock.now()) : onProbeOk(s, clock.now());
    expect({ at: step.at, state: s.state, since: s.since, next: nextProbeInMs(s), refused: mutationRefusal(s, DIR, clock.now()) !== undefined }).toEqual({
      at: step.at,
      state: step.state,
      since: step.since,
      next: step.nextProbeMs,
      refused: step.refused,
    });
  }
}

describe('storage state machine', () => {
  const H = HEALTHY_PROBE_MS;
  const D = DEGRADED_PROBE_MS;
  it.each<[string, Step[]]>([
    [
      'stays Healthy while probes pass',
      [
        { at: 10_000, input: 'probe-ok', state: 'Healthy', since: 0, nextProbeMs: H, refused: false },
        { at: 20_000, input: 'probe-ok', state: 'Healthy', since: 0, nextProbeMs: H, refused: false },
      ],
    ],
    [
      'goes read-only on a failed write, probes every second, recovers on the first passing probe',
      [
        { at: 3_000, input: 'SQLITE_IOERR_WRITE', state: 'ReadOnly', since: 3_000, nextProbeMs: D, refused: true },
        { at: 4_000, input: 'EROFS', state: 'ReadOnly', since: 3_000, nextProbeMs: D, refused: true },
        { at: 5_000, input: 'EROFS', state: 'ReadOnly', since: 3_000, nextProbeMs: D, refused: true },
        { at: 6_000, input: 'probe-ok', state: 'Healthy', since: 6_000, nextProbeMs: H, refused: false },
      ],
    ],
    [
      'a full disk, then read-only: the state follows the latest fault and its time',
      [
        { at: 1_000, input: 'SQLITE_FULL', state: 'Full', since: 1_000, nextProbeMs: D, refused: true },
        { at: 2_000, input: 'ENOSPC', state: 'Full', since: 1_000, nextProbeMs: D, refused: true },
        { at: 3_000, input: 'EROFS', state: 'ReadOnly', since: 3_000, nextProbeMs: D, refused: true },
        { at: 9_000, input: 'probe-ok', state: 'Healthy', since: 9_000, nextProbeMs: H, refused: false },
        { at: 9_500, input: 'ENOSPC', state: 'Full', since: 9_500, nextProbeMs: D, refused: true },
      ],
    ],
  ])('%s', (_name, steps) => run(steps));
});

describe('mutationRefusal', () => {
  it.each<[string, StorageFault, RegExp, number | undefined]>([
    [
      'a full disk: recovers on its own when there is room, so a retry soon makes sense',
      { state: 'Full', code: 'SQLITE_FULL' },
      /^disk full: data dir \/var\/lib\/grid has no space left \(SQLITE_FULL\) since 3s ago; nothing was changed\. Grid keeps serving traffic and running pods; Grid accepts changes again on its own within about a second of the data dir having room$/,
      RETRY_AFTER_S,
    ],
    [
      'read-only: says what the operator must do, and no Retry-After (only a remount ends it)',
      { state: 'ReadOnly', code: 'EROFS' },
      /^data dir \/var\/lib\/grid is read-only \(EROFS\) since 3s ago; nothing was changed\. Grid keeps serving traffic and running pods; stop Grid, repair and remount the filesystem, then start Grid again$/,
      undefined,
    ],
    [
      'read-only as SQLite reports it: the same advice',
      { state: 'ReadOnly', code: 'SQLITE_IOERR_WRITE' },
      /^data dir \/var\/lib\/grid is read-only \(SQLITE_IOERR_WRITE\) .*stop Grid, repair and remount the filesystem, then start Grid again$/,
      undefined,
    ],
  ])('%s', (_name, fault, message, retryAfterSeconds) => {
    const s = onFault(initialStatus(0), fault, 1_000);
    expect(mutationRefusal(s, DIR, 4_000)).toEqual({ message: expect.stringMatching(message), retryAfterSeconds });
  });

  it('read-only still ends on the first probe that writes (a remount rw in place)', () => {
    const ro = onFault(initialStatus(0), { state: 'ReadOnly', code: 'EROFS' }, 1_000);
    expect(mutationRefusal(onProbeOk(ro, 2_000), DIR, 2_000)).toBeUndefined();
  });

  it('leaves the path out when not given one (/healthz answers anyone)', () => {
    expect(describeFault(onFault(initialStatus(0), { state: 'ReadOnly', code: 'EROFS' }, 0))).toBe('data dir is read-only (EROFS)');
    expect(describeFault(onFault(initialStatus(0), { state: 'Full', code: 'ENOSPC' }, 0))).toBe('disk full: data dir has no space left (ENOSPC)');
  });

  it('lets everything through while Healthy', () => {
    expect(mutationRefusal(initialStatus(0), DIR, 5)).toBeUndefined();
    expect(describeFault(initialStatus(0), DIR)).toBeUndefined();
  });
});
