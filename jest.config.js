// Grid's code is ESM (NestJS 12 ships as ESM only), so Jest runs with
// --experimental-vm-modules (set by the npm scripts) and ts-jest in ESM mode.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e.spec.ts', '<rootDir>/test/faults/**/*.faults.spec.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
