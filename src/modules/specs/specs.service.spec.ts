import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
import type { GridConfig } from '../../common/config/config.js';
import type { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from './specs.service.js';

const runtime = { has: () => true, unavailableReason: () => undefined, volumePaths: async () => [] } as unknown as RuntimeService;
const config = { workDir: process.cwd(), failoverUrlAllowlist: ['http://127.0.0.1:9000'] } as GridConfig;

function manifest(name: string, spec: Record<string, unknown> = {}): string {
  return JSON.stringify({ kind: 'Service', metadata: { name }, spec: { replicas: 1, image: 'local://demo@v1', ...spec } });
}

describe(SpecsService.name, () => {
  let store: TestStore;
  let sut: SpecsService;
  const dirs: string[] = [];

  async function open(dir?: string): Promise<void> {
    store = await openTestStore({ dir });
    dirs.push(store.dir);
    sut = new SpecsService(store.ds, store.clock, store.bus, store.events, runtime, config);
    await sut.onModuleInit();
  }

  beforeEach(() => open());
  afterEach(async () => {
    await store.close();
    for (const d of dirs.splice(0)) removeStore(d);
  });

  it('creates generation 1, reports an identical apply as unchanged and a replicas change as configured', async () => {
    const created = await sut.applyBody(manifest('api'), 'application/json', 'test');
    const same = await sut.applyBody(manifest('api'), 'application/json', 'test');
    const scaled = await sut.applyBody(manifest('api', { replicas: 2 }), 'application/json', 'test');

    expect([created[0].result, same[0].result, scaled[0].result]).toEqual(['created', 'unchanged', 'configured']);
    expect([scaled[0].generation, scaled[0].revision]).toEqual([2, 1]);
  });

  it('makes a new revision only when the pod template changes', async () => {
    await sut.applyBody(manifest('api'), 'application/json', 'test');
    const r = await sut.applyBody(manifest('api', { image: 'local://demo@v2' }), 'application/json', 'test');

    expect([r[0].generation, r[0].revision, r[0].version]).toEqual([2, 2, 'v2']);
  });

  it('dry run: says what each document would change, field by field, and stores and records nothing', async () => {
    await sut.applyBody(manifest('api', { env: [{ name: 'VERSION', value: 'v1' }] }), 'application/json', 'test');
    await sut.applyBody(manifest('same'), 'application/json', 'test');
    const eventsBefore = store.events.lastEvents(100).length;

    const { applied: r, imported } = await sut.dryRunDocuments(`[${manifest('api', { replicas: 3, env: [{ name: 'VERSION', value: 'v2' }] })}, ${manifest('web')}, ${manifest('same')}]`, 'application/json');

    expect(imported).toEqual([]);
    expect(r.map((x) => [x.service, x.result])).toEqual([['api', 'configured'], ['web', 'created'], ['same', 'unchanged']]);
    expect(r[0]).toMatchObject({ generation: 2, revision: 2, templateChanged: true, changes: [{ path: 'spec.replicas', from: 1, to: 3 }, { path: 'spec.env[0].value', from: 'v1', to: 'v2' }] });
    expect(sut.names().sort()).toEqual(['api', 'same']);
    expect(sut.require('api').generation).toBe(1);
    expect(store.events.lastEvents(100)).toHaveLength(eventsBefore);
  });

  it('dry run: gives the stored manifest as live and the one the apply would store as merged, defaults filled, for services and groups', async () => {
    await sut.applyDocuments(`[${manifest('api')}, ${JSON.stringify({ kind: 'FailoverGroup', metadata: { name: 'shop' }, spec: { targets: [{ service: 'api' }] } })}]`, 'application/json', 'test');
    const stored = sut.require('api').manifest;
    const storedGroup = sut.group('shop')!.manifest;

    const { applied: r } = await sut.dryRunDocuments(
      `[${manifest('api', { replicas: 2 })}, ${manifest('web')}, ${JSON.stringify({ kind: 'FailoverGroup', metadata: { name: 'shop' }, spec: { targets: [{ service: 'api' }] } })}]`,
      'application/json',
    );

    const [api, web, shop] = r;
    expect(api.live).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: stored.metadata, spec: stored.spec });
    expect(api.merged).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: stored.metadata, spec: { ...stored.spec, replicas: 2 } });
    // Defaults the document left out are filled in merged exactly as the stored manifest has them.
    expect(web).toMatchObject({ service: 'web', result: 'created', live: null, merged: { kind: 'Service', spec: { replicas: 1, revisionHistoryLimit: stored.spec.revisionHistoryLimit, rollout: stored.spec.rollout } } });
    expect(shop).toMatchObject({ failoverGroup: 'shop', result: 'unchanged', changes: [] });
    expect([shop.live, shop.merged]).toEqual([
      { apiVersion: 'v1', kind: 'FailoverGroup', metadata: storedGroup.metadata, spec: storedGroup.spec },
      { apiVersion: 'v1', kind: 'FailoverGroup', metadata: storedGroup.metadata, spec: storedGroup.spec },
    ]);
  });

  it('dry run refuses what apply refuses, with the same field named', async () => {
    await expect(sut.dryRunDocuments(`[${manifest('good')}, ${manifest('bad', { replicas: -1 })}]`, 'application/json')).rejects.toThrow('[1].spec.replicas');
  });

  it('stores nothing when one document of a request is invalid', async () => {
    const body = `[${manifest('good')}, ${manifest('bad', { replicas: -1 })}]`;

    await expect(sut.applyBody(body, 'application/json', 'test')).rejects.toThrow('[1].spec.replicas');
    expect(sut.names()).toEqual([]);
  });

  it('keeps what it stored across a restart (a new instance on the same file)', async () => {
    await sut.applyBody(manifest('api', { image: 'local://demo@v1' }), 'application/json', 'test');
    await sut.applyBody(manifest('api', { image: 'local://demo@v2' }), 'application/json', 'test');
    const uid = sut.require('api').uid;

    const dir = store.dir;
    await store.close();
    await open(dir);

    const s = sut.require('api');
    expect([s.generation, s.revision, s.version, s.uid]).toEqual([2, 2, 'v2', uid]);
    expect(sut.revisionsOf('api').map((r) => r.version)).toEqual(['v2', 'v1']);
  });

  it('gives a service created again after a delete a new uid, and says both in its events', async () => {
    const seen: { type: string; uid: string }[] = [];
    store.bus.on('spec.applied', (e) => void seen.push({ type: 'applied', uid: e.uid }));
    store.bus.on('spec.deleted', (e) => void seen.push({ type: 'deleted', uid: e.uid }));

    await sut.applyBody(manifest('api'), 'application/json', 'test');
    const first = sut.require('api').uid;
    await sut.delete('api');
    await sut.applyBody(manifest('api'), 'application/json', 'test');
    const second = sut.require('api').uid;

    expect(second).not.toBe(first);
    // Every event of each incarnation carries its uid, the 'created' one included.
    expect(store.events.query({ service: 'api', serviceUid: first, limit: 10 }).map((e) => e.type)).toEqual(['spec.applied', 'spec.deleted']);
    expect(store.events.query({ service: 'api', limit: 10 }).map((e) => [e.type, e.serviceUid])).toEqual([['spec.applied', second]]);
    expect(seen).toEqual([
      { type: 'applied', uid: first },
      { type: 'deleted', uid: first },
      { type: 'applied', uid: second },
    ]);
  });

  it('prunes revisions beyond revisionHistoryLimit but never a pinned one', async () => {
    for (let v = 1; v <= 4; v++) await sut.applyBody(manifest('api', { image: `local://demo@v${v}`, revisionHistoryLimit: 1 }), 'application/json', 'test');
    expect(sut.revisionsOf('api').map((r) => r.revision)).toEqual([4, 3]);

    sut.pinRevisions('api', [4]);
    for (let v = 5; v <= 6; v++) await sut.applyBody(manifest('api', { image: `local://demo@v${v}`, revisionHistoryLimit: 1 }), 'application/json', 'test');

    expect(sut.revisionsOf('api').map((r) => r.revision)).toEqual([6, 4]);
  });

  it('refuses a spec that needs a runtime this Grid lacks, naming spec.image', async () => {
    sut = new SpecsService(store.ds, store.clock, store.bus, store.events, { has: (r: string) => r !== 'docker', unavailableReason: () => undefined } as unknown as RuntimeService, config);

    await expect(sut.applyBody(manifest('web', { image: 'nginx:1.25', port: 80 }), 'application/json', 'test')).rejects.toThrow('spec.image');
    expect(sut.names()).toEqual([]);
  });

  it('refuses a docker spec while the Docker socket does not answer, naming spec.image and the socket', async () => {
    const why = 'the Docker socket /run/nowhere.sock does not answer (connect ENOENT /run/nowhere.sock)';
    sut = new SpecsService(store.ds, store.clock, store.bus, store.events, { has: () => true, unavailableReason: (r: string) => (r === 'docker' ? why : undefined) } as unknown as RuntimeService, config);

    const refused = sut.applyBody(manifest('web', { image: 'grid-demo:v1', port: 8080 }), 'application/json', 'test');

    await expect(refused).rejects.toThrow(`spec.image: 'grid-demo:v1' needs the docker runtime, which is unavailable: ${why}`);
    expect(sut.names()).toEqual([]);
  });

  describe('failover groups', () => {
    function group(name: string, targets: unknown[] = [{ service: 'api' }, { url: 'http://127.0.0.1:9000' }], spec: Record<string, unknown> = {}): string {
      return JSON.stringify({ kind: 'FailoverGroup', metadata: { name }, spec: { targets, ...spec } });
    }

    it('applies groups beside services: created, unchanged, configured, each with its generation', async () => {
      const created = (await sut.applyDocuments(`[${manifest('api')}, ${group('web')}]`, 'application/json', 'test')).applied;
      const same = (await sut.applyDocuments(group('web'), 'application/json', 'test')).applied;
      const changed = (await sut.applyDocuments(group('web', undefined, { cooldownSeconds: 5 }), 'application/json', 'test')).applied;

      expect(created).toEqual([
        { service: 'api', result: 'created', generation: 1, revision: 1, version: 'v1' },
        { failoverGroup: 'web', result: 'created', generation: 1 },
      ]);
      expect([same, changed]).toEqual([[{ failoverGroup: 'web', result: 'unchanged', generation: 1 }], [{ failoverGroup: 'web', result: 'configured', generation: 2 }]]);
    });

    it('stores nothing of a body whose group is invalid, and refuses a url outside the allowlist', async () => {
      const body = `[${manifest('api')}, ${group('web', [{ url: 'http://169.254.169.254' }])}]`;

      await expect(sut.applyDocuments(body, 'application/json', 'test')).rejects.toThrow('[1].spec.targets[0].url: http://169.254.169.254 is not in GRID_FAILOVER_URL_ALLOWLIST');
      expect([sut.names(), sut.groups()]).toEqual([[], []]);
    });

    it('keeps one namespace with services both ways', async () => {
      await sut.applyDocuments(`[${manifest('api')}, ${group('web')}]`, 'application/json', 'test');

      await expect(sut.applyDocuments(group('api', [{ service: 'other' }]), 'application/json', 'test')).rejects.toThrow("metadata.name: 'api' is already a service");
      await expect(sut.applyDocuments(manifest('web'), 'application/json', 'test')).rejects.toThrow("metadata.name: 'web' is already a failover group");
    });

    it('emits group.applied and group.deleted, keeps groups across a restart, and deletes them', async () => {
      const seen: string[] = [];
      store.bus.on('group.applied', (e) => void seen.push(`applied ${e.group} ${e.generation}`));
      store.bus.on('group.deleted', (e) => void seen.push(`deleted ${e.group}`));
      await sut.applyDocuments(group('web'), 'application/json', 'test');
      const uid = sut.group('web')!.uid;

      const dir = store.dir;
      await store.close();
      await open(dir);
      expect(sut.group('web')).toMatchObject({ uid, generation: 1, manifest: { spec: { targets: [{ service: 'api' }, { url: 'http://127.0.0.1:9000' }] } } });
      store.bus.on('group.deleted', (e) => void seen.push(`deleted ${e.group}`));
      await sut.deleteGroup('web');

      expect(seen).toEqual(['applied web 1', 'deleted web']);
      expect(sut.groups()).toEqual([]);
      await expect(sut.deleteGroup('web')).rejects.toThrow("failover group 'web' not found");
    });
  });
});
