import { explainReason } from './condition-reasons.js';

describe(explainReason.name, () => {
  it.each([
    ['MinimumReplicasAvailable', /enough pods/i],
    ['AsExpected', /nothing is wrong/i],
    ['CrashLoopBackOff', /crashing/i],
    ['NewRevisionAvailable', /latest spec/i],
  ])('%s', (reason, want) => {
    expect(explainReason(reason)).toMatch(want);
  });

  it.each([['SomethingNew'], [''], [null], [undefined], ['toString'], ['__proto__']])('%p → null', (reason) => {
    expect(explainReason(reason)).toBeNull();
  });
});
