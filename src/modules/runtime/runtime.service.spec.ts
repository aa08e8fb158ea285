import { FakeClock } from '../../common/clock/fake-clock.js';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource, type Repository } from 'typeorm';
import { loadConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import type { EventMap, EventName } from '../../common/events/event-map.js';
import type { EventsService, GridEventInput } from '../events/events.service.js';
import type { RuntimeName, ServiceSpec } from '../specs/spec.types.js';
import { specFixture } from '../../../test/utils/fixtures.js';
import { expectEventually } from '../../../test/utils/grid.js';
import type { AdoptCandidate, DriverSink, PodDriver, PodStartSpec, StartedPod } from './drivers/pod-driver.js';
import { START_SLOT_MAX_MS } from './pod-lifecycle.js';
import { PodEntity } from './pod.entity.js';
import type { PodTemplate } from './pod.types.js';
import { ProbeRunner } from './probe-runner.js';
import { RuntimeService } from './runtime.service.js';
import { MetricsService } from '../metrics/metrics.service.js';

const NOW = 1_800_000_000_000;

/** A driver that records what it is asked and answers as told; pods run nowhere. */
class FakeDriver implements PodDriver {
  probesOverHttp = false;
  sink!: DriverSink;
  readonly starts: PodStartSpec[] = [];
  readonly stops: { podId: string; graceMs: number }[] = [];
  port = 0;
  cpuUse = new Map<string, number>();
  adopt: (c: AdoptCandidate) => Promise<boolean> = async () => true;
  /** When set, start() waits until the test calls finishStart(podId). */
  holdStarts = false;
  readonly held = new Map<string, () => void>();
  inFlight = 0;
  maxInFlight = 0;
  private nextPid = 1000;

  constructor(readonly name: RuntimeName = 'process') {}

  attach(sink: DriverSink): void {
    this.sink = sink;
  }

  async start(p: PodStartSpec): Promise<StartedPod> {
    this.starts.push(p);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      if (this.holdStarts) await new Promise<void>((r) => this.held.set(p.podId, r));
      return { pid: this.nextPid++, port: this.port, procStart: '42' };
    } finally {
      this.inFlight--;
    }
  }

  finishStart(podId: string): void {
    const finish = this.held.get(podId);
    if (!finish) throw new Error(`no start of ${podId} is held (held: ${[...this.held.keys()].join(', ')})`);
    this.held.delete(podId);
    finish();
  }

  started(podId: string): boolean {
    return this.starts.some((s) => s.podId === podId);
  }

  async stop(podId: string, graceMs: number): Promise<void> {
    this.stops.push({ podId, graceMs });
  }

  async kill(): Promise<void> {}

  cpu(podId: string): number | undefined {
    return this.cpuUse.get(podId);
  }

  async shutdown(): Promise<void> {}
}

function template(revision: number, spec: Partial<ServiceSpec> = {}, templateHash = `h${revision}`): PodTemplate {
  return { service: 'api', revision, templateHash, version: `v${revision}`, spec: specFixture({ runtime: 'process', image: undefined, command: ['server'], ...spec }) };
}

describe(RuntimeService.name, () => {
  let dir: string;
  let db: DataSource;
  let repo: Repository<PodEntity>;
  let bus: EventBus;
  let driver: FakeDriver;
  let probes: ProbeRunner;
  let records: GridEventInput[];
  let seen: { name: EventName; payload: unknown }[];
  let sut: RuntimeService;
  let metrics: MetricsService;
  let clock: FakeClock;
  const config = { ...loadConfig({}, os.tmpdir()), url: 'http://127.0.0.1:18080' };

  function watch<K extends EventName>(name: K): EventMap[K][] {
    const got: EventMap[K][] = [];
    bus.on(name, (e) => void got.push(e));
    return got;
  }

  async function readyPod(t = template(1)) {
    const [pod] = sut.create(t, 1, 'Test', 'test');
    await expectEventually(() => pod.phase === 'Running');
    driver.sink.update(pod.id, { phase: 'Ready', ready: true });
    return pod;
  }

  beforeEach(async () => {
    clock = new FakeClock(NOW);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-runtime-spec-'));
    db = new DataSource({ type: 'better-sqlite3', database: path.join(dir, 'grid.db'), entities: [PodEntity], synchronize: true });
    await db.initialize();
    repo = db.getRepository(PodEntity);
    bus = new EventBus(new EventEmitter2());
    seen = [];
    records = [];
    const events = { record: (e: GridEventInput) => void records.push(e) } as unknown as EventsService;
    driver = new FakeDriver();
    probes = new ProbeRunner(clock);
    metrics = new MetricsService();
    sut = new RuntimeService([driver], clock, config, repo, bus, events, probes, metrics);
  });

  afterEach(async () => {
    await sut.beforeApplicationShutdown();
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  it('create() adds pods that carry their template and announces each change as pod.changed', async () => {
    const changed = watch('pod.changed');
    const t = template(1);

    const pods = sut.create(t, 2, 'ScaledUp', 'two more');

    expect(pods.map((p) => [p.template, p.createdAt, p.phase])).toEqual([
      [t, NOW, 'Pending'],
      [t, NOW, 'Pending'],
    ]);
    await expectEventually(() => changed.length === 4);
    expect(changed.map((e) => [e.podId, e.phase])).toEqual([
      [pods[0].id, 'Pending'],
      [pods[1].id, 'Pending'],
      [pods[0].id, 'Running'],
      [pods[1].id, 'Running'],
    ]);
    expect(records.filter((r) => r.type === 'pod.created').map((r) => r.pod)).toEqual(pods.map((p) => p.id));
  });

  it('keeps a started pod running when its record cannot be written, counts the failure and writes it later', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await db.query('ALTER TABLE pods RENAME TO pods_away');
    const pod = await readyPod();
    await sut.flushRecords();

    expect(pod.phase).toBe('Ready');
    expect(driver.stops).toEqual([]);
    expect((await metrics.persistErrors.get()).values.find((v) => v.labels.store === 'pods')?.value).toBe(1);

    await db.query('ALTER TABLE pods_away RENAME TO pods');
    clock.advance(200);
    await sut.flushRecords();
    expect(await repo.findOneBy({ id: pod.id })).toMatchObject({ pid: pod.pid, revision: 1 });
  });

  it('gives the pod GRID_URL from the config and the spec env', async () => {
    sut.create(template(1, { env: [{ name: 'VERSION', value: 'v1' }] }), 1, 'Test', 'test');

    await expectEventually(() => driver.starts.length === 1);
    expect(driver.starts[0].env).toMatchObject({ VERSION: 'v1', GRID_URL: 'http://127.0.0.1:18080', GRID_SERVICE: 'api', GRID_VERSION: 'v1' });
  });

  it('restart() starts the pod again from its own template, whatever else was created since', async () => {
    const old = template(1, { env: [{ name: 'WHICH', value: 'old' }] });
    const [pod] = sut.create(old, 1, 'Test', 'test');
    sut.create(template(2, { env: [{ name: 'WHICH', value: 'new' }] }), 1, 'Test', 'test');
    await expectEventually(() => pod.phase === 'Running');
    driver.sink.exited(pod.id, { code: 1, signal: null, reason: 'Error', message: 'boom' });

    sut.restart(pod.id, 1, 'Restart', 'it exited');

    await expectEventually(() => driver.starts.filter((s) => s.podId === pod.id).length === 2);
    const again = driver.starts.filter((s) => s.podId === pod.id)[1];
    expect([again.revision, again.spec, again.env.WHICH, pod.restarts]).toEqual([1, old.spec, 'old', 1]);
  });

  it('delete() of a serving pod emits pod.draining and stops the pod only once what it waits for is done', async () => {
    const pod = await readyPod();
    let finish!: () => void;
    const draining = watch('pod.draining');
    bus.on('pod.draining', (e) => e.waitFor(new Promise<void>((r) => (finish = r))));

    const deleted = sut.delete([pod.id], 'ScaledDown', 'fewer');

    await expectEventually(() => draining.length === 1);
    expect(draining[0]).toMatchObject({ service: 'api', podId: pod.id, timeoutMs: 5000 });
    expect(pod.phase).toBe('Terminating');
    await new Promise((r) => setImmediate(r));
    expect(driver.stops).toEqual([]);
    finish();
    await deleted;
    expect(driver.stops).toEqual([{ podId: pod.id, graceMs: 10_000 }]);
    expect(sut.get(pod.id)).toBeUndefined();
  });

  it('delete() waits no longer than the drain bound (the grace period when shorter)', async () => {
    const pod = await readyPod(template(1, { terminationGracePeriodSeconds: 3 }));
    bus.on('pod.draining', (e) => e.waitFor(new Promise<void>(() => undefined)));

    const deleting = sut.delete([pod.id], 'ScaledDown', 'fewer');
    await new Promise((r) => setImmediate(r));
    clock.advance(2_999);
    await new Promise((r) => setImmediate(r));
    expect(driver.stops).toEqual([]);

    clock.advance(1);
    await deleting;
    expect(driver.stops).toEqual([{ podId: pod.id, graceMs: 3000 }]);
  });

  it('does not drain a pod that was not serving', async () => {
    const [pod] = sut.create(template(1), 1, 'Test', 'test');
    await expectEventually(() => pod.phase === 'Running');
    const draining = watch('pod.draining');

    await sut.delete([pod.id], 'ScaledDown', 'fewer');

    expect([draining.length, driver.stops.length]).toEqual([0, 1]);
  });

  it('emits probe.passed for a passing readiness probe and keeps the sample on the pod', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      driver.probesOverHttp = true;
      driver.port = (server.address() as AddressInfo).port;
      const passed = watch('probe.passed');
      const readinessProbe = { httpGet: { path: '/ready' }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

      const [pod] = sut.create(template(1, { readinessProbe }), 1, 'Test', 'test');

      await expectEventually(() => passed.length > 0 && pod.ready);
      expect(passed[0]).toEqual({ service: 'api', podId: pod.id });
      expect(pod.probes.readiness[0]).toMatchObject({ at: NOW, ok: true, status: 200 });
    } finally {
      probes.stopAll();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('reads CPU from the driver without writing it into the pod', async () => {
    const [pod] = sut.create(template(1), 1, 'Test', 'test');
    driver.cpuUse.set(pod.id, 42);
    const before = JSON.stringify(pod);

    expect(sut.cpuOf(pod)).toBe(42);
    expect(JSON.stringify(pod)).toBe(before);
  });

  it('relabel() moves pods of a re-applied template to its revision, announces it and records it for adoption', async () => {
    const [pod] = sut.create(template(1), 1, 'Test', 'test');
    await sut.flushRecords();
    await expectEventually(async () => (await repo.findOneBy({ id: pod.id }))?.revision === 1);
    const changed = watch('pod.changed');
    const again = template(3, {}, 'h1');

    sut.relabel('api', again);

    expect([pod.revision, pod.version, pod.template, pod.labels['grid.revision'], pod.labels['grid.version']]).toEqual([3, 'v3', again, '3', 'v3']);
    expect(changed.map((e) => e.podId)).toEqual([pod.id]);
    await sut.flushRecords();
    await expectEventually(async () => {
      const row = await repo.findOneBy({ id: pod.id });
      return row?.revision === 3 && row.version === 'v3' && JSON.parse(row.labels)['grid.revision'] === '3';
    });
    expect(sut.templateFor('api', 3)).toBe(again);
    expect(sut.templateFor('api', 1)).toBeUndefined();
  });

  it('adopt() logs a driver error with its cause and counts it apart from pods that are gone', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const row = { service: 'api', runtime: 'process', revision: 1, templateHash: 'h1', version: 'v1', port: 40000, procStart: '42', containerId: null, createdAt: NOW, startedAt: NOW, restarts: 0, labels: '{}' };
    await repo.save([
      { ...row, id: 'api-broken', pid: 4242 },
      { ...row, id: 'api-gone', pid: 4343 },
    ]);
    driver.adopt = async (c) => {
      if (c.podId === 'api-broken') throw new Error('EACCES reading /proc/4242/stat');
      return false;
    };

    const result = await sut.adopt(async (_service, revision) => template(revision));

    expect(result).toEqual({ adopted: 0, forgotten: 1, failed: 1 });
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('EACCES reading /proc/4242/stat'));
    expect(records.map((r) => [r.pod, r.reason])).toEqual([
      ['api-broken', 'AdoptionFailed'],
      ['api-gone', 'NotFound'],
    ]);
    expect(records[0].message).toContain('EACCES reading /proc/4242/stat');
    await sut.flushRecords();
    expect(await repo.count()).toBe(0);
  });

  it('adopt() takes over a live pod with the template of its revision', async () => {
    await repo.save({ id: 'api-live', service: 'api', runtime: 'process', revision: 2, templateHash: 'h2', version: 'v2', pid: 4242, port: 40000, procStart: '42', containerId: null, createdAt: NOW, startedAt: NOW, restarts: 0, labels: '{}' });
    const changed = watch('pod.changed');

    const result = await sut.adopt(async (_service, revision) => template(revision));

    expect(result).toEqual({ adopted: 1, forgotten: 0, failed: 0 });
    expect(sut.get('api-live')?.template.revision).toBe(2);
    expect(changed.map((e) => [e.podId, e.phase])).toEqual([['api-live', 'Running']]);
  });

  describe('admission', () => {
    let sim: FakeDriver;

    function build(limits: { maxPods: number; maxStarting: number }) {
      sim = new FakeDriver('sim');
      sut = new RuntimeService([driver, sim], clock, { ...config, ...limits }, repo, bus, events(), probes, metrics);
    }

    function events() {
      return { record: (e: GridEventInput) => void records.push(e) } as unknown as EventsService;
    }

    const unschedulable = () => records.filter((r) => r.type === 'pod.unschedulable');

    it('keeps pods beyond GRID_MAX_PODS Pending and unstarted, saying why, with one event each', async () => {
      build({ maxPods: 2, maxStarting: 10 });

      const pods = sut.create(template(1), 3, 'ScaledUp', 'three');
      await expectEventually(() => pods[0].phase === 'Running' && pods[1].phase === 'Running');
      sut.create(template(1), 0, 'Resync', 'nothing to add');

      expect([pods[2].phase, pods[2].message]).toEqual(['Pending', 'Unschedulable: node full, 2 of 2 pods']);
      expect(driver.started(pods[2].id)).toBe(false);
      expect(unschedulable().map((r) => [r.pod, r.reason, r.message])).toEqual([[pods[2].id, 'Unschedulable', `pod ${pods[2].id} is not started: node full, 2 of 2 pods`]]);
      expect(unschedulable()[0].explain).toContain('GRID_MAX_PODS=2');
    });

    it('starts the oldest waiting pod when a pod is removed, and only that one', async () => {
      build({ maxPods: 2, maxStarting: 10 });
      const [first] = sut.create(template(1), 2, 'Test', 'two');
      const [older] = sut.create(template(1), 1, 'Test', 'waits');
      clock.advance(1000);
      const [newer] = sut.create(template(1), 1, 'Test', 'waits too');
      await expectEventually(() => first.phase === 'Running');

      await sut.delete([first.id], 'ScaledDown', 'fewer');

      await expectEventually(() => older.phase === 'Running');
      expect([older.message, newer.phase, newer.message, driver.started(newer.id)]).toEqual([undefined, 'Pending', 'Unschedulable: node full, 2 of 2 pods', false]);
      expect(unschedulable().map((r) => r.pod)).toEqual([older.id, newer.id]);
    });

    it('removes a waiting pod without starting it or freeing a slot; the next removal admits the pod behind it', async () => {
      build({ maxPods: 1, maxStarting: 10 });
      const [running] = sut.create(template(1), 1, 'Test', 'one');
      const [waiting, last] = sut.create(template(1), 2, 'Test', 'two more');

      await sut.delete([waiting.id], 'ScaledDown', 'fewer');

      await expectEventually(() => running.phase === 'Running');
      expect([sut.get(waiting.id), driver.started(waiting.id), driver.started(last.id), last.phase]).toEqual([undefined, false, false, 'Pending']);
      await sut.delete([running.id], 'ScaledDown', 'fewer');
      await expectEventually(() => last.phase === 'Running');
    });

    it('does not count simulated pods against the node capacity', async () => {
      build({ maxPods: 1, maxStarting: 1 });

      const simPods = sut.create(template(1, { runtime: 'sim' }), 3, 'Test', 'sim');
      const [real] = sut.create(template(1), 1, 'Test', 'real');

      await expectEventually(() => real.phase === 'Running' && simPods.every((p) => p.phase === 'Running'));
      expect([sim.starts.length, unschedulable().length]).toEqual([3, 0]);
    });

    it('never has more than GRID_MAX_STARTING starts in flight, and starts the queue in order', async () => {
      build({ maxPods: 100, maxStarting: 2 });
      driver.holdStarts = true;

      const pods = sut.create(template(1), 5, 'ScaledUp', 'five');

      await expectEventually(() => driver.held.size === 2);
      expect(pods.slice(2).map((p) => [p.phase, p.message])).toEqual(Array(3).fill(['Pending', 'Waiting to start: 2 pods are starting (at most 2 at once)']));
      for (const next of pods.slice(2)) {
        const [oldest] = driver.held.keys();
        driver.finishStart(oldest);
        await expectEventually(() => driver.held.has(next.id));
        expect(driver.held.size).toBe(2);
      }
      for (const id of [...driver.held.keys()]) driver.finishStart(id);
      await expectEventually(() => pods.every((p) => p.phase === 'Running'));
      expect(driver.maxInFlight).toBe(2);
      expect(driver.starts.map((s) => s.podId)).toEqual(pods.map((p) => p.id));
      expect(pods.map((p) => p.message)).toEqual(Array(5).fill(undefined));
      expect(records.filter((r) => r.type !== 'pod.created' && r.type !== 'pod.started')).toEqual([]);
    });

    it('drops a queued pod from the start queue when it is deleted', async () => {
      build({ maxPods: 100, maxStarting: 1 });
      driver.holdStarts = true;
      const [starting, queued, after] = sut.create(template(1), 3, 'Test', 'three');
      await expectEventually(() => driver.held.has(starting.id));

      await sut.delete([queued.id], 'ScaledDown', 'fewer');
      driver.finishStart(starting.id);

      await expectEventually(() => driver.held.has(after.id));
      expect(driver.started(queued.id)).toBe(false);
    });

    it('holds the start slot of a pod probed over HTTP until its port opens, or START_SLOT_MAX_MS', async () => {
      build({ maxPods: 100, maxStarting: 1 });
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      driver.port = (closed.address() as AddressInfo).port;
      await new Promise((r) => closed.close(r));
      driver.probesOverHttp = true;

      const [silent, next] = sut.create(template(1), 2, 'Test', 'two');
      // The slot is kept or freed before the pod turns Running, and a freed slot starts the next pod at once.
      await expectEventually(() => silent.phase === 'Running');
      expect(driver.started(next.id)).toBe(false);
      clock.advance(START_SLOT_MAX_MS);

      await expectEventually(() => next.phase === 'Running');
    });

    it('paces restarts too: a restarted pod waits for a free start slot', async () => {
      build({ maxPods: 100, maxStarting: 1 });
      const [crashed] = sut.create(template(1), 1, 'Test', 'one');
      await expectEventually(() => crashed.phase === 'Running');
      driver.holdStarts = true;
      const [starting] = sut.create(template(1), 1, 'Test', 'another');
      await expectEventually(() => driver.held.has(starting.id));
      driver.sink.exited(crashed.id, { code: 1, signal: null, reason: 'Error', message: 'boom' });

      sut.restart(crashed.id, 1, 'Restart', 'it exited');

      expect([crashed.phase, crashed.message, driver.starts.filter((s) => s.podId === crashed.id).length]).toEqual(['Pending', 'Waiting to start: 1 pods are starting (at most 1 at once)', 1]);
      driver.finishStart(starting.id);
      await expectEventually(() => driver.held.has(crashed.id));
    });

    it('counts adopted pods against the capacity', async () => {
      build({ maxPods: 1, maxStarting: 1 });
      await repo.save({ id: 'api-live', service: 'api', runtime: 'process', revision: 1, templateHash: 'h1', version: 'v1', pid: 4242, port: 40000, procStart: '42', containerId: null, createdAt: NOW, startedAt: NOW, restarts: 0, labels: '{}' });
      await sut.adopt(async (_service, revision) => template(revision));

      const [pod] = sut.create(template(1), 1, 'Test', 'one more');

      expect([pod.phase, pod.message]).toEqual(['Pending', 'Unschedulable: node full, 1 of 1 pods']);
    });
  });
});
