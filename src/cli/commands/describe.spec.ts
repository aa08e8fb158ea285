import { eventsSection, probeLine, replicasLine, rolloutSection } from './describe.js';
import type { ServiceDetail } from './get-rows.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

describe(probeLine.name, () => {
  it.each([
    [undefined, undefined],
    [{ httpGet: { path: '/health' } }, 'http-get /health delay=0s timeout=1s period=10s #success=1 #failure=3'],
    [{ httpGet: { path: '/ready' }, initialDelaySeconds: 5, timeoutSeconds: 2, periodSeconds: 3, successThreshold: 2, failureThreshold: 6 }, 'http-get /ready delay=5s timeout=2s period=3s #success=2 #failure=6'],
  ])('%j → %s', (probe, want) => expect(probeLine(probe)).toBe(want));
});

describe(replicasLine.name, () => {
  it.each([
    [{ updatedReplicas: 3, replicas: 3, availableReplicas: 3, unavailableReplicas: 0 }, '3 desired | 3 updated | 3 total | 3 available | 0 unavailable'],
    [{ updatedReplicas: 1, replicas: 4, availableReplicas: 2, unavailableReplicas: 1 }, '3 desired | 1 updated | 4 total | 2 available | 1 unavailable'],
    [undefined, '3 desired | 0 updated | 2 total | 0 available | 0 unavailable'],
  ])('%j → %s', (status, want) => expect(replicasLine({ desired: 3, actual: 2, status } as ServiceDetail)).toBe(want));
});

describe(eventsSection.name, () => {
  it('lists each event with its explanation below it', () => {
    const sut = eventsSection([{ id: 1, time: NOW - 5000, type: 'pod.exited', service: 'web', pod: 'web-a', reason: 'Error', message: 'exited with code 1', explain: 'Grid will restart it' }], NOW);
    expect(sut.split('\n')).toEqual(['Events:', '  Type      Reason   Age   Object      Message', '  Warning   Error    5s    pod/web-a   exited with code 1', '    why: Grid will restart it']);
  });

  it('says <none> without events', () => expect(eventsSection([], NOW)).toBe('Events:  <none>'));
});

describe(rolloutSection.name, () => {
  it('shows the step of the steps, the weights and the last analysis run', () => {
    const sut = rolloutSection(
      {
        strategy: 'Canary',
        phase: 'Progressing',
        step: { number: 2, of: 4, current: { setWeight: 25 } },
        weights: { v1: 75, v2: 25 },
        stable: { revision: 1, version: 'v1' },
        canary: { revision: 2, version: 'v2' },
        analysis: { failures: 1, runs: [{ at: NOW, version: 'v2', requests: 40, errorRate: 0.1, p99Ms: 30, result: 'Failed', message: 'error rate above 5%' }] },
      },
    );
    expect(sut).toContain('Step:      2 of 4 ({"setWeight":25})');
    expect(sut).toContain('Weights:   v1=75 v2=25');
    expect(sut).toContain('New:       revision 2 (v2)');
    expect(sut).toContain('1 runs, 1 failed; last: Failed (40 requests, 10.0% 5xx, p99 30 ms) error rate above 5%');
  });

  it('says <none> without a rollout', () => expect(rolloutSection(null)).toBe('Rollout:  <none>'));
});
