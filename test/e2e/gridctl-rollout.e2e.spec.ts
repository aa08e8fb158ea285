// gridctl rollout against a real Grid: status follows canaries to their end (exit 0), an abort
// and a crash-looping new version to theirs (exit 1), and the rollout operations.
import { applyYaml, cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';
import { gridctl, parseTable } from '../utils/cli.js';

function sim(name: string, version: string, rollout: string, replicas = 2): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  image: local://demo@${version}
  rollout: ${rollout}
`;
}

describe('gridctl rollout', () => {
  let g: GridHandle;
  const run = (args: string[], o: Parameters<typeof gridctl>[1] = {}) => gridctl(args, { url: g.url, ...o });
  const rolloutOf = async (name: string) => (await json(`${g.url}/services/${name}/rollout`)).body;

  beforeAll(async () => {
    g = await startGrid({ env: { TICK_MS: '100', GRID_SIM_START_DELAY_MS: '100' } });
  });
  afterAll(cleanupAll);

  it('status follows a canary with timed pauses to completion: step lines, then exit 0', async () => {
    const canary = '{ strategy: Canary, steps: [ { setWeight: 50 }, { pause: { duration: 1s } } ] }';
    await applyYaml(g, sim('tide', 'v1', canary));
    await expectEventually(() => readyPods(g, 'tide', 2), 10000);
    expect((await applyYaml(g, sim('tide', 'v2', canary))).status).toBe(200);
    // Started right after the apply: the old revision's Completed state must not count as success.
    const r = await run(['rollout', 'status', 'tide', '--timeout', '30s'], { timeoutMs: 40000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/step 2\/2, weight 50%, pause 1s \(v2\)/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('rollout "tide" successfully rolled out (revision 2, v2)');
    expect((await rolloutOf('tide')).phase).toBe('Completed');
    // Already complete: one line, exit 0, with or without watching.
    const again = await run(['rollout', 'status', 'tide', '--watch=false']);
    expect([again.code, again.stdout]).toEqual([0, 'rollout "tide" successfully rolled out (revision 2, v2)\n']);
  });

  it('status waits at a manual pause with the command to run, and exits 1 with the reason when the rollout is aborted', async () => {
    const canary = '{ strategy: Canary, steps: [ { setWeight: 50 }, { pause: {} } ] }';
    await applyYaml(g, sim('halt', 'v1', canary));
    await expectEventually(() => readyPods(g, 'halt', 2), 10000);
    await applyYaml(g, sim('halt', 'v2', canary));
    let aborted: Promise<unknown> | undefined;
    const r = await run(['rollout', 'status', 'halt'], {
      timeoutMs: 30000,
      onStdout: (_, all) => {
        if (!aborted && all.includes('gridctl rollout promote halt')) aborted = run(['rollout', 'abort', 'halt']);
      },
    });
    const a = (await aborted) as { code: number; stdout: string };
    expect([a.code, a.stdout]).toEqual([0, 'rollout "halt" aborted: all traffic back to v1\n']);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Rollout "halt" paused at step 2\/2, weight 50%, pause: promote it with `gridctl rollout promote halt`/);
    expect(r.stdout).toMatch(/rollout "halt" aborted: AbortedByUser: aborted by request \(POST \/rollout\/abort\); v1 \(revision 1\) serves all traffic\n$/);
  });

  it('status of a crash-looping new version ends at the progress deadline with exit 1, naming the pod and its last exit', async () => {
    const spec = (command: string) => `apiVersion: v1
kind: Service
metadata: { name: crashy }
spec:
  replicas: 1
  command: ${command}
  env: [ { name: VERSION, value: ${command.includes('boom') ? 'v2' : 'v1'} } ]
  restartBackoff: { initialSeconds: 1, maxSeconds: 1 }
  rollout: { strategy: Rolling, progressDeadlineSeconds: 4 }
`;
    await applyYaml(g, spec('["node", "demo-services/versioned/server.js"]'));
    await expectEventually(() => readyPods(g, 'crashy', 1), 15000);
    await applyYaml(g, spec(`["node", "-e", "throw new Error('boom')"]`));
    const r = await run(['rollout', 'status', 'crashy', '--timeout', '60s'], { timeoutMs: 70000 });
    expect(r.code).toBe(1);
    expect((await rolloutOf('crashy')).phase).toBe('Aborted');
    expect(r.stdout).toMatch(/rollout "crashy" aborted: ProgressDeadlineExceeded: no progress for 4s/);
    // The error's headline from the pod's log, not the stack trace's tail; one line per restart, not per Running↔CrashLoopBackOff flip.
    const crashes = r.stdout.split('\n').filter((l) => l.includes('pod crashy-'));
    expect(crashes.length).toBeGreaterThan(0);
    for (const l of crashes) expect(l).toMatch(/^ {2}pod crashy-\S+ \(v2\) is \w+, \d+ restarts?: node exited with code 1: Error: boom$/);
    const counts = crashes.map((l) => `${/pod (\S+)/.exec(l)![1]} ${/(\d+) restarts?/.exec(l)![1]}`);
    expect(new Set(counts).size).toBe(counts.length);
  }, 80000);

  it('status of a Rolling update says what kubectl says: new replicas updated, old ones pending termination, updated ones available', async () => {
    const rolling = '{ strategy: Rolling }';
    await applyYaml(g, sim('roll', 'v1', rolling));
    await expectEventually(() => readyPods(g, 'roll', 2), 10000);
    await applyYaml(g, sim('roll', 'v2', rolling));
    const r = await run(['rollout', 'status', 'roll', '--timeout', '30s'], { timeoutMs: 40000 });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('rollout "roll" successfully rolled out (revision 2, v2)');
    // The old pods are available from the start: the old wording counted them as "2 of 2 updated replicas are available".
    for (const l of lines.slice(0, -1).filter((x) => x.includes('to finish:'))) {
      expect(l).toMatch(/^Waiting for rollout "roll" to finish: (\d out of 2 new replicas have been updated|\d old replicas are pending termination|\d of \d updated replicas are available)\.\.\.$/);
    }
  });

  it('the DSR form refuses a service that does not exist: nothing applied, exit 1', async () => {
    const r = await run(['rollout', '--service', 'nope', '--to-version', 'v2', '--command', 'node x.js']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: service "nope" not found; register it first \(gridctl register --service nope /);
    expect((await json(`${g.url}/services/nope`)).status).toBe(404);
  });

  it('times out with exit 1 when --timeout runs out first', async () => {
    const canary = '{ strategy: Canary, steps: [ { setWeight: 50 }, { pause: {} } ] }';
    await applyYaml(g, sim('slowpoke', 'v1', canary, 1));
    await expectEventually(() => readyPods(g, 'slowpoke', 1), 10000);
    await applyYaml(g, sim('slowpoke', 'v2', canary, 1));
    const r = await run(['rollout', 'status', 'slowpoke', '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^timed out waiting for rollout "slowpoke" to finish/m);
  });

  it('promote, pause, resume, promote --full, history and undo', async () => {
    const canary = '{ strategy: Canary, steps: [ { setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} } ] }';
    await applyYaml(g, sim('ops', 'v1', canary));
    await expectEventually(() => readyPods(g, 'ops', 2), 10000);
    await applyYaml(g, sim('ops', 'v2', canary));
    await expectEventually(async () => (await rolloutOf('ops')).pauseReason === 'Step', 10000);

    const p = await run(['rollout', 'promote', 'ops']);
    expect([p.code, p.stdout]).toEqual([0, 'rollout "ops" promoted: moving to step 3\n']);
    await expectEventually(async () => (await rolloutOf('ops')).canaryWeight === 50, 10000);
    expect((await run(['rollout', 'pause', 'ops'])).stdout).toBe('rollout "ops" paused\n');
    expect((await rolloutOf('ops')).pauseReason).toBe('Manual');
    const st = await run(['rollout', 'status', 'ops', '--watch=false']);
    expect([st.code, st.stdout]).toEqual([0, 'Rollout "ops" is paused by request step 4/4, weight 50%, pause: resume it with `gridctl rollout resume ops`\n']);
    expect((await run(['rollout', 'resume', 'ops'])).stdout).toBe('rollout "ops" resumed\n');
    const full = await run(['rollout', 'promote', 'ops', '--full']);
    expect([full.code, full.stdout]).toEqual([0, 'rollout "ops" promoted fully: v2 gets all traffic\n']);
    expect((await run(['rollout', 'status', 'ops', '--timeout', '20s'], { timeoutMs: 25000 })).code).toBe(0);

    // Nothing to promote now: the server's 409 is one line, exit 1.
    const none = await run(['rollout', 'promote', 'ops']);
    expect([none.code, none.stderr]).toEqual([1, 'error: ops: the rollout is Completed; nothing to promote\n']);

    const h = await run(['rollout', 'history', 'ops']);
    expect(h.code).toBe(0);
    const rows = parseTable(h.stdout);
    expect(rows.map((x) => [x.REVISION, x.VERSION, x.CURRENT])).toEqual([
      ['1', 'v1', ''],
      ['2', 'v2', '*'],
    ]);
    expect(rows[1].SOURCE).toBe('apply');
    const hj = JSON.parse((await run(['rollout', 'history', 'ops', '-o', 'json'])).stdout);
    expect(hj.revisions.map((x: { version: string }) => x.version)).toEqual(['v2', 'v1']);

    const u = await run(['rollout', 'undo', 'ops', '--to-revision', '1']);
    expect(u.code).toBe(0);
    expect(u.stdout).toMatch(/^rollout "ops" rolled back to the template of revision 1: now revision \d+ \(v1\), generation \d+\n$/);
    const bad = await run(['rollout', 'undo', 'ops', '--to-revision', '99']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: toRevision: revision 99 of ops is not kept/);
  }, 60000);

  it('usage errors exit 2', async () => {
    const bare = await run(['rollout']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/Usage: gridctl rollout/);
    for (const args of [['rollout', 'status'], ['rollout', 'status', 'x', '--timeout', 'soon'], ['rollout', 'status', 'x', '--watch=maybe'], ['rollout', 'undo', 'x', '--to-revision', 'two'], ['rollout', 'frobnicate', 'x'], ['rollout', '--service', 'x', '--to-version', 'v2'], ['rollout', 'status', 'x', '-o', 'json']]) {
      const r = await run(args);
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stderr.trim().split('\n').length).toBeGreaterThan(0);
    }
    // kubectl's `rollout restart`: what rollout has instead, and what comes closest.
    const restart = await run(['rollout', 'restart', 'example']);
    expect(restart.code).toBe(2);
    expect(restart.stderr).toMatch(/^error: rollout has no subcommand 'restart' \(its subcommands: status, promote, abort, retry, pause, resume, undo, history\); .*gridctl chaos kill example --count N.*gridctl rollout undo example\n$/);
    const help = await run(['rollout', 'status', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n {2}gridctl rollout status api/);
  });
});
