// Suites that need a tool the machine may lack (Chromium, a Docker Engine): without it the suite is
// skipped with a message saying why, except in CI, where a skip would pass silently forever: there
// it is one failing test.

export const CI = /^(true|1)$/i.test(process.env.CI ?? '');

/** describe() when `missing` is undefined; else skipped outside CI and one failing test (`what`) in CI. */
export function describeRequiring(name: string, missing: string | undefined, suite: string, what: string, body: () => void): void {
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  if (CI) {
    describe(name, () => {
      it(what, () => {
        throw new Error(`${missing}, and CI is set: CI must run the ${suite} suite`);
      });
    });
    return;
  }
  console.warn(`${missing}: skipping the ${suite} suite "${name}" outside CI`);
  describe.skip(name, body);
}
