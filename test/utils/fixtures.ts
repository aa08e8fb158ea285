// Shared fixtures for the pure-logic unit tests: a complete, defaulted ServiceSpec
// (what the validator produces for `replicas: 3, image: local://demo@v1`).
import type { RolloutSpec, ServiceSpec } from '../../src/modules/specs/spec.types.js';
import type { Pod } from '../../src/modules/runtime/pod.types.js';

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

/** A Ready simulated pod of revision `overrides.revision` (default 1); template hash h<revision>, version v<revision>. */
export function podFixture(times: { createdAt: number; readySince: number }, overrides: Partial<Pod> = {}): Pod {
  const revision = overrides.revision ?? 1;
  return {
    id: 'p1',
    service: 'api',
    revision,
    templateHash: `h${revision}`,
    version: `v${revision}`,
    runtime: 'sim',
    phase: 'Ready',
    ready: true,
    createdAt: times.createdAt,
    startedAt: times.createdAt,
    readySince: times.readySince,
    restarts: 0,
    backoffStep: 0,
    template: { service: overrides.service ?? 'api', revision, templateHash: `h${revision}`, version: `v${revision}`, spec: specFixture() },
    labels: {},
    probes: { readiness: [], liveness: [], startup: [] },
    ...overrides,
  };
}
