import { chaosStepWords, countdownText, experimentSettings, faultWords, secondsLeftNow } from './chaos-model.js';

describe(secondsLeftNow.name, () => {
  it.each([
    [42, 1000, 1000, 42],
    [42, 1000, 3500, 40],
    [42, 1000, 43_000, 0],
    [42, 1000, 99_000, 0],
    // A clock that reads before the answer (it cannot, but never count up).
    [42, 5000, 1000, 42],
  ])('%d s read at %d, now %d → %d', (left, at, now, want) => expect(secondsLeftNow(left, at, now)).toBe(want));
});

describe(countdownText.name, () => {
  it.each([
    [0, 'ending…'],
    [-3, 'ending…'],
    [1, '1 s'],
    [59, '59 s'],
    [65, '1 min 05 s'],
    [3600, '1 h 00 min'],
  ])('%d → %s', (s, want) => expect(countdownText(s)).toBe(want));
});

describe(experimentSettings.name, () => {
  it.each([
    [{ kind: 'faults', params: { abortPercent: 25, abortStatus: 503, delayMs: 0, delayPercent: 0 } }, 'abort 25% with 503'],
    [{ kind: 'faults', params: { abortPercent: 0, abortStatus: 503, delayMs: 200, delayPercent: 50 } }, 'delay 200 ms on 50%'],
    [{ kind: 'faults', params: { abortPercent: 10, abortStatus: 500, delayMs: 100, delayPercent: 5 } }, 'abort 10% with 500, delay 100 ms on 5%'],
    [{ kind: 'pause', params: { count: 2, seconds: 30 }, pods: ['a', 'b'] }, '2 pods frozen for 30 s'],
    [{ kind: 'pause', params: { pod: 'a', seconds: 10 }, pods: ['a'] }, '1 pod frozen for 10 s'],
    [{ kind: 'other', params: { service: 'api', n: 3 } }, 'n 3'],
  ])('%j → %s', (e, want) => expect(experimentSettings(e)).toBe(want));
});

describe(faultWords.name, () => {
  it('says when nothing is faulted', () => expect(faultWords({})).toBe('no fault'));
  it('takes numbers given as strings', () => expect(faultWords({ abortPercent: '5' })).toBe('abort 5% with 503'));
});

describe(chaosStepWords.name, () => {
  it.each([
    [{ kill: 2, recoverWithin: 60 }, 'chaos kill 2'],
    [{ pause: 1, seconds: 10, recoverWithin: 60 }, 'chaos pause 1 for 10 s'],
    [{ faults: { abortPercent: 20, abortStatus: 503 }, duration: 30 }, 'chaos faults (abort 20% with 503) for 30 s'],
    [{}, 'chaos'],
  ])('%j → %s', (c, want) => expect(chaosStepWords(c)).toBe(want));
});
