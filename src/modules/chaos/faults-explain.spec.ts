import { faultsExplain } from './chaos.service.js';

describe('faultsExplain (the FaultsStarted explanation)', () => {
  const base = { abortPercent: 0, abortStatus: 503, delayMs: 0, delayPercent: 0 };
  it.each([
    ['delay only: mentions no aborted request, says delayed ones still count', { ...base, delayMs: 200, delayPercent: 50 }, [/delays 50% by 200 ms/, /still reach the pod/], [/abort/i]],
    ['abort only: aborted ones left out of analysis, nothing about delays', { ...base, abortPercent: 25 }, [/aborts 25% with 503/, /Aborted requests are counted apart/], [/Delayed/]],
    ['both', { ...base, abortPercent: 10, delayMs: 100, delayPercent: 20 }, [/Aborted requests/, /Delayed requests/, /without the injected 100 ms/], []],
  ])('%s', (_, settings, has, hasNot) => {
    const text = faultsExplain(settings, 'service api', 30);
    for (const r of has) expect(text).toMatch(r);
    for (const r of hasNot) expect(text).not.toMatch(r);
    expect(text).toMatch(/ends on its own in 30 s$/);
  });
});
