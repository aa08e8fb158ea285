// `npm run test:faults`: the fault suites only. A config of its own rather than `jest test/faults`,
// so a path or flag given after `--` narrows the run (`npm run test:faults -- test/faults/disk.faults.spec.ts`)
// instead of being OR-ed with test/faults and running every suite.
import base from '../../jest.config.js';

export default { ...base, rootDir: '../..', roots: ['<rootDir>/test/faults'] };
