import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { parseManifests } from '../spec-validator.js';
import { containerPort, healthcheckPath, importCompose, isCompose, seconds } from './compose.js';

type Obj = Record<string, unknown>;

const fixture = (f: string): Obj => parse(fs.readFileSync(path.resolve('test/fixtures/kubernetes', f), 'utf8')) as Obj;
const grid = (name: string, spec: Obj, metadata: Obj = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, ...metadata }, spec });

describe(isCompose.name, () => {
  it.each<[Obj, boolean]>([
    [{ services: { a: {} } }, true],
    [{ version: '3.8', services: {} }, true],
    [{ kind: 'Service', services: {} }, false],
    [{ services: ['a'] }, false],
  ])('%j → %s', (doc, want) => expect(isCompose(doc)).toBe(want));
});

describe(healthcheckPath.name, () => {
  it.each<[string, string | undefined]>([
    ['curl -f http://localhost/health', '/health'],
    ['curl -fsS http://127.0.0.1:8080/health/ready || exit 1', '/health/ready'],
    ['/usr/bin/wget -qO- "http://localhost:3000/"', '/'],
    ['wget -q http://localhost', '/'],
    ['curl -f http://example.com/health', undefined],
    ['pg_isready -U postgres', undefined],
    ['echo http://localhost/x', undefined],
    // Many curls and no URL: one pass over the words, not a scan per curl (a 1 MiB line held Grid for 94 s).
    ['curl '.repeat(800), undefined],
    [`curl ${'x'.repeat(5000)} http://localhost/h`, undefined],
  ])('%j → %j', (line, want) => expect(healthcheckPath(line)).toBe(want));
});

describe(containerPort.name, () => {
  it.each<[unknown, number | undefined]>([
    ['8080:80', 80],
    ['80', 80],
    ['127.0.0.1:8080:80/tcp', 80],
    [3000, 3000],
    [{ target: 80, published: 8080 }, 80],
    [{ target: '80' }, 80],
    [{ target: '0x50' }, undefined],
    ['8000-8010:8000-8010', undefined],
  ])('%j → %s', (entry, want) => expect(containerPort(entry)).toBe(want));
});

describe(seconds.name, () => {
  it.each<[unknown, number | undefined]>([
    ['10s', 10],
    ['1m30s', 90],
    ['500ms', 0.5],
    ['1h', 3600],
    [5, 5],
    ['soon', undefined],
    ['10', undefined],
  ])('%j → %s', (raw, want) => expect(seconds(raw)).toBe(want));
});

describe(importCompose.name, () => {
  const sut = (services: Obj, top: Obj = {}) => importCompose({ ...top, services }, 0);

  it.each<[string, Obj, Obj, string[]]>([
    ['image → docker', { image: 'grid-demo:v1' }, { image: 'grid-demo:v1' }, []],
    ['a string command is split like a shell; with entrypoint it follows it', { image: 'py:3', entrypoint: 'python3', command: `-m http.server "$(PORT)"` }, { image: 'py:3', runtime: 'docker', command: ['python3', '-m', 'http.server', '$(PORT)'] }, []],
    ['a list command', { image: 'a:1', command: ['node', 'x.js'] }, { image: 'a:1', runtime: 'docker', command: ['node', 'x.js'] }, []],
    ['environment as a map (numbers become strings)', { image: 'a:1', environment: { A: 'x', N: 3 } }, { image: 'a:1', env: [{ name: 'A', value: 'x' }, { name: 'N', value: '3' }] }, []],
    ['environment as a list', { image: 'a:1', environment: ['A=x=y', 'B='] }, { image: 'a:1', env: [{ name: 'A', value: 'x=y' }, { name: 'B', value: '' }] }, []],
    ['ports "8080:80" → port 80 on a bridge; the rest ignored', { image: 'a:1', ports: ['8080:80', '9090:90'] }, { image: 'a:1', network: 'bridge', port: 80 }, ['ports[1]', 'ports[0] (host side)']],
    [
      'healthcheck curl of localhost → readinessProbe with interval, timeout, retries, start_period',
      { image: 'a:1', healthcheck: { test: ['CMD', 'curl', '-f', 'http://localhost:8080/health/ready'], interval: '5s', timeout: '500ms', retries: 4, start_period: '1m' } },
      { image: 'a:1', readinessProbe: { httpGet: { path: '/health/ready' }, periodSeconds: 5, timeoutSeconds: 1, initialDelaySeconds: 60, failureThreshold: 4 } },
      [],
    ],
    ['healthcheck CMD-SHELL wget without a path → /', { image: 'a:1', healthcheck: { test: 'wget -qO- http://127.0.0.1 || exit 1' } }, { image: 'a:1', readinessProbe: { httpGet: { path: '/' } } }, []],
    ['another healthcheck is ignored (the service still runs)', { image: 'a:1', healthcheck: { test: ['CMD', 'pg_isready'] } }, { image: 'a:1' }, ['healthcheck.test']],
    ['healthcheck disabled', { image: 'a:1', healthcheck: { disable: true } }, { image: 'a:1' }, []],
    ['deploy.replicas and resource limits', { image: 'a:1', deploy: { replicas: 3, resources: { limits: { cpus: '0.5', memory: '64M' }, reservations: {} }, restart_policy: {} } }, { image: 'a:1', replicas: 3, resources: { cpus: 0.5, memory: '64M' } }, ['deploy.restart_policy', 'deploy.resources.reservations']],
    ['stop_grace_period', { image: 'a:1', stop_grace_period: '1m' }, { image: 'a:1', terminationGracePeriodSeconds: 60 }, []],
    ['restart and build beside an image are ignored', { image: 'a:1', build: '.', restart: 'always' }, { image: 'a:1' }, ['restart', 'build']],
    ['depends_on as a list: started', { image: 'a:1', depends_on: ['db', 'cache'] }, { image: 'a:1', dependsOn: [{ service: 'db', condition: 'Started' }, { service: 'cache', condition: 'Started' }] }, []],
    [
      'depends_on with conditions: service_healthy waits for Available',
      { image: 'a:1', depends_on: { db: { condition: 'service_healthy', restart: true }, cache: {} } },
      { image: 'a:1', dependsOn: [{ service: 'db', condition: 'Available' }, { service: 'cache', condition: 'Started' }] },
      [],
    ],
  ])('%s', (_, service, spec, ignored) => {
    const r = sut({ web: service });
    expect(r.errors).toEqual([]);
    expect(r.documents).toEqual([grid('web', spec)]);
    expect(r.notes).toEqual([{ object: 'Compose/web', became: 'service/web', ignored, index: 0 }]);
  });

  it('a grid.dev/command label runs the command as a process; the image is kept as grid.dev/image, ports unused', () => {
    const r = sut({ api: { image: 'reg/api:1', command: 'python app.py', ports: ['8080:8080'], labels: { 'grid.dev/command': '["node","x.js"]', team: 'a' } } });
    expect(r.errors).toEqual([]);
    expect(r.documents).toEqual([grid('api', { command: ['node', 'x.js'] }, { annotations: { 'grid.dev/image': 'reg/api:1' } })]);
    expect(r.notes[0].ignored).toEqual(['labels.team', 'command', 'ports[0]']);
  });

  it('reads $$ as a literal $ and drops the PORT of a host-network container, which Grid sets itself', () => {
    const r = sut({ web: { image: 'a:1', environment: { PRICE: '$$5', PORT: '9101' } } });
    expect(r.errors).toEqual([]);
    expect(r.documents).toEqual([grid('web', { image: 'a:1', env: [{ name: 'PRICE', value: '$5' }] })]);
    expect(r.notes[0].ignored).toEqual(['environment.PORT']);
  });

  it('notes top-level keys Grid does not use; bare volume declarations say nothing more than their use', () => {
    expect(sut({ a: { image: 'a:1' } }, { version: '3.8', volumes: { dbdata: null, cache: {}, nfs: { driver: 'local', driver_opts: {} } }, networks: {} }).notes[0]).toEqual({ object: 'Compose', ignored: ['networks', 'volumes.nfs'], index: 0 });
  });

  describe('volumes', () => {
    const lost = (at: string) => `what db writes at ${at} is in its container only and will not survive a restart`;
    it.each<[string, Obj, Obj | undefined, string[], string | RegExp]>([
      [
        'a named volume, one replica: spec.storage with its target as mountPath',
        { image: 'postgres:16', volumes: ['dbdata:/var/lib/postgresql/data'] },
        { persistent: true, mountPath: '/var/lib/postgresql/data' },
        [],
        "volumes[0] dbdata:/var/lib/postgresql/data → spec.storage: { persistent: true, mountPath: /var/lib/postgresql/data }: a directory of db's own, kept across restarts and deletes, is bind-mounted at /var/lib/postgresql/data (it starts empty: the Docker volume dbdata's data is not copied)",
      ],
      ['the long syntax, replicas 1 given', { image: 'postgres:16', deploy: { replicas: 1 }, volumes: [{ type: 'volume', source: 'dbdata', target: '/data', volume: { nocopy: true } }] }, { persistent: true, mountPath: '/data' }, ['volumes[0].volume'], /^volumes\[0\] dbdata:\/data → spec\.storage: \{ persistent: true, mountPath: \/data \}: /],
      ['rw mode is a named volume too', { image: 'postgres:16', volumes: ['dbdata:/data:rw'] }, { persistent: true, mountPath: '/data' }, [], /^volumes\[0\] dbdata:\/data:rw → spec\.storage: \{ persistent: true, mountPath: \/data \}: /],
      ['a process (grid.dev/command) reads $GRID_POD_DATA', { image: 'a:1', labels: { 'grid.dev/command': '["node","db.js"]' }, volumes: ['dbdata:/data'] }, { persistent: true }, [], 'volumes[0] dbdata:/data → spec.storage.persistent: a process pod is not mounted anything, so the program must read its directory from $GRID_POD_DATA rather than /data'],
      ['more than one replica: not kept, said plainly', { image: 'postgres:16', deploy: { replicas: 3 }, volumes: ['dbdata:/data'] }, undefined, ['volumes[0]'], `volumes[0] dbdata:/data is not mounted: Compose shares one volume among 3 replicas and Grid gives each pod a directory of its own only as a StatefulSet does (set replicas 1 for spec.storage), so ${lost('/data')}`],
      ['a bind mount: not kept, said plainly', { image: 'postgres:16', volumes: ['./pgdata:/data'] }, undefined, ['volumes[0]'], `volumes[0] ./pgdata:/data is a bind mount of files on the machine compose ran on, which Grid does not mount: ${lost('/data')}`],
      ['a long-syntax bind mount', { image: 'postgres:16', volumes: [{ type: 'bind', source: '/srv/pg', target: '/data' }] }, undefined, ['volumes[0]'], `volumes[0] /srv/pg:/data is a bind mount of files on the machine compose ran on, which Grid does not mount: ${lost('/data')}`],
      ['an anonymous volume', { image: 'postgres:16', volumes: ['/data'] }, undefined, ['volumes[0]'], `volumes[0] /data is not mounted: ${lost('/data')}`],
      ['a read-only volume', { image: 'postgres:16', volumes: ['seed:/seed:ro'] }, undefined, ['volumes[0]'], 'volumes[0] seed:/seed:ro (read-only) is not mounted: /seed holds only what the image has'],
      [
        'the first named volume is kept, a second one and a bind mount are not',
        { image: 'postgres:16', volumes: ['./conf:/etc/pg', 'dbdata:/data', 'logs:/logs'] },
        { persistent: true, mountPath: '/data' },
        ['volumes[0]', 'volumes[2]'],
        `volumes[0] ./conf:/etc/pg is a bind mount of files on the machine compose ran on, which Grid does not mount: ${lost('/etc/pg')}; volumes[1] dbdata:/data → spec.storage: { persistent: true, mountPath: /data }: a directory of db's own, kept across restarts and deletes, is bind-mounted at /data (it starts empty: the Docker volume dbdata's data is not copied); volumes[2] logs:/logs is not mounted: ${lost('/logs')}`,
      ],
    ])('%s', (_, service, storage, ignored, note) => {
      const r = sut({ db: service });
      expect(r.errors).toEqual([]);
      expect((r.documents[0] as { spec: Obj }).spec.storage).toEqual(storage);
      expect(r.notes[0]).toMatchObject({ object: 'Compose/db', ignored });
      expect(r.notes[0].storage).toEqual(typeof note === 'string' ? note : expect.stringMatching(note));
    });

    it('the imported service validates (a named volume of an image)', () => {
      const r = parseManifests('services:\n  db:\n    image: postgres:16\n    volumes: [dbdata:/var/lib/postgresql/data]\nvolumes:\n  dbdata:\n', 'application/yaml');
      expect(r).toMatchObject({ ok: true, manifests: [{ spec: { runtime: 'docker', storage: { persistent: true, mountPath: '/var/lib/postgresql/data' } } }] });
    });
  });

  it.each<[string, Obj, string, string]>([
    ['build without image', { build: './web' }, '[0].services.web.build', 'does not build them'],
    ['neither image nor build', { ports: ['80'] }, '[0].services.web.image', 'is required'],
    ['a command that needs a shell', { image: 'a:1', command: 'run && stop' }, '[0].services.web.command', "cannot split '&'"],
    ['env_file', { image: 'a:1', env_file: '.env' }, '[0].services.web.env_file', 'write the variables under environment'],
    ['an environment variable from the shell (map)', { image: 'a:1', environment: { TOKEN: null } }, '[0].services.web.environment.TOKEN', 'give the value'],
    ['an environment variable from the shell (list)', { image: 'a:1', environment: ['TOKEN'] }, '[0].services.web.environment[0]', 'give the value'],
    ['a port range', { image: 'a:1', ports: ['8000-8010:8000-8010'] }, '[0].services.web.ports[0]', 'one container port'],
    ['a bad duration', { image: 'a:1', healthcheck: { test: 'curl http://localhost/', interval: 'often' } }, '[0].services.web.healthcheck.interval', 'duration'],
    ['a depends_on on a one-off job', { image: 'a:1', depends_on: { migrate: { condition: 'service_completed_successfully' } } }, '[0].services.web.depends_on.migrate.condition', 'runs no one-off job'],
    ['a bad grid.dev/command label', { image: 'a:1', labels: ['grid.dev/command=node x'] }, '[0].services.web.labels.grid.dev/command', 'JSON array'],
    ['variable substitution in environment', { image: 'a:1', environment: { HOME_DIR: '${HOME:-/root}' } }, '[0].services.web.environment.HOME_DIR', 'variable substitution'],
    ['variable substitution in the image', { image: 'grid-demo:${TAG:-v1}' }, '[0].services.web.image', 'variable substitution'],
  ])('refuses %s, naming the field', (_, service, at, why) => {
    const r = sut({ web: service });
    expect(r.errors).toEqual([{ path: at, message: expect.stringContaining(why) }]);
    expect(r.documents).toEqual([]);
  });

  it('refuses a Compose file without services', () => {
    expect(sut({}).errors).toEqual([{ path: '[0].services', message: 'is empty: a Compose file with no service applies nothing' }]);
  });

  it('refuses more services than one request may make, before reading any', () => {
    const services = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`s${i}`, { image: 'a:1' }]));
    const r = sut(services);
    expect(r.errors).toEqual([{ path: '[0].services', message: '1001 services; at most 1000 in one request' }]);
    expect(r.documents).toEqual([]);
  });

  it("seed 003's Compose file: postgres imports, the three built services are refused by their build:", () => {
    const r = importCompose(fixture('seed-003-docker-compose.yml'), 2);
    expect(r.errors.map((e) => e.path)).toEqual(['[2].services.frontend-api.build', '[2].services.business-logic.build', '[2].services.data-ingest.build']);
    expect(r.documents).toEqual([grid('postgres', { image: 'postgres:15', env: [{ name: 'POSTGRES_DB', value: 'appdb' }, { name: 'POSTGRES_USER', value: 'appuser' }, { name: 'POSTGRES_PASSWORD', value: 'password' }], network: 'bridge', port: 5432 })]);
  });

  it('the runnable shop Compose file: four services, frontend-api depending on two that depend on the store', () => {
    const r = importCompose(fixture('compose-shop.yml'), 0);
    expect(r.errors).toEqual([]);
    expect(r.documents.map((d) => (d as { metadata: { name: string } }).metadata.name)).toEqual(['frontend-api', 'business-logic', 'data-ingest', 'store']);
    expect(r.documents[1]).toMatchObject({ spec: { dependsOn: [{ service: 'store', condition: 'Started' }] } });
    expect(r.documents[0]).toEqual(
      grid(
        'frontend-api',
        { dependsOn: [{ service: 'business-logic', condition: 'Started' }, { service: 'data-ingest', condition: 'Started' }], command: ['node', 'demo-services/shop/frontend-api.js'], env: [{ name: 'REGION', value: 'local' }], readinessProbe: { httpGet: { path: '/health/ready' }, periodSeconds: 2, failureThreshold: 3 } },
        { annotations: { 'grid.dev/image': 'myregistry.azurecr.io/frontend-api:latest' } },
      ),
    );
    expect(r.documents[2]).toMatchObject({ spec: { replicas: 2, readinessProbe: { httpGet: { path: '/health/ready' } } } });
    // Said plainly: this Compose service runs a command on this host, not the image.
    expect(r.notes[0]).toEqual({ object: 'Compose/frontend-api', became: 'service/frontend-api', ignored: ['ports[0]'], index: 0, runsOnHost: ['node', 'demo-services/shop/frontend-api.js'] });
  });
});
