import { GridException } from '../../common/errors/grid.exception.js';
import { FakeClock } from '../../common/clock/fake-clock.js';
import { Experiments, MAX_EXPERIMENTS, MAX_EXPERIMENTS_PER_SERVICE, type Experiment } from './experiments.js';

function faults(service: string, clock: FakeClock): Omit<Experiment, 'id' | 'startedAt'> {
  return { kind: 'faults', service, params: {}, endsAt: clock.now() + 60_000, origin: 'api' };
}

function refusal(fn: () => unknown): GridException {
  try {
    fn();
  } catch (e) {
    return e as GridException;
  }
  throw new Error('was not refused');
}

describe('Experiments: limits on running experiments', () => {
  it(`refuses one running experiment past ${MAX_EXPERIMENTS_PER_SERVICE} on one service with 429 naming the limit, and registers nothing`, () => {
    const clock = new FakeClock(1000);
    const sut = new Experiments(clock);
    for (let i = 0; i < MAX_EXPERIMENTS_PER_SERVICE; i++) sut.add(faults('api', clock), () => undefined);

    const e = refusal(() => sut.add(faults('api', clock), () => undefined));
    expect(e).toBeInstanceOf(GridException);
    expect(e.code).toBe('TOO_MANY_REQUESTS');
    expect(e.message).toContain(`service 'api'`);
    expect(e.message).toContain(`(${MAX_EXPERIMENTS_PER_SERVICE})`);
    expect(sut.list({ service: 'api' })).toHaveLength(MAX_EXPERIMENTS_PER_SERVICE);
    expect(clock.pending).toBe(MAX_EXPERIMENTS_PER_SERVICE);
    // Another service still has room.
    expect(sut.add(faults('web', clock), () => undefined).service).toBe('web');
  });

  it(`refuses past ${MAX_EXPERIMENTS} in all, across services`, () => {
    const clock = new FakeClock(1000);
    const sut = new Experiments(clock);
    for (let i = 0; i < MAX_EXPERIMENTS; i++) sut.add(faults(`s${i % 20}`, clock), () => undefined);

    const e = refusal(() => sut.add(faults('fresh', clock), () => undefined));
    expect(e.code).toBe('TOO_MANY_REQUESTS');
    expect(e.message).toContain(`(${MAX_EXPERIMENTS})`);
    expect(() => sut.admit('fresh')).toThrow(GridException);
    expect(sut.list()).toHaveLength(MAX_EXPERIMENTS);
  });

  it('has room again once experiments end or are stopped', async () => {
    const clock = new FakeClock(1000);
    const sut = new Experiments(clock);
    const first = sut.add(faults('api', clock), () => undefined);
    for (let i = 1; i < MAX_EXPERIMENTS_PER_SERVICE; i++) sut.add(faults('api', clock), () => undefined);
    expect(() => sut.admit('api')).toThrow(GridException);

    await sut.stop(first.id);
    expect(() => sut.admit('api')).not.toThrow();
    sut.add(faults('api', clock), () => undefined);
    clock.advance(60_000);
    await Promise.resolve();
    expect(sut.list()).toHaveLength(0);
    expect(() => sut.admit('api')).not.toThrow();
  });

  it('records a kill (already over when added) even at the limit', () => {
    const clock = new FakeClock(1000);
    const sut = new Experiments(clock);
    for (let i = 0; i < MAX_EXPERIMENTS_PER_SERVICE; i++) sut.add(faults('api', clock), () => undefined);

    const kill = sut.add({ kind: 'kill', service: 'api', pods: ['api-1'], params: { count: 1 }, endsAt: clock.now(), origin: 'rollout' }, () => undefined);
    expect(kill.kind).toBe('kill');
  });
});
