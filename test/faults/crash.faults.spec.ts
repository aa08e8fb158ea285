// Crash consistency: SIGKILL Grid at random moments while it applies, deletes, scales, rolls
// out, steps a canary or switches a failover group, restart it on the same data dir, and
// check after every restart that nothing it acknowledged was lost and nothing is left
// inconsistent (see README › Trust under faults › Crash consistency).
//
// Seeded: GRID_FAULTS_SEED=<n> reruns a failure exactly as far as the operations and kill
// points go (the seed is printed first). GRID_FAULTS_ITERATIONS raises the count (default 30).
// GRID_FAULTS_REPORT=<file> writes the figures as JSON (bench/faults.js uses it).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from '@jest/globals';
import { applyYaml, cleanupAll, expectEventually, json, killRecordedPods, startGrid, tempDataDir, type GridHandle } from '../utils/grid.js';
import { auditViolations, convergenceViolations, eventIdViolations, podProcesses, processViolations, type RolloutView, type StateView } from '../utils/invariants.js';

const SEED = Number(process.env.GRID_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ITERATIONS = Number(process.env.GRID_FAULTS_ITERATIONS ?? 30);
const REPORT = process.env.GRID_FAULTS_REPORT;
/** A kill "after sending" lands somewhere in this window: from before Grid reads the request to well after it answered. */
const MAX_KILL_DELAY_MS = 600;
const SETTLE_MS = 40_000;

/** Grid passes every variable outside its own (GRID_*) on to its pods: this one marks the pods of this run in /proc. */
const RUN_MARK = `CRASH_FAULTS_RUN=${randomBytes(6).toString('hex')}`;
const [MARK_NAME, MARK_VALUE] = RUN_MARK.split('=');

/** mulberry32: a tiny seeded PRNG, so a seed names one sequence of operations and kill points. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPERATIONS = ['apply', 'delete', 'scale', 'rolling', 'canary', 'failover'] as const;
type Operation = (typeof OPERATIONS)[number];
type KillPoint = 'after-send' | 'while-polling';

const INVARIANTS = ['acknowledged', 'processes', 'converged', 'audit', 'event-ids'] as const;
type Invariant = (typeof INVARIANTS)[number];

/** What an acknowledged (2xx before the kill) request promised, to be found after the restart. */
type Promise_ =
  | { kind: 'stored'; service: string; generation: number; replicas: number; version?: string }
  | { kind: 'deleted'; service: string }
  | { kind: 'rollout'; service: string; phases: string[] }
  | { kind: 'active'; group: string; target: string };

const GROUP = 'front';
/** a and b stand behind the failover group and are never deleted; c comes and goes. */
const SERVICES = ['a', 'b', 'c'];

function serviceYaml(name: string, replicas: number, version: string, strategy: 'Rolling' | 'Canary'): string {
  const rollout = strategy === 'Canary' ? `{ strategy: Canary, steps: [ { setWeight: 50 }, { pause: {} } ] }` : `{ strategy: Rolling, maxSurge: 1, maxUnavailable: 0 }`;
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  command: [node, demo-services/versioned/server.js]
  env: [{ name: VERSION, value: ${version} }]
  terminationGracePeriodSeconds: 2
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1 }
  rollout: ${rollout}
`;
}

const GROUP_YAML = `apiVersion: v1
kind: FailoverGroup
metadata: { name: ${GROUP} }
spec:
  targets: [ { service: a }, { service: b } ]
  healthCheck: { path: /health, intervalSeconds: 1, failureThreshold: 5 }
  cooldownSeconds: 5
  failback: manual
`;

interface Figures {
  seed: number;
  iterations: number;
  operations: Record<string, number>;
  killPoints: Record<string, number>;
  acknowledgedBeforeKill: number;
  invariants: Record<Invariant, { passed: number; failed: number }>;
  restartToConvergedMs: number[];
  failure?: string;
}

describe('crash consistency under SIGKILL', () => {
  const figures: Figures = {
    seed: SEED,
    iterations: 0,
    operations: Object.fromEntries(OPERATIONS.map((o) => [o, 0])),
    killPoints: { 'after-send': 0, 'while-polling': 0 },
    acknowledgedBeforeKill: 0,
    invariants: Object.fromEntries(INVARIANTS.map((i) => [i, { passed: 0, failed: 0 }])) as Figures['invariants'],
    restartToConvergedMs: [],
  };
  const dataDir = tempDataDir();
  let grid: GridHandle | undefined;

  afterAll(async () => {
    await grid?.kill().catch(() => undefined);
    killRecordedPods(dataDir);
    // Pods Grid spawned but never recorded are found only by their environment.
    for (const p of podProcesses(RUN_MARK)) killGroup(p.pgid);
    await cleanupAll();
    if (REPORT) fs.writeFileSync(REPORT, JSON.stringify(figures, null, 2) + '\n');
  });

  it(`keeps every acknowledged change and stays consistent over ${ITERATIONS} kills (seed ${SEED})`, async () => {
    process.stdout.write(`crash faults: seed ${SEED} (rerun with GRID_FAULTS_SEED=${SEED}), ${ITERATIONS} iterations\n`);
    const rand = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const boot = () => startGrid({ dataDir, env: { [MARK_NAME]: MARK_VALUE, TICK_MS: '200' } });

    grid = await boot();
    for (const y of [serviceYaml('a', 1, 'v1', 'Rolling'), serviceYaml('b', 1, 'v1', 'Rolling'), GROUP_YAML]) expect((await applyYaml(grid, y)).status).toBe(200);
    await settle(grid);

    for (let i = 1; i <= ITERATIONS; i++) {
      const g = grid;
      const state = await readState(g);
      const has = (s: string) => state.services.some((x) => x.name === s);
      const op = pick(OPERATIONS);
      const killPoint: KillPoint = rand() < 0.5 ? 'after-send' : 'while-polling';
      // Half the kills land in the first 30 ms, while Grid is still reading or storing the request; the rest anywhere in the window.
      const killDelay = Math.floor(rand() * (rand() < 0.5 ? 30 : MAX_KILL_DELAY_MS));
      const polls = Math.floor(rand() * 6);
      const steps = request(op);
      figures.operations[op]++;
      figures.killPoints[killPoint]++;
      const label = `iteration ${i} (seed ${SEED}): ${op}, kill ${killPoint === 'after-send' ? `${killDelay} ms after sending` : `after ${polls} polls`}`;

      let acknowledged: Promise_ | undefined;
      const sent = steps.send(g).then(
        (p) => void (acknowledged = p),
        () => undefined,
      );
      if (killPoint === 'after-send') {
        await new Promise((r) => setTimeout(r, killDelay));
      } else {
        await sent;
        for (let n = 0; n < polls; n++) await json(`${g.url}/state`).catch(() => undefined);
      }
      const ackAtKill = acknowledged;
      await g.kill();
      grid = undefined;
      if (ackAtKill) figures.acknowledgedBeforeKill++;

      const restartedAt = Date.now();
      grid = await boot();
      try {
        await check('acknowledged', () => acknowledgedViolations(grid!, ackAtKill));
        await check('converged', () => convergedViolations(grid!));
        figures.restartToConvergedMs.push(Date.now() - restartedAt);
        await check('processes', () => processViolationsNow(grid!));
        await check('audit', () => auditViolations(grid!.url));
        await check('event-ids', async () => eventIdViolations(dataDir));
      } catch (e) {
        figures.failure = `${label}: ${(e as Error).message}`;
        throw new Error(figures.failure + `\nGrid's output:\n${grid.output().slice(-4000)}`);
      }
      figures.iterations = i;

      function request(kind: Operation): { send: (g: GridHandle) => Promise<Promise_ | undefined> } {
        const existing = SERVICES.filter(has);
        const svc = pick(existing.length ? existing : SERVICES);
        const otherVersion = (v: string | undefined) => pick(['v1', 'v2', 'v3'].filter((x) => x !== v));
        const versionOf = (s: string) => state.versions.get(s);
        switch (kind) {
          case 'apply': {
            const name = pick(SERVICES);
            const replicas = 1 + Math.floor(rand() * 2);
            const version = pick(['v1', 'v2', 'v3']);
            return { send: async (g) => stored(await applyYaml(g, serviceYaml(name, replicas, version, 'Rolling')), replicas, version) };
          }
          case 'delete':
            if (!has('c')) return request('apply');
            return {
              send: async (g) => {
                const r = await json(`${g.url}/services/c`, { method: 'DELETE' });
                return r.status >= 200 && r.status < 300 ? { kind: 'deleted', service: 'c' } : undefined;
              },
            };
          case 'scale': {
            const replicas = 1 + Math.floor(rand() * 2);
            return {
              send: async (g) => {
                const r = await json(`${g.url}/scale?service=${svc}&replicas=${replicas}`, { method: 'POST' });
                return r.status === 200 ? { kind: 'stored', service: svc, generation: r.body.generation, replicas } : undefined;
              },
            };
          }
          case 'rolling': {
            const replicas = Math.max(1, state.services.find((s) => s.name === svc)?.desired ?? 1);
            const version = otherVersion(versionOf(svc));
            return { send: async (g) => stored(await applyYaml(g, serviceYaml(svc, replicas, version, 'Rolling')), replicas, version) };
          }
          case 'canary': {
            const paused = [...state.rollouts].filter(([, r]) => r?.phase === 'Paused').map(([s]) => s);
            if (paused.length > 0) {
              const target = pick(paused);
              const cmd = pick(['promote', 'abort'] as const);
              return {
                send: async (g) => {
                  const r = await json(`${g.url}/services/${target}/rollout/${cmd}`, { method: 'POST' });
                  if (r.status !== 200) return undefined;
                  // A promote from the last pause completes the rollout; either way it must not be back at Paused on the step it left.
                  return { kind: 'rollout', service: target, phases: cmd === 'abort' ? ['Aborted', 'Completed'] : ['Progressing', 'Completed'] };
                },
              };
            }
            const replicas = Math.max(1, state.services.find((s) => s.name === svc)?.desired ?? 1);
            const version = otherVersion(versionOf(svc));
            return { send: async (g) => stored(await applyYaml(g, serviceYaml(svc, replicas, version, 'Canary')), replicas, version) };
          }
          case 'failover': {
            const to = state.active === 'a' ? 'b' : 'a';
            return {
              send: async (g) => {
                const r = await json(`${g.url}/failover/${GROUP}/switch?to=${to}`, { method: 'POST' });
                return r.status === 200 ? { kind: 'active', group: GROUP, target: to } : undefined;
              },
            };
          }
        }
      }
    }
    expect(figures.iterations).toBe(ITERATIONS);

    async function check(name: Invariant, violations: () => Promise<string[]>): Promise<void> {
      let last: string[] = [];
      try {
        await expectEventually(async () => {
          last = await violations();
          return last.length === 0;
        }, SETTLE_MS, 100);
        figures.invariants[name].passed++;
      } catch {
        figures.invariants[name].failed++;
        throw new Error(`${name}: ${last.join('; ')}`);
      }
    }
  }, 60_000 + ITERATIONS * 60_000);
});

function stored(r: { status: number; body: any }, replicas: number, version: string): Promise_ | undefined {
  if (r.status !== 200) return undefined;
  const a = r.body.applied[0];
  return { kind: 'stored', service: a.service, generation: a.generation, replicas, version };
}

interface Snapshot extends StateView {
  versions: Map<string, string>;
  rollouts: Map<string, RolloutView | null>;
  active?: string;
}

async function readState(g: GridHandle): Promise<Snapshot> {
  const { body } = await json(`${g.url}/state`);
  const versions = new Map<string, string>();
  const rollouts = new Map<string, RolloutView | null>();
  for (const s of body.services) {
    versions.set(s.name, s.version);
    const r = await json(`${g.url}/services/${s.name}/rollout`);
    rollouts.set(s.name, r.status === 200 ? r.body : null);
  }
  const f = await json(`${g.url}/failover/${GROUP}`);
  return { services: body.services, pods: body.pods, versions, rollouts, active: f.body?.active };
}

async function settle(g: GridHandle): Promise<void> {
  await expectEventually(async () => (await convergedViolations(g)).length === 0, SETTLE_MS, 100);
}

async function acknowledgedViolations(g: GridHandle, p: Promise_ | undefined): Promise<string[]> {
  if (!p) return [];
  if (p.kind === 'deleted') {
    const r = await json(`${g.url}/services/${p.service}`);
    return r.status === 404 ? [] : [`acknowledged delete of ${p.service} was undone: ${r.status}`];
  }
  if (p.kind === 'stored') {
    const r = await json(`${g.url}/services/${p.service}`);
    if (r.status !== 200) return [`acknowledged apply of ${p.service} (generation ${p.generation}) is missing: ${r.status}`];
    const problems: string[] = [];
    if (r.body.generation !== p.generation) problems.push(`${p.service} is at generation ${r.body.generation}, acknowledged ${p.generation}`);
    if (r.body.spec.replicas !== p.replicas) problems.push(`${p.service} has ${r.body.spec.replicas} replicas, acknowledged ${p.replicas}`);
    const version = r.body.spec.env.find((e: { name: string }) => e.name === 'VERSION')?.value;
    if (p.version && version !== p.version) problems.push(`${p.service} runs VERSION ${version}, acknowledged ${p.version}`);
    return problems;
  }
  if (p.kind === 'rollout') {
    const r = await json(`${g.url}/services/${p.service}/rollout`);
    return p.phases.includes(r.body?.phase) ? [] : [`acknowledged rollout command on ${p.service} was lost: phase ${r.body?.phase}, want one of ${p.phases.join(', ')}`];
  }
  const r = await json(`${g.url}/failover/${p.group}`);
  return r.body?.active === p.target ? [] : [`acknowledged switch of ${p.group} to ${p.target} was lost: active ${r.body?.active}`];
}

async function convergedViolations(g: GridHandle): Promise<string[]> {
  const s = await readState(g);
  const problems = s.services.flatMap((svc) => convergenceViolations(svc, s.pods, s.rollouts.get(svc.name) ?? null));
  if (s.active !== 'a' && s.active !== 'b') problems.push(`failover group ${GROUP} has no valid active target: ${s.active}`);
  return problems;
}

async function processViolationsNow(g: GridHandle): Promise<string[]> {
  const before = await readState(g);
  const procs = podProcesses(RUN_MARK);
  const after = await readState(g);
  return processViolations(procs, [before, after]);
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone
  }
}
