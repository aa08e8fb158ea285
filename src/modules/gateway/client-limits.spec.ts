import {
  BODY_TIMED_OUT,
  capWarning,
  capWarningDelay,
  CAP_WARNING_PERIOD_MS,
  clientVerdict,
  connectionBudget,
  HEAD_TIMED_OUT,
  openFilesSoftLimit,
  requestVerdict,
  timeoutMessage,
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

const limits = { headTimeoutMs: 1_000, bodyTimeoutMs: 1_500, requestTimeoutMs: 30_000, idleTimeoutMs: 5_000, sendTimeoutMs: 2_000 };
const idle: ClientConnView = { inFlight: false, headSince: 0, bodyReadAt: 0, lastActive: 10_000, unsent: 0, stalledSince: 0 };

describe(clientVerdict.name, () => {
  const rows: Array<[string, Partial<ClientConnView>, number, ClientVerdict]> = [
    ['fresh idle connection', {}, 10_000, KEEP],
    ['idle exactly at the limit', {}, 15_000, KEEP],
    ['idle past the limit (never sent a byte, or keep-alive)', {}, 15_001, IDLE_TIMED_OUT],
    ['idle but a response still leaving: not idle yet', { unsent: 100 }, 99_000, KEEP],
    ['head arriving within the head timeout', { headSince: 14_500 }, 15_001, KEEP],
    ['slowloris head past the head timeout', { headSince: 14_000 }, 15_001, HEAD_TIMED_OUT],
    ['head timeout wins over idle (a request is arriving)', { headSince: 9_000, lastActive: 0 }, 10_001, HEAD_TIMED_OUT],
    ['body arriving steadily, long past the head timeout (a slow upload)', { headSince: 1_000, bodyReadAt: 14_000 }, 15_001, KEEP],
    ['body stalled past the body timeout', { headSince: 13_000, bodyReadAt: 13_500 }, 15_001, BODY_TIMED_OUT],
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

describe(requestVerdict.name, () => {
  // headSince, bodyReadAt (0: the head is arriving), now
  const rows: Array<[string, number, number, number, number]> = [
    ['head within its timeout', 1_000, 0, 2_000, KEEP],
    ['head past its timeout (slowloris head)', 1_000, 0, 2_001, HEAD_TIMED_OUT],
    ['head in at once, body not started: the gap runs from the end of the head', 1_000, 1_000, 2_500, KEEP],
    ['no body bytes since the head for longer than the body timeout', 1_000, 1_000, 2_501, BODY_TIMED_OUT],
    ['1 KB/s upload of 10 KB: past the head timeout, never a gap over the body timeout', 1_000, 10_000, 11_000, KEEP],
    ['a byte just inside the body timeout, for long: kept until the whole-request bound', 1_000, 30_999, 31_000, KEEP],
    ['... and cut at it (slowloris body)', 1_000, 31_000, 31_001, REQUEST_TIMED_OUT],
    ['whole-request bound wins over a stalled body', 1_000, 1_000, 31_001, REQUEST_TIMED_OUT],
  ];
  it.each(rows)('%s', (_name, headSince, bodyReadAt, now, expected) => {
    expect(requestVerdict(headSince, bodyReadAt, limits, now)).toBe(expected);
  });

  it.each([
    [HEAD_TIMED_OUT, 'request head not received within 1000 ms'],
    [BODY_TIMED_OUT, 'request body stalled: no bytes for 1500 ms'],
    [REQUEST_TIMED_OUT, 'request head and body not received within 30000 ms'],
  ] as Array<[ClientVerdict, string]>)('the 408 for verdict %d says %s', (verdict, message) => {
    expect(timeoutMessage(verdict, limits)).toBe(message);
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

describe(capWarning.name, () => {
  const none = { shed: [0, 0, 0], refused: 0 };
  it('is silent when nothing was closed or refused since the last line', () => {
    expect(capWarning('main port', 50, 50, { shed: [3, 1, 0], refused: 2 }, { shed: [3, 1, 0], refused: 2 })).toBeUndefined();
  });
  it('names the cap, the setting, the counts since the last line by reason, the totals and the metrics', () => {
    expect(capWarning('main port', 50, 49, { shed: [3, 1, 0], refused: 2 }, { shed: [10, 2, 1], refused: 2 })).toBe(
      'main port: at or near its connection cap (GRID_MAX_CONNECTIONS=50, 49 open): 9 connections closed to make room (7 never sent a byte, 1 idle keep-alive, 1 receiving a request) ' +
        'and 0 newcomers refused (every connection busy) since the last such line; 13 closed and 2 refused since start (grid_client_connections_shed_total, grid_client_connections_refused_total)',
    );
  });
  it('reports refusals alone', () => {
    expect(capWarning('gateway port', 3, 3, none, { shed: [0, 0, 0], refused: 4 })).toContain('0 connections closed to make room (0 never sent a byte, 0 idle keep-alive, 0 receiving a request) and 4 newcomers refused');
  });
});

describe(capWarningDelay.name, () => {
  it.each([
    ['never warned: now', undefined, 5_000, 0],
    ['warned a period ago: now', 1_000, 1_000 + CAP_WARNING_PERIOD_MS, 0],
    ['warned 10 s ago: the rest of the period', 1_000, 11_000, CAP_WARNING_PERIOD_MS - 10_000],
  ] as Array<[string, number | undefined, number, number]>)('%s', (_name, last, now, expected) => {
    expect(capWarningDelay(last, now)).toBe(expected);
  });
});

describe(connectionBudget.name, () => {
  // cap, set by the user, listeners, reserved fds, soft limit -> cap used, warning?, message contains
  const rows: Array<[string, number, boolean, number, number, number | undefined, number, boolean, string]> = [
    ['limit unknown: unchanged, silent', 10_000, false, 2, 456, undefined, 10_000, false, ''],
    ['fits: unchanged, silent', 10_000, false, 1, 456, 20_000, 10_000, false, ''],
    ['exactly fits', 9_772, false, 2, 456, 20_000, 9_772, false, ''],
    ['default cap, two listeners over 20000: lowered to what fits, said', 10_000, false, 2, 456, 20_000, 9_772, false, 'connection cap lowered to 9772 per listener (GRID_MAX_CONNECTIONS default 10000): 2 listeners × 10000 connections + 456 for pods and files = 20456 file descriptors, over the open-files limit of 20000'],
    ['default cap under ulimit -n 1024', 10_000, false, 1, 456, 1_024, 568, false, 'lowered to 568'],
    ['a cap the user set: kept, with a warning naming both numbers', 10_000, true, 1, 456, 1_024, 10_000, true, 'GRID_MAX_CONNECTIONS=10000 cannot be reached: one listener × 10000 connections + 456 for pods and files = 10456 file descriptors, over the open-files limit of 1024 (ulimit -n)'],
    ['a limit below the reserve: nothing fits, warned', 10_000, false, 1, 456, 256, 10_000, true, 'cannot be reached'],
  ];
  it.each(rows)('%s', (_name, cap, explicit, listeners, reserved, soft, expectedCap, warn, message) => {
    const got = connectionBudget(cap, explicit, listeners, reserved, soft);
    expect(got.maxConnections).toBe(expectedCap);
    expect(got.warn).toBe(warn);
    if (message === '') expect(got.message).toBe('');
    else expect(got.message).toContain(message);
  });
});

describe(openFilesSoftLimit.name, () => {
  const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63704                63704                processes \nMax open files            ${soft}                20000                files     \n`;
  it.each([
    ['a number', limits('20000'), 20_000],
    ['unlimited', limits('unlimited'), undefined],
    ['no such line', 'Limit Soft Limit\n', undefined],
  ] as Array<[string, string, number | undefined]>)('%s', (_name, text, expected) => {
    expect(openFilesSoftLimit(text)).toBe(expected);
  });
});
