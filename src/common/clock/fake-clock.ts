import type { Clock, ClockTimer } from './clock.js';

interface Pending extends ClockTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A Clock for tests: time moves only when advance() is called, and the timers that come
 * due run in order of their due time (then of their creation), each seeing now() at its
 * own due time, as real timers would.
 */
export class FakeClock implements Clock {
  private timers: Pending[] = [];
  private seq = 0;

  constructor(private t = 0) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer: Pending = { id: ++this.seq, at: this.t + Math.max(0, ms), seq: this.seq, fn };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(t: ClockTimer | undefined): void {
    if (t) this.timers = this.timers.filter((x) => x !== t);
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by ms, running every timer that comes due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const x of this.timers) if (x.at <= end && (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }

  set(ms: number): void {
    this.advance(ms - this.t);
  }
}
