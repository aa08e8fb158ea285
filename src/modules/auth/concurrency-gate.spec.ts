import { ConcurrencyGate, type Release } from './concurrency-gate.js';

describe(ConcurrencyGate.name, () => {
  it('lets `active` in, queues `queued`, refuses the rest at once, and hands a released slot to the first waiter', async () => {
    const sut = new ConcurrencyGate(2, 1);
    const a = await sut.enter()!;
    const b = await sut.enter()!;
    const order: string[] = [];
    const c = sut.enter()!.then((r) => (order.push('c'), r));

    expect(sut.enter()).toBeNull();
    expect(sut.load).toEqual({ running: 2, waiting: 1 });

    a();
    a();
    const releaseC: Release = await c;
    expect(order).toEqual(['c']);
    expect(sut.load).toEqual({ running: 2, waiting: 0 });
    b();
    releaseC();
    expect(sut.load).toEqual({ running: 0, waiting: 0 });
  });
});
