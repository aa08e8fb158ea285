import { MAX_IN_FLIGHT, requestsDue } from './traffic-plan.js';

describe(requestsDue.name, () => {
  it.each([
    { name: 'nothing at the start', elapsedMs: 0, rps: 10, sent: 0, inFlight: 0, want: 0 },
    { name: 'one per 100 ms at 10 rps', elapsedMs: 100, rps: 10, sent: 0, inFlight: 0, want: 1 },
    { name: 'catches up after a late tick', elapsedMs: 550, rps: 10, sent: 2, inFlight: 0, want: 3 },
    { name: 'nothing owed when ahead', elapsedMs: 1000, rps: 10, sent: 10, inFlight: 5, want: 0 },
    { name: 'never more in flight than the cap', elapsedMs: 10_000, rps: 100, sent: 0, inFlight: MAX_IN_FLIGHT - 2, want: 2 },
    { name: 'a clock that went back owes nothing', elapsedMs: -50, rps: 10, sent: 0, inFlight: 0, want: 0 },
  ])('$name', ({ elapsedMs, rps, sent, inFlight, want }) => {
    expect(requestsDue(elapsedMs, rps, sent, inFlight)).toBe(want);
  });
});
