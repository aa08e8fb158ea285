import { eventsSection, formatPod, formatService, healthCheckText, probeLine, replicasLine, rolloutSection, stepsLine, stepText, strategyLine } from './describe.js';
import type { PodDetail, ServiceDetail } from './get-rows.js';

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
    expect(sut).toContain('Step:      2 of 4 (setWeight 25%)');
    expect(sut).toContain('Weights:   v1=75 v2=25');
    expect(sut).toContain('New:       revision 2 (v2)');
    expect(sut).toContain('1 runs, 1 failed; last: Failed (40 requests, 10.0% 5xx, p99 30 ms) error rate above 5%');
  });

  it('says <none> without a rollout', () => expect(rolloutSection(null)).toBe('Rollout:  <none>'));
});

describe(stepText.name, () => {
  it.each([
    [{ setWeight: 25 }, 'setWeight 25%'],
    [{ pause: { duration: 20 } }, 'pause 20s'],
    [{ pause: {} }, 'pause (until promoted)'],
    [{ chaos: { kill: 1, recoverWithin: 60 } }, 'chaos kill 1 (recover within 60s)'],
    [{ chaos: { pause: 1, seconds: 10, recoverWithin: 30 } }, 'chaos pause 1 for 10s (recover within 30s)'],
    [{ chaos: { faults: { abortPercent: 50, abortStatus: 503, delayMs: 0, delayPercent: 0 }, duration: 30 } }, 'chaos faults for 30s: abort 50% with 503'],
    [{ chaos: { faults: { abortPercent: 10, abortStatus: 500, delayMs: 200, delayPercent: 50 }, duration: 5 } }, 'chaos faults for 5s: abort 10% with 500, delay 50% by 200 ms'],
    [{ chaos: { kill: 1, recoverWithin: '2m' } }, 'chaos kill 1 (recover within 2m)'],
    [{ chaos: { surprise: 1 } }, '{"chaos":{"surprise":1}}'],
    [{ experiment: 1 }, '{"experiment":1}'],
  ])('%j → %s', (step, want) => expect(stepText(step)).toBe(want));
});

describe(healthCheckText.name, () => {
  it.each([
    [{ path: '/health', intervalSeconds: 5, timeoutSeconds: 2, expectStatus: [{ min: 200, max: 399 }], failureThreshold: 3, successThreshold: 2 }, 'GET /health every 5s, timeout 2s, expect 200-399, 3 failures down, 2 successes up'],
    [{ path: '/ok', expectStatus: [{ min: 200, max: 200 }, { min: 204, max: 204 }], maxLatencyMs: 300, expectJson: { status: 'ok' } }, 'GET /ok, max latency 300 ms, expect 200,204, expect JSON {"status":"ok"}'],
  ])('%j', (hc, want) => expect(healthCheckText(hc)).toBe(want));
});

describe(formatPod.name, () => {
  const pod: PodDetail = { id: 'web-abc', service: 'web', revision: 1, version: 'v1', runtime: 'process', ordinal: null, state: 'Ready', ready: true, restarts: 1, ageSeconds: 65, createdAt: new Date(NOW - 65_000).toISOString(), cpu: 3, pid: 100, port: 4000, backoffUntil: null, lastExitAt: null, message: null, probeLatencyMs: null };
  const valueColumn = (line: string) => line.search(/:\s+\S/) + line.slice(line.indexOf(':') + 1).search(/\S/) + 1;

  it.each([
    ['without a last exit', null],
    ['with a last exit', { at: NOW - 5000, code: 1, signal: null, reason: 'Error', message: 'exited with code 1' }],
  ])('aligns Last exit with the other fields %s', (_, lastExit) => {
    const lines = formatPod({ ...pod, lastExit }, [], NOW).split('\n');
    const last = lines.find((l) => l.startsWith('Last exit:'))!;
    const name = lines.find((l) => l.startsWith('Name:'))!;
    expect(valueColumn(last)).toBe(valueColumn(name));
    expect(last).toMatch(lastExit ? /Error$/ : /<none>$/);
  });

  it.each([
    [0, 'Ordinal:        0 (data: pods/web-0)'],
    [null, 'Ordinal:        <none>'],
  ])('shows the ordinal %p of a persistent service\'s pod and its data directory', (ordinal, line) => {
    const lines = formatPod({ ...pod, ordinal }, [], NOW).split('\n');

    expect(lines).toContain(line);
  });

  it('lists the last exit\'s details indented under it', () => {
    const text = formatPod({ ...pod, lastExit: { at: NOW - 5000, code: 1, signal: null, reason: 'Error', message: 'boom' } }, [], NOW);
    expect(text).toMatch(/^Last exit:\s+Error\n  Exit code:\s+1\n  Signal:\s+<none>\n  At:\s+\S+ \(5s ago\)\n  Message:\s+boom$/m);
  });
});

describe(formatService.name, () => {
  const svc = (spec: Partial<ServiceDetail['spec']>): ServiceDetail => ({ name: 'db', generation: 1, observedGeneration: 1, revision: 1, version: 'v1', desired: 1, actual: 1, ready: 1, runtime: 'process', conditions: [], createdAt: new Date(NOW).toISOString(), pods: [], spec: { replicas: 1, command: ['node', 'db.js'], ...spec } }) as unknown as ServiceDetail;
  const line = (s: ServiceDetail, field: string) => formatService(s, null, [], NOW).split('\n').find((l) => l.startsWith(`${field}:`));

  it.each<[string, Partial<ServiceDetail['spec']>, string]>([
    ['a Rolling service: its maxSurge and maxUnavailable', {}, 'Rolling (maxSurge 25%, maxUnavailable 25%, minReadySeconds 0)'],
    ['a persistent service: one pod at a time whatever the spec says', { storage: { persistent: true }, rollout: { strategy: 'Rolling', maxSurge: '25%', maxUnavailable: '25%', minReadySeconds: 5 } }, 'Rolling (one pod at a time: persistent storage; minReadySeconds 5)'],
  ])('Strategy of %s', (_, spec, want) => expect(strategyLine(svc(spec))).toBe(want));

  it('lists a Canary\'s steps in order, chaos steps in words', () => {
    const s = svc({ rollout: { strategy: 'Canary', steps: [{ setWeight: 20 }, { chaos: { kill: 1, recoverWithin: 60 } }, { pause: { duration: 10 } }] } });
    expect(line(s, 'Steps')).toMatch(/^Steps:\s+1\. setWeight 20%; 2\. chaos kill 1 \(recover within 60s\); 3\. pause 10s$/);
    expect(stepsLine(svc({}))).toBeUndefined();
  });

  it.each<[string, Partial<ServiceDetail['spec']>, string, RegExp]>([
    ['Storage of a persistent service', { storage: { persistent: true } }, 'Storage', /^Storage:\s+persistent: pods\/db-<ordinal> under the data dir, as GRID_POD_DATA \(gridctl get volumes --service db\)$/],
    ['Storage of one without', {}, 'Storage', /^Storage:\s+<none>$/],
    ['DependsOn with each condition', { dependsOn: [{ service: 'disk', condition: 'Started' }, { service: 'net' }] }, 'DependsOn', /^DependsOn:\s+disk \(Started\), net \(Available\)$/],
    ['DependsOn of none', {}, 'DependsOn', /^DependsOn:\s+<none>$/],
  ])('%s', (_, spec, field, want) => expect(line(svc(spec), field)).toMatch(want));
});
