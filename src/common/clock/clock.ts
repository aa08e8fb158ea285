import { Global, Module } from '@nestjs/common';

/** A timer started through a Clock; cancel it with Clock.clearTimeout. */
export interface ClockTimer {
  readonly id: unknown;
}

/**
 * Injected time, so pure logic and services can be driven by a fake clock in tests.
 * Timers go through it too: a test advances time and sees exactly the timers that came due.
 */
export interface Clock {
  now(): number;
  /** Runs fn once after ms. System timers are unref'd: a pending timer never keeps Grid alive. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(t: ClockTimer | undefined): void;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const id = setTimeout(fn, ms);
    id.unref();
    return { id };
  },
  clearTimeout(t) {
    if (t) clearTimeout(t.id as NodeJS.Timeout);
  },
};

@Global()
@Module({ providers: [{ provide: CLOCK, useValue: systemClock }], exports: [CLOCK] })
export class ClockModule {}
