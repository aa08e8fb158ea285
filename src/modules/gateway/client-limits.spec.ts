import { clientVerdict, IDLE_TIMED_OUT, KEEP, REQUEST_TIMED_OUT, SEND_TIMED_OUT, type ClientConnView, type ClientVerdict } from './client-limits.js';

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
