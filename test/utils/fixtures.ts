// Shared fixtures for the pure-logic unit tests: a complete, defaulted ServiceSpec
// (what the validator produces for `replicas: 3, image: local://demo@v1`).
import type { RolloutSpec, ServiceSpec } from '../../src/modules/specs/spec.types.js';

export function specFixture(overrides: Partial<ServiceSpec> = {}, rollout: Partial<RolloutSpec> = {}): ServiceSpec {
  return {
    replicas: 3,
    runtime: 'sim',
    image: 'local://demo@v1',
    env: [],
    terminationGracePeriodSeconds: 10,
    restartBackoff: { initialSeconds: 1, maxSeconds: 60, resetAfterSeconds: 600 },
    rollout: {
      strategy: 'Rolling',
      maxSurge: '25%',
      maxUnavailable: '25%',
      minReadySeconds: 0,
      steps: [],
      autoPromotionEnabled: true,
      scaleDownDelaySeconds: 30,
      progressDeadlineSeconds: 600,
      progressDeadlineAbort: true,
      ...rollout,
    },
    revisionHistoryLimit: 10,
    ...overrides,
  };
}
