// Plain words for the Kubernetes-style reasons on a service's conditions, so "AsExpected" or
// "MinimumReplicasAvailable" mean something to someone who has not used Kubernetes.

const REASONS: ReadonlyMap<string, string> = new Map(Object.entries({
  MinimumReplicasAvailable: 'Enough pods are up to serve traffic.',
  MinimumReplicasUnavailable: 'Fewer pods are up than the service needs to serve traffic.',
  NewRevisionAvailable: 'Every pod runs the latest spec: the update is done.',
  RevisionUpdating: 'Pods are being replaced with the new spec.',
  ReplicasUpdating: 'Pods are being started or stopped to reach the asked-for count.',
  ProgressDeadlineExceeded: 'The update made no progress for too long and is stuck.',
  RolloutAborted: 'The rollout was stopped; traffic went back to the stable version.',
  RolloutCompleted: 'The rollout finished: the new version takes all traffic.',
  PausedAtStep: 'The rollout is waiting at a step (for time or a person to promote it).',
  AnalysisFailed: 'The canary’s error rate or latency was too high, so it was rolled back.',
  AsExpected: 'Nothing is wrong.',
  CrashLoopBackOff: 'A pod keeps crashing; Grid waits longer before each restart.',
  PodsFailed: 'A pod failed and will not be restarted.',
  Unschedulable: 'There is no room to start the pods.',
}));

/** One sentence for a condition reason, or null when it is not one of the common ones. */
export function explainReason(reason: string | null | undefined): string | null {
  return (reason && REASONS.get(reason)) || null;
}
