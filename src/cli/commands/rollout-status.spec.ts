import { crashLine, decideRolloutStatus, firstErrorLine, newAnalysisRuns, type RolloutJson, type ServiceJson } from './rollout-status.js';

const v1 = { revision: 1, templateHash: 'a', version: 'v1' };
const v2 = { revision: 2, templateHash: 'b', version: 'v2' };

function rollout(over: Partial<RolloutJson> = {}): RolloutJson {
  return { service: 'api', strategy: 'Rolling', phase: 'Progressing', pauseReason: null, step: null, canaryWeight: 0, stable: v1, canary: v2, abort: null, analysis: { failures: 0, runs: [] }, ...over };
}

function service(over: Partial<ServiceJson> = {}): ServiceJson {
  return {
    name: 'api',
    generation: 2,
    observedGeneration: 2,
    revision: 2,
    version: 'v2',
    desired: 3,
    conditions: [{ type: 'Progressing', status: 'True', reason: 'RevisionUpdating', message: '' }],
    pods: [],
    status: { replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
    ...over,
  };
}

const NOW = 1_000_000;
const crashing = { id: 'api-x1', revision: 2, version: 'v2', state: 'CrashLoopBackOff', ready: false, restarts: 4, message: 'Exited: exit code 1' };

describe(decideRolloutStatus.name, () => {
  const sut = decideRolloutStatus;

  it.each<[string, RolloutJson, ServiceJson, number | undefined, { done: boolean; exitCode: number; line: RegExp; details?: RegExp }]>([
    ['completed, every pod updated and available', rollout({ phase: 'Completed', stable: v2 }), service(), undefined, { done: true, exitCode: 0, line: /^rollout "api" successfully rolled out \(revision 2, v2\)$/ }],
    [
      'the OLD revision Completed right after an apply the server has not observed yet',
      rollout({ phase: 'Completed', stable: v1, canary: v1 }),
      service({ generation: 3, observedGeneration: 2, revision: 2 }),
      undefined,
      { done: false, exitCode: 0, line: /spec update to be observed \(generation 3, observed 2\)/ },
    ],
    ['observed, but the rollout state is still the old revision\'s', rollout({ phase: 'Completed', stable: v1, canary: v1 }), service(), undefined, { done: false, exitCode: 0, line: /of revision 2 \(v2\) to start/ }],
    ['never observed at all', rollout({ canary: null, stable: null }), service({ observedGeneration: null }), undefined, { done: false, exitCode: 0, line: /observed none/ }],
    ['completed but replicas still coming up (scaled)', rollout({ phase: 'Completed' }), service({ status: { replicas: 3, updatedReplicas: 3, availableReplicas: 1 } }), undefined, { done: false, exitCode: 0, line: /1 of 3 updated replicas are available/ }],
    ['completed but old pods still there', rollout({ phase: 'Completed' }), service({ status: { replicas: 4, updatedReplicas: 3, availableReplicas: 3 } }), undefined, { done: false, exitCode: 0, line: /1 old replicas are pending termination/ }],
    ['rolling, no new pod yet: old available pods are not counted', rollout(), service({ desired: 2, status: { replicas: 2, updatedReplicas: 0, availableReplicas: 2 } }), undefined, { done: false, exitCode: 0, line: /^Waiting for rollout "api" to finish: 0 out of 2 new replicas have been updated\.\.\.$/ }],
    [
      'waiting for a dependency: says which, not only the replica counts',
      rollout(),
      service({ desired: 2, status: { replicas: 0, updatedReplicas: 0, availableReplicas: 0 }, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: '0 of 2' }, { type: 'DependenciesReady', status: 'False', reason: 'WaitingForDependency', message: 'Waiting for db (0/1 Available)' }] }),
      undefined,
      { done: false, exitCode: 0, line: /^Waiting for rollout "api" to start: Waiting for db \(0\/1 Available\) \(spec\.dependsOn\)\.\.\.$/ },
    ],
    [
      'a dependency degrading under running pods does not hold the rollout',
      rollout(),
      service({ status: { replicas: 4, updatedReplicas: 2, availableReplicas: 1 }, conditions: [{ type: 'DependenciesReady', status: 'False', reason: 'DependencyNotReady', message: 'Waiting for db (0/1 Available); its running pods are kept' }] }),
      undefined,
      { done: false, exitCode: 0, line: /2 out of 3 new replicas have been updated/ },
    ],
    ['rolling in progress', rollout(), service({ status: { replicas: 4, updatedReplicas: 2, availableReplicas: 1 } }), undefined, { done: false, exitCode: 0, line: /^Waiting for rollout "api" to finish: 2 out of 3 new replicas have been updated\.\.\.$/ }],
    ['rolling, all updated, old pods still there', rollout(), service({ status: { replicas: 5, updatedReplicas: 3, availableReplicas: 4 } }), undefined, { done: false, exitCode: 0, line: /^Waiting for rollout "api" to finish: 2 old replicas are pending termination\.\.\.$/ }],
    ['rolling, old pods gone, new ones coming up', rollout(), service({ status: { replicas: 3, updatedReplicas: 3, availableReplicas: 2 } }), undefined, { done: false, exitCode: 0, line: /^Waiting for rollout "api" to finish: 2 of 3 updated replicas are available\.\.\.$/ }],
    [
      'canary at a timed pause',
      rollout({ strategy: 'Canary', step: { number: 2, of: 4, current: { pause: { duration: 10 } } }, canaryWeight: 25 }),
      service({ status: { replicas: 4, updatedReplicas: 1, availableReplicas: 4 } }),
      undefined,
      { done: false, exitCode: 0, line: /step 2\/4, weight 25%, pause 10s \(v2\)/ },
    ],
    [
      'canary at a chaos step: what it injected and what it waits for',
      rollout({
        strategy: 'Canary',
        step: { number: 3, of: 5, current: { chaos: { kill: 1, recoverWithin: 60 } } },
        chaos: { step: 3, kind: 'kill', phase: 'Running', pods: ['api-x7'], waitingFor: 'a Ready replacement for killed pod api-x7 (1/2 Ready)', secondsLeft: 42 },
        canaryWeight: 50,
      }),
      service({ status: { replicas: 5, updatedReplicas: 1, availableReplicas: 4 } }),
      undefined,
      { done: false, exitCode: 0, line: /^Rollout "api" at step 3\/5, weight 50%: chaos kill on v2, waiting for a Ready replacement for killed pod api-x7 \(1\/2 Ready\) \(42 s left\)\.\.\.$/ },
    ],
    [
      'canary paused at a step: says how to promote',
      rollout({ strategy: 'Canary', phase: 'Paused', pauseReason: 'Step', step: { number: 2, of: 2, current: { pause: {} } }, canaryWeight: 10 }),
      service(),
      undefined,
      { done: false, exitCode: 0, line: /paused at step 2\/2, weight 10%, pause: promote it with `gridctl rollout promote api`/ },
    ],
    ['paused by request: says how to resume', rollout({ phase: 'Paused', pauseReason: 'Manual' }), service(), undefined, { done: false, exitCode: 0, line: /gridctl rollout resume api/ }],
    ['blue/green awaiting promotion', rollout({ strategy: 'BlueGreen', phase: 'Paused', pauseReason: 'AwaitingPromotion' }), service(), undefined, { done: false, exitCode: 0, line: /preview of v2 is ready.*gridctl rollout promote api/ }],
    [
      'aborted by analysis: the reason, exit 1',
      rollout({ strategy: 'Canary', phase: 'Aborted', abort: { at: 1, reason: 'AnalysisFailed', message: 'canary v2 5xx 50% > 5%' } }),
      service(),
      undefined,
      { done: true, exitCode: 1, line: /^rollout "api" aborted: AnalysisFailed: canary v2 5xx 50% > 5%; v1 \(revision 1\) serves all traffic$/ },
    ],
    [
      'aborted by the progress deadline: names the crash-looping pod',
      rollout({ phase: 'Aborted', abort: { at: 1, reason: 'ProgressDeadlineExceeded', message: 'no progress for 5s' } }),
      service({ pods: [crashing] }),
      undefined,
      { done: true, exitCode: 1, line: /ProgressDeadlineExceeded: no progress for 5s/, details: /pod api-x1 \(v2\) is CrashLoopBackOff, 4 restarts: Exited: exit code 1/ },
    ],
    [
      'deadline exceeded without abort (progressDeadlineAbort: false)',
      rollout(),
      service({ conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'no progress for 5s' }], pods: [crashing] }),
      undefined,
      { done: true, exitCode: 1, line: /exceeded its progress deadline: no progress for 5s/, details: /api-x1/ },
    ],
    ['waiting shows the crash-looping new pod', rollout(), service({ status: { replicas: 3, updatedReplicas: 1, availableReplicas: 2 }, pods: [crashing, { ...crashing, id: 'api-old', revision: 1 }] }), undefined, { done: false, exitCode: 0, line: /Waiting/, details: /^pod api-x1/ }],
    ['--timeout ran out while progressing', rollout(), service({ status: { replicas: 3, updatedReplicas: 1, availableReplicas: 2 } }), NOW, { done: true, exitCode: 1, line: /^timed out waiting for rollout "api" to finish \(last: Waiting/ }],
    ['a terminal state wins over the timeout', rollout({ phase: 'Completed' }), service(), NOW - 1, { done: true, exitCode: 0, line: /successfully rolled out/ }],
  ])('%s', (_, r, svc, deadline, want) => {
    const d = sut(r, svc, NOW, deadline);
    expect(d.done).toBe(want.done);
    if (want.done) expect(d.exitCode).toBe(want.exitCode);
    expect(d.line).toMatch(want.line);
    if (want.details) expect(d.details.map((p) => crashLine(p)).join('\n')).toMatch(want.details);
    else expect(d.details).toEqual([]);
  });
});

describe(crashLine.name, () => {
  const sut = crashLine;

  it.each<[string, string | null, string | undefined, string]>([
    ['the error line found in the log wins over the tail', 'node exited with code 1; last output: } |  | Node.js v20.20.2', 'Error: boom', 'pod api-x1 (v2) is CrashLoopBackOff, 4 restarts: node exited with code 1: Error: boom'],
    ['a tail of only noise leaves the exit', 'node exited with code 1; last output: } |  | Node.js v20.20.2', undefined, 'pod api-x1 (v2) is CrashLoopBackOff, 4 restarts: node exited with code 1'],
    ['an error headline in the tail', 'node exited with code 1; last output: Error: no config |     at main (x.js:1:1) | Node.js v20.20.2', undefined, 'pod api-x1 (v2) is CrashLoopBackOff, 4 restarts: node exited with code 1: Error: no config'],
    ['Grid\'s reason prefix dropped', 'Error: node exited with code 1; last output: } |  | Node.js v20.20.2', 'Error: boom', 'pod api-x1 (v2) is CrashLoopBackOff, 4 restarts: node exited with code 1: Error: boom'],
    ['no message', null, undefined, 'pod api-x1 (v2) is CrashLoopBackOff, 4 restarts'],
  ])('%s', (_, message, errorLine, want) => expect(sut({ ...crashing, message }, errorLine)).toBe(want));
});

describe(firstErrorLine.name, () => {
  const sut = firstErrorLine;
  const node = (msg: string) => `/app/x.js:3\n  throw new Error('${msg}');\n  ^\n\nError: ${msg}\n    at Object.<anonymous> (/app/x.js:3:9)\n    at Module._compile (node:internal/modules/cjs/loader:1554:14) {\n  code: 'E'\n}\n\nNode.js v20.20.2\n`;

  it.each<[string, string, string | undefined]>([
    ['a Node stack trace: its headline, not the tail', node('boom'), 'Error: boom'],
    ['several runs in the log: the last one', `listening\n${node('first')}listening\n${node('second')}`, 'Error: second'],
    ['a coded Node error', 'node:events:497\n      throw er;\n      ^\n\nTypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string\n    at x\n', 'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string'],
    ['a Python traceback', 'Traceback (most recent call last):\n  File "app.py", line 1, in <module>\n    import nope\nModuleNotFoundError: No module named \'nope\'\n', "ModuleNotFoundError: No module named 'nope'"],
    ['a Go panic', 'panic: runtime error: index out of range\n\ngoroutine 1 [running]:\n', 'panic: runtime error: index out of range'],
    ['no headline: the last line that says something', 'starting\nport 8080 in use, giving up\n', 'port 8080 in use, giving up'],
    ['nothing', '\n\n', undefined],
  ])('%s', (_, text, want) => expect(sut(text)).toBe(want));
});

describe(newAnalysisRuns.name, () => {
  const sut = newAnalysisRuns;
  const run = (at: string, result: string) => ({ at, version: 'v2', requests: 30, errorRate: 0, p99Ms: 5, result, message: `m ${at}` });
  const r = rollout({ analysis: { failures: 0, runs: [run('2024-01-01T00:00:01.000Z', 'Successful'), run('2024-01-01T00:00:02.000Z', 'Failed')] } });

  it.each<[string | undefined, string[], string | undefined]>([
    [undefined, ['analysis Successful for v2: m 2024-01-01T00:00:01.000Z', 'analysis Failed for v2: m 2024-01-01T00:00:02.000Z'], '2024-01-01T00:00:02.000Z'],
    ['2024-01-01T00:00:01.000Z', ['analysis Failed for v2: m 2024-01-01T00:00:02.000Z'], '2024-01-01T00:00:02.000Z'],
    ['2024-01-01T00:00:02.000Z', [], '2024-01-01T00:00:02.000Z'],
  ])('since %s', (since, lines, last) => {
    expect(sut(r, since)).toEqual({ lines, last });
  });
});
