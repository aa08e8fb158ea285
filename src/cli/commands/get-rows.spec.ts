import { alignRows, columnWidths, eventObject, eventRows, eventSeverity, groupRows, podRows, readyString, restartsString, rowSignature, serviceRows, sinceParam, sizeString, topServiceRows, typeMatches, volumeRows, workload, type GridEvent, type GroupDetail, type ServiceDetail, type StatePod, type VolumeView } from './get-rows.js';
import { UsageError } from '../errors.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function service(over: Partial<ServiceDetail> = {}): ServiceDetail {
  return {
    name: 'web',
    generation: 2,
    observedGeneration: 2,
    revision: 2,
    version: 'v2',
    runtime: 'process',
    desired: 3,
    actual: 4,
    ready: 2,
    updatedReplicas: 1,
    availableReplicas: 2,
    conditions: [],
    createdAt: new Date(NOW - 200_000).toISOString(),
    spec: { replicas: 3, command: ['node', 'server.js', 'a b'], rollout: { strategy: 'Canary' } },
    pods: [],
    status: { updatedReplicas: 1, availableReplicas: 2, replicas: 4, unavailableReplicas: 1 },
    ...over,
  };
}

function pod(over: Partial<StatePod> = {}): StatePod {
  return { id: 'web-abc', service: 'web', revision: 1, version: 'v1', runtime: 'process', ordinal: null, state: 'Ready', ready: true, restarts: 0, ageSeconds: 65, createdAt: new Date(NOW - 65_000).toISOString(), cpu: 12, pid: 100, port: 4000, backoffUntil: null, lastExitAt: null, message: null, probeLatencyMs: null, ...over };
}

function event(over: Partial<GridEvent> = {}): GridEvent {
  return { id: 1, time: NOW - 45_000, type: 'pod.ready', service: 'web', pod: 'web-abc', reason: 'Ready', message: 'pod web-abc is ready', explain: 'because', ...over };
}

describe(serviceRows.name, () => {
  it.each([
    ['the list columns from status', false, ['web', '2/3', 1, 2, '3m20s']],
    ['wide adds version, strategy, runtime and the command', true, ['web', '2/3', 1, 2, '3m20s', 'v2', 'Canary', 'process', 'node server.js "a b"']],
  ])('%s', (_, wide, row) => {
    const sut = serviceRows([service()], wide, NOW);
    expect(sut.rows).toEqual([row]);
    expect(sut.keys).toEqual(['web']);
  });

  it('reads updated and available from the answer itself, so a list needs no read per service', () => {
    expect(serviceRows([service({ updatedReplicas: 0, availableReplicas: 0 })], false, NOW).rows[0].slice(2, 4)).toEqual([0, 0]);
  });
});

describe(workload.name, () => {
  it.each([
    [{ replicas: 1, image: 'local://demo@v1' }, 'local://demo@v1'],
    [{ replicas: 1, command: ['python3', '-m', 'http.server'] }, 'python3 -m http.server'],
    [{ replicas: 1, command: ['sh', '-c', 'echo "hi"', ''] }, 'sh -c "echo \\"hi\\"" ""'],
    [undefined, ''],
  ])('%j → %s', (spec, want) => expect(workload(spec as ServiceDetail['spec'])).toBe(want));
});

describe(podRows.name, () => {
  it.each([
    ['a ready pod', pod(), undefined, false, ['web-abc', '1/1', 'Ready', '0', '65s', 'v1']],
    ['a crash-looping pod with its last exit', pod({ ready: false, state: 'CrashLoopBackOff', restarts: 3 }), NOW - 45_000, false, ['web-abc', '0/1', 'CrashLoopBackOff', '3 (45s ago)', '65s', 'v1']],
    ['restarts without a known exit time', pod({ restarts: 2 }), undefined, false, ['web-abc', '1/1', 'Ready', '2', '65s', 'v1']],
    ['a paused pod, frozen by a chaos pause, while still Ready', pod({ paused: true }), undefined, false, ['web-abc', '1/1', 'Paused', '0', '65s', 'v1']],
    ['a paused pod its readiness probe has taken out', pod({ paused: true, state: 'Running', ready: false }), undefined, false, ['web-abc', '0/1', 'Paused', '0', '65s', 'v1']],
    ['a pod no longer paused', pod({ paused: false }), undefined, false, ['web-abc', '1/1', 'Ready', '0', '65s', 'v1']],
    ['a paused pod being stopped', pod({ ready: false, state: 'Terminating', paused: true }), undefined, false, ['web-abc', '0/1', 'Terminating', '0', '65s', 'v1']],
    ['wide', pod({ runtime: 'sim', pid: null, port: null }), undefined, true, ['web-abc', '1/1', 'Ready', '0', '65s', 'v1', 'web', '', '', '', '12%', 'sim']],
    ['wide: the ordinal of a persistent service\'s pod', pod({ ordinal: 1, pid: 42, port: 9000 }), undefined, true, ['web-abc', '1/1', 'Ready', '0', '65s', 'v1', 'web', 1, 42, 9000, '12%', 'process']],
  ])('%s', (_, p, exitAt, wide, row) => {
    const sut = podRows([p], wide, NOW, new Map(exitAt === undefined ? [] : [[p.id, exitAt]]));
    expect(sut.rows).toEqual([row]);
  });

  it('falls back to createdAt when the server sent no age', () => {
    expect(podRows([pod({ ageSeconds: undefined, createdAt: new Date(NOW - 3_600_000).toISOString() })], false, NOW).rows[0][4]).toBe('60m');
  });
});

describe(readyString.name, () => {
  it.each([
    [true, '1/1'],
    [false, '0/1'],
  ])('%s → %s', (ready, want) => expect(readyString(ready)).toBe(want));
});

describe(restartsString.name, () => {
  it.each([
    [0, undefined, '0'],
    [0, NOW - 1000, '0'],
    [3, NOW - 45_000, '3 (45s ago)'],
    [5, NOW - 2 * 3600_000, '5 (120m ago)'],
    [1, undefined, '1'],
  ])('%d restarts, last exit %s → %s', (n, at, want) => expect(restartsString(n, at, NOW)).toBe(want));
});

describe(groupRows.name, () => {
  const g: GroupDetail = { name: 'shop', active: 'v2', healthy: 1, total: 2, failback: 'auto', targets: [{ name: 'v1', kind: 'service', priority: 1, active: false, health: 'unhealthy', consecutiveFailures: 3, consecutiveSuccesses: 0 }, { name: 'v2', kind: 'service', priority: 2, active: true, health: 'healthy', consecutiveFailures: 0, consecutiveSuccesses: 9 }], history: [] };
  it.each([
    ['never switched', null, ['shop', 'v2', '1/2', 'v1,v2', 'auto', '']],
    ['switched 30 s ago', { at: new Date(NOW - 30_000).toISOString(), from: 'v1', to: 'v2', reason: 'Unhealthy' }, ['shop', 'v2', '1/2', 'v1,v2', 'auto', '30s (v1→v2)']],
  ])('%s', (_, last, row) => expect(groupRows([g], new Map([['shop', last]]), NOW).rows).toEqual([row]));

  it('adds each target\'s health and the check\'s path with -o wide', () => {
    const sut = groupRows([{ ...g, healthCheck: { path: '/health/ready', intervalSeconds: 5 } }], new Map([['shop', null]]), NOW, true);
    expect(sut.headers.slice(-2)).toEqual(['TARGET-HEALTH', 'CHECK']);
    expect(sut.rows[0].slice(-2)).toEqual(['v1:unhealthy,v2:healthy', '/health/ready']);
  });
});

describe(eventRows.name, () => {
  it.each([
    ['kubectl columns', false, ['45s', 'Normal', 'Ready', 'pod/web-abc', 'pod web-abc is ready']],
    ['with the explanation', true, ['45s', 'Normal', 'Ready', 'pod/web-abc', 'pod web-abc is ready', 'because']],
  ])('%s', (_, explain, row) => {
    const sut = eventRows([event()], explain, NOW);
    expect(sut.rows).toEqual([row]);
    expect(sut.headers[0]).toBe('LAST SEEN');
  });
});

describe(eventSeverity.name, () => {
  it.each([
    ['pod.ready', 'Ready', 'Normal'],
    ['pod.exited', 'Error', 'Warning'],
    ['pod.backoff', 'CrashLoopBackOff', 'Warning'],
    ['rollout.aborted', 'AnalysisFailed', 'Warning'],
    ['failover.health', 'TargetUnhealthy', 'Warning'],
    ['failover.health', 'TargetHealthy', 'Normal'],
    ['spec.applied', 'Created', 'Normal'],
  ])('%s %s → %s', (type, reason, want) => expect(eventSeverity({ type, reason })).toBe(want));
});

describe(eventObject.name, () => {
  it.each([
    [{ type: 'pod.ready', service: 'web', pod: 'web-abc' }, 'pod/web-abc'],
    [{ type: 'spec.applied', service: 'web', pod: null }, 'service/web'],
    [{ type: 'failover.switched', service: 'shop', pod: null }, 'failovergroup/shop'],
    [{ type: 'group.applied', service: 'shop', pod: null }, 'failovergroup/shop'],
    [{ type: 'grid.started', service: null, pod: null }, 'grid'],
  ])('%j → %s', (e, want) => expect(eventObject(e)).toBe(want));
});

describe(typeMatches.name, () => {
  it.each([
    [undefined, 'pod.ready', true],
    ['pod.ready', 'pod.ready', true],
    ['pod.ready', 'pod.readyish', false],
    ['pod', 'pod.exited', true],
    ['pod.*', 'pod.exited', true],
    ['pod.*', 'podcast.x', false],
    ['pod', 'rollout.started', false],
  ])('%s matches %s: %s', (filter, type, want) => expect(typeMatches(filter, type)).toBe(want));
});

describe(sinceParam.name, () => {
  it.each([
    [undefined, undefined],
    ['10m', '2026-01-01T11:50:00.000Z'],
    ['2h', '2026-01-01T10:00:00.000Z'],
    ['1d', '2025-12-31T12:00:00.000Z'],
    ['30s', '2026-01-01T11:59:30.000Z'],
    ['2026-01-01T08:00:00Z', '2026-01-01T08:00:00.000Z'],
  ])('%s → %s', (raw, want) => expect(sinceParam(raw, NOW)).toBe(want));

  it.each(['10', 'ten minutes', '5w', '2026-13-45'])('refuses %s as a usage error', (raw) => expect(() => sinceParam(raw, NOW)).toThrow(UsageError));
});

describe(topServiceRows.name, () => {
  it('gives one row per version with the window rate, 5xx percentage and latency', () => {
    const sut = topServiceRows([
      {
        name: 'web',
        pods: [pod({ version: 'v1', cpu: 10 }), pod({ id: 'web-b', version: 'v1', cpu: 5 }), pod({ id: 'web-c', version: 'v2', cpu: 30 }), pod({ id: 'web-d', version: 'v2', state: 'Terminating', cpu: 50 })],
        traffic: {
          service: 'web',
          versions: [{ version: 'v1', weight: 3, share: 75, pods: [] }, { version: 'v2', weight: 1, share: 25, pods: [] }],
          window: { seconds: 60, byVersion: [{ version: 'v1', requests: 600, errors5xx: 0, errorRate: 0, p50Ms: 2, p99Ms: 9 }, { version: 'v2', requests: 30, errors5xx: 3, errorRate: 0.1, p50Ms: 4, p99Ms: 250 }] },
          ejected: [],
        },
      },
    ]);
    expect(sut.rows).toEqual([
      ['web', 'v1', 2, 15, '75%', '10.0', '0', 2, 9],
      ['web', 'v2', 1, 30, '25%', '0.50', '10.0', 4, 250],
    ]);
  });

  it('gives a service without traffic a zero rate and no 5xx rate or latency', () => {
    expect(topServiceRows([{ name: 'idle', pods: [pod({ service: 'idle' })], traffic: null }]).rows).toEqual([['idle', 'v1', 1, 12, '', '0', '', '', '']]);
  });

  it('gives a version the window saw no request of no 5xx rate or latency, not zeros', () => {
    const traffic = { service: 'web', versions: [{ version: 'v1', weight: 1, share: 100, pods: [] }], window: { seconds: 60, byVersion: [{ version: 'v1', requests: 0, errors5xx: 0, errorRate: 0, p50Ms: 0, p99Ms: 0 }] }, ejected: [] };
    expect(topServiceRows([{ name: 'web', pods: [pod()], traffic }]).rows).toEqual([['web', 'v1', 1, 12, '100%', '0', '', '', '']]);
  });
});

describe(rowSignature.name, () => {
  it.each([
    ['an older age is no change', ['a', '1/1', '5s'], ['a', '1/1', '3m20s'], true],
    ['a restart count is a change', ['a', '1 (5s ago)', '5s'], ['a', '2 (1s ago)', '6s'], false],
    ['the same count later is no change', ['a', '1 (5s ago)', '5s'], ['a', '1 (2m ago)', '2m'], true],
    ['a status is a change', ['a', 'Running', '5s'], ['a', 'Ready', '5s'], false],
  ])('%s', (_, a, b, same) => expect(rowSignature(a, [1, 2]) === rowSignature(b, [1, 2])).toBe(same));
});

describe(alignRows.name, () => {
  it('aligns later rows under the first table and widens a column that grew', () => {
    const widths = columnWidths(['NAME', 'STATUS', 'AGE'], [['web-a', 'Ready', '5s']]);
    expect(alignRows([['web-b', 'Running', '1s']], widths)).toEqual(['web-b   Running   1s']);
    expect(alignRows([['web-c', '', '\u001b[2J']], widths)).toEqual(['web-c   <none>    \\x1b[2J']);
  });
});

describe(volumeRows.name, () => {
  const vol = (v: Partial<VolumeView> = {}): VolumeView => ({ name: 'db-0', path: 'pods/db-0', service: 'db', ordinal: 0, bytes: 2048, status: 'Bound', pod: 'db-x1', serviceExists: true, createdAt: new Date(NOW - 120_000).toISOString(), ...v });

  it.each<[string, VolumeView, boolean, unknown[]]>([
    ['a bound directory', vol(), false, ['db-0', 'db', 0, 'Bound', '2Ki', '2m']],
    ['left behind by a deleted service, wide', vol({ name: 'db2-1', service: 'db2', ordinal: 1, status: 'Released', pod: null, serviceExists: false, bytes: 0 }), true, ['db2-1', 'db2', 1, 'Released', '0B', '2m', '<none>', 'no (delete --purge removes the data)']],
    ['wide: the pod holding it', vol(), true, ['db-0', 'db', 0, 'Bound', '2Ki', '2m', 'db-x1', 'yes']],
  ])('%s', (_, v, wide, row) => {
    const sut = volumeRows([v], wide, NOW);

    expect(sut.headers.slice(0, 6)).toEqual(['NAME', 'SERVICE', 'ORDINAL', 'STATUS', 'SIZE', 'AGE']);
    expect(sut.rows).toEqual([row]);
  });
});

describe(sizeString.name, () => {
  it.each([
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1Ki'],
    [1536, '1.5Ki'],
    [10 * 1024 * 1024, '10Mi'],
    [3.45 * 1024 * 1024 * 1024, '3.5Gi'],
  ])('%d → %s', (bytes, want) => expect(sizeString(bytes)).toBe(want));
});
