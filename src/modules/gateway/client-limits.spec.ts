import {
  clientVerdict,
  FIRST_BYTE_GRACE_MS,
  IDLE_TIMED_OUT,
  KEEP,
  REQUEST_TIMED_OUT,
  SEND_TIMED_OUT,
  SHED_BUSY,
  SHED_IDLE,
  SHED_RECEIVING,
  SHED_UNUSED,
  shedBatch,
  shedOrder,
  shedView,
  unusedTimeoutMs,
  type ClientConnView,
  type ClientVerdict,
  type ConnActivity,
  type ShedInput,
  type ShedView,
} from './client-limits.js';

const limits = { requestTimeoutMs: 1_000, idleTimeoutMs: 5_000, sendTimeoutMs: 2_000 };
const idle: ClientConnView = { inFlight: false, headSince: 0, lastActive: 10_000, unsent: 0, stalledSince: 0 };

describe(clientVerdict.name, () => {
  const rows: Array<[string, Partial<ClientConnView>, number, ClientVerdict]> = [
    ['fresh idle connection', {}, 10_000, KEEP],
    ['idle exactly at the limit', {}, 15_000, KEEP],
    ['idle past the limit (never sent a byte, or keep-alive)', {}, 15_001, IDLE_TIMED_OUT],
    ['idle but a response still leaving: not idle yet', { unsent: 100 }, 99_000, KEEP],
    ['head arriving within the request timeout', { headSince: 14_500 }, 15_001, KEEP],
    ['slowloris head or body past the request timeout', { headSince: 14_000 }, 15_001, REQUEST_TIMED_OUT],
    ['request timeout wins over idle (a request is arriving)', { headSince: 9_000, lastActive: 0 }, 10_001, REQUEST_TIMED_OUT],
    ['in flight: upstream timeouts apply, not these', { inFlight: true, headSince: 0, lastActive: 0 }, 99_000, KEEP],
    ['in flight, client stalled within the send timeout', { inFlight: true, unsent: 70_000, stalledSince: 20_000 }, 22_000, KEEP],
    ['in flight, client stalled past the send timeout', { inFlight: true, unsent: 70_000, stalledSince: 20_000 }, 22_001, SEND_TIMED_OUT],
    ['pipelined responses queued to a client that reads nothing', { unsent: 1_000_000, stalledSince: 20_000 }, 30_000, SEND_TIMED_OUT],
    ['stalled client with a request arriving: cut, a 408 would not be read', { headSince: 29_000, unsent: 9, stalledSince: 20_000 }, 29_500, SEND_TIMED_OUT],
  ];
  it.each(rows)('%s', (_name, view, now, expected) => {
    expect(clientVerdict({ ...idle, ...view }, limits, now)).toBe(expected);
  });
});

/** A connection as its serving code describes it; times in ms. */
function activity(busy: boolean, receivingSince: number, idleSince: number): ConnActivity {
  return { busy: () => busy, receivingSince: () => receivingSince, idleSince: () => idleSince };
}

describe(shedView.name, () => {
  const now = 100_000;
  const base: ShedInput = { bytesRead: 200, unsent: 0, acceptedAt: 1_000, activity: activity(false, 0, 50_000) };
  const rows: Array<[string, Partial<ShedInput>, ShedView]> = [
    ['never sent a byte, past the grace: unused, since accepted', { bytesRead: 0, activity: activity(false, 0, 1_000) }, { rank: SHED_UNUSED, since: 1_000 }],
    [
      'never sent a byte, just accepted: as if its request were arriving (not closed before it could speak)',
      { bytesRead: 0, acceptedAt: now - FIRST_BYTE_GRACE_MS + 1, activity: activity(false, 0, 1_000) },
      { rank: SHED_RECEIVING, since: now - FIRST_BYTE_GRACE_MS + 1 },
    ],
    ['idle keep-alive: since its last exchange ended', {}, { rank: SHED_IDLE, since: 50_000 }],
    ['head or body arriving (slowloris): since its first byte', { activity: activity(false, 70_000, 50_000) }, { rank: SHED_RECEIVING, since: 70_000 }],
    ['request in flight', { activity: activity(true, 0, 50_000) }, { rank: SHED_BUSY, since: 0 }],
    ['answered, response still leaving', { unsent: 10 }, { rank: SHED_BUSY, since: 0 }],
    ['nothing serving it can say yet: kept', { activity: undefined, bytesRead: 0 }, { rank: SHED_BUSY, since: 0 }],
  ];
  it.each(rows)('%s', (_name, input, expected) => {
    expect(shedView({ ...base, ...input }, now)).toEqual(expected);
  });
});

describe(shedOrder.name, () => {
  const u = (since: number): ShedView => ({ rank: SHED_UNUSED, since });
  const i = (since: number): ShedView => ({ rank: SHED_IDLE, since });
  const r = (since: number): ShedView => ({ rank: SHED_RECEIVING, since });
  const busy: ShedView = { rank: SHED_BUSY, since: 0 };
  const rows: Array<[string, ShedView[], number, number[]]> = [
    ['unused before idle, receiving and busy, whatever their age', [busy, r(1), i(2), u(9)], 4, [3]],
    ['no unused: the oldest idle first', [busy, r(1), i(7), i(3), i(5)], 2, [3, 4]],
    ['no unused or idle: the oldest receiving (slowloris)', [r(8), busy, r(2)], 4, [2, 0]],
    ['every connection busy: none (the newcomer is refused)', [busy, busy], 4, []],
    ['nothing open: none', [], 4, []],
    ['equal times keep accept order', [u(5), u(5), u(5)], 2, [0, 1]],
    ['at most max', [u(1), u(2), u(3), u(4)], 1, [0]],
  ];
  it.each(rows)('%s', (_name, views, max, expected) => {
    expect(shedOrder(views, max)).toEqual(expected);
  });
});

describe(unusedTimeoutMs.name, () => {
  const rows: Array<[string, number, number, number, number]> = [
    ['no pressure: the idle timeout', 65_000, 5_000, 10_000, 65_000],
    ['at the threshold: still the idle timeout', 65_000, 8_000, 10_000, 65_000],
    ['halfway from the threshold to the cap: halfway down', 65_000, 9_000, 10_000, 33_000],
    ['at the cap: the first-byte grace', 65_000, 10_000, 10_000, FIRST_BYTE_GRACE_MS],
    ['past the cap (transiently): the first-byte grace', 65_000, 10_050, 10_000, FIRST_BYTE_GRACE_MS],
    ['an idle timeout shorter than the grace is never raised', 500, 10_000, 10_000, 500],
    ['a cap of one', 65_000, 1, 1, FIRST_BYTE_GRACE_MS],
  ];
  it.each(rows)('%s', (_name, idle, open, max, expected) => {
    expect(unusedTimeoutMs(idle, open, max)).toBe(expected);
  });
});

describe(shedBatch.name, () => {
  it.each([
    [1, 1],
    [50, 1],
    [2_600, 26],
    [10_000, 64],
    [1_000_000, 64],
  ])('cap %d: %d per look', (cap, expected) => {
    expect(shedBatch(cap)).toBe(expected);
  });
});
