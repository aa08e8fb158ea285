import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { dependencyCycle, parseManifests, specHash, templateHash, validateManifest, type ParseOptions } from './spec-validator.js';
import type { FieldError, Probe, ServiceManifest } from './spec.types.js';

// Tests build manifests as plain objects and patch them freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = Record<string, any>;

const EXAMPLES = new URL('../../../examples/', import.meta.url);
const readExample = (name: string): string => readFileSync(new URL(name, EXAMPLES), 'utf8');

function baseManifest(): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'api' },
    spec: {
      replicas: 3,
      image: 'local://demo@v1',
      env: [{ name: 'VERSION', value: 'v1' }],
      readinessProbe: { httpGet: { path: '/health/ready' } },
    },
  };
}

function canary(m: Raw, steps: unknown[]): void {
  m.spec.rollout = { strategy: 'Canary', steps };
}

function errorsOf(body: unknown, contentType?: string, options?: ParseOptions): FieldError[] {
  const sut = parseManifests(body, contentType, options);
  if (sut.ok) throw new Error(`expected failure, got ${JSON.stringify(sut.manifests)}`);
  return sut.errors;
}

function manifestsOf(body: unknown, contentType?: string, options?: ParseOptions): ServiceManifest[] {
  const sut = parseManifests(body, contentType, options);
  if (!sut.ok) throw new Error(`expected success, got ${JSON.stringify(sut.errors)}`);
  return sut.manifests;
}

function specOf(patch: (m: Raw) => void): ServiceManifest['spec'] {
  const m = baseManifest();
  patch(m);
  return manifestsOf(stringify(m))[0].spec;
}

const PROBE_DEFAULTS: Omit<Probe, 'httpGet'> = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
};

describe('parseManifests', () => {
  describe('rejects a bad field (patched into a valid manifest, sent as YAML)', () => {
    const cases: Array<[string, (m: Raw) => void, string, string]> = [
      // top level and metadata
      ['unknown kind', (m) => (m.kind = 'Foo'), 'kind', "unknown kind 'Foo' (expected Service)"],
      ['missing kind', (m) => delete m.kind, 'kind', 'is required'],
      ['apiVersion v2', (m) => (m.apiVersion = 'v2'), 'apiVersion', 'must be v1 (got string "v2")'],
      ['spec not a mapping', (m) => (m.spec = 'x'), 'spec', 'must be a mapping (got string "x")'],
      ['missing spec', (m) => delete m.spec, 'spec', 'is required'],
      ['missing metadata', (m) => delete m.metadata, 'metadata', 'is required'],
      ['missing name', (m) => delete m.metadata.name, 'metadata.name', 'is required'],
      ['name not a string', (m) => (m.metadata.name = 42), 'metadata.name', 'must be a string (got number 42)'],
      ['non-DNS name', (m) => (m.metadata.name = 'My_Api'), 'metadata.name', "DNS-1123 label"],
      ['name ending in -', (m) => (m.metadata.name = 'api-'), 'metadata.name', "DNS-1123 label"],
      ['name with --', (m) => (m.metadata.name = 'api--preview'), 'metadata.name', "must not contain '--'"],
      ['name of 64 chars', (m) => (m.metadata.name = 'a'.repeat(64)), 'metadata.name', 'at most 63 characters (got 64)'],
      ['label not a string', (m) => (m.metadata.labels = { tier: 1 }), 'metadata.labels.tier', 'must be a string (got number 1)'],
      // labels: Kubernetes qualified-name keys and label values
      ['label key with a path', (m) => (m.metadata.labels = { '../../etc': 'x' }), 'metadata.labels', "key \"../../etc\" must be a qualified name"],
      ['label key with NUL', (m) => (m.metadata.labels = { 'a\0b': 'x' }), 'metadata.labels', 'key "a\\u0000b" must be a qualified name'],
      ['empty label key', (m) => (m.metadata.labels = { '': 'x' }), 'metadata.labels', 'key "" must be a qualified name'],
      ['label key name of 64 chars', (m) => (m.metadata.labels = { ['a'.repeat(64)]: 'x' }), 'metadata.labels', 'name part must be at most 63 characters (got 64)'],
      ['label key with an upper-case prefix', (m) => (m.metadata.labels = { 'Example.com/tier': 'x' }), 'metadata.labels', 'prefix must be a DNS subdomain'],
      ['label key prefix of 254 chars', (m) => (m.metadata.labels = { [`${'a'.repeat(254)}/tier`]: 'x' }), 'metadata.labels', 'prefix must be at most 253 characters (got 254)'],
      ['label key with two slashes', (m) => (m.metadata.labels = { 'a/b/c': 'x' }), 'metadata.labels', 'key "a/b/c" must be a qualified name'],
      ['label value of 1 MB', (m) => (m.metadata.labels = { tier: 'x'.repeat(1024 * 1024) }), 'metadata.labels.tier', 'must be at most 63 characters (got 1048576)'],
      ['label value with a space', (m) => (m.metadata.labels = { tier: 'front end' }), 'metadata.labels.tier', 'must be empty or match'],
      ['label value starting with -', (m) => (m.metadata.labels = { tier: '-x' }), 'metadata.labels.tier', 'must be empty or match'],
      // annotations: qualified-name keys, any string value, 256 KiB in all
      ['annotations not a mapping', (m) => (m.metadata.annotations = ['x']), 'metadata.annotations', 'must be a mapping of strings'],
      ['annotation key with a path', (m) => (m.metadata.annotations = { '../x': 'y' }), 'metadata.annotations', 'prefix must be a DNS subdomain'],
      ['annotation value not a string', (m) => (m.metadata.annotations = { 'grid.dev/image': 3 }), 'metadata.annotations.grid.dev/image', 'must be a string (got number 3)'],
      ['annotation value with NUL', (m) => (m.metadata.annotations = { note: 'a\0b' }), 'metadata.annotations.note', 'must not contain NUL'],
      ['a grid.dev/command annotation on a Grid spec', (m) => (m.metadata.annotations = { 'grid.dev/command': '["sh","-c","id"]' }), 'metadata.annotations.grid.dev/command', 'is read on imported Kubernetes objects only'],
      ['annotations over 256 KiB', (m) => (m.metadata.annotations = { a: 'x'.repeat(200 * 1024), b: 'y'.repeat(100 * 1024) }), 'metadata.annotations', 'must total at most 262144 bytes'],
      ['label value with CR LF', (m) => (m.metadata.labels = { tier: 'a\r\nb' }), 'metadata.labels.tier', 'must be empty or match'],
      // replicas
      ['replicas -1', (m) => (m.spec.replicas = -1), 'spec.replicas', 'must be an integer 0..1000 (got -1)'],
      ['replicas 1001', (m) => (m.spec.replicas = 1001), 'spec.replicas', 'must be an integer 0..1000 (got 1001)'],
      ['replicas 2.5', (m) => (m.spec.replicas = 2.5), 'spec.replicas', 'must be an integer 0..1000 (got 2.5)'],
      ['replicas "3"', (m) => (m.spec.replicas = '3'), 'spec.replicas', 'must be an integer 0..1000 (got string "3")'],
      // unknown fields at every depth
      ['unknown top-level field', (m) => (m.status = {}), 'status', 'unknown field'],
      ['unknown metadata field', (m) => (m.metadata.namespace = 'x'), 'metadata.namespace', 'unknown field'],
      ['unknown spec field', (m) => (m.spec.replicaz = 3), 'spec.replicaz', 'unknown field'],
      ["Compose's depends_on", (m) => (m.spec.depends_on = ['db']), 'spec.depends_on', 'unknown field; did you mean dependsOn?'],
      ['a Grid field in another case', (m) => (m.spec.DependsOn = [{ service: 'db' }]), 'spec.DependsOn', 'unknown field; did you mean dependsOn?'],
      ["Compose's working_dir", (m) => (m.spec.working_dir = '/srv'), 'spec.working_dir', 'unknown field; did you mean workingDir?'],
      ["Compose's environment", (m) => (m.spec.environment = { A: '1' }), 'spec.environment', 'unknown field; did you mean env? (a list of {name, value})'],
      ["Compose's volumes", (m) => (m.spec.volumes = ['./data:/data']), 'spec.volumes', 'unknown field; did you mean storage? ({persistent: true} gives each pod a data directory, $(GRID_POD_DATA))'],
      ["Kubernetes' args", (m) => (m.spec.args = ['--x']), 'spec.args', 'unknown field; did you mean command? (the program and its arguments in one list)'],
      ['a probe field in another spelling', (m) => (m.spec.readinessProbe.period_seconds = 1), 'spec.readinessProbe.period_seconds', 'unknown field; did you mean periodSeconds?'],
      ['unknown probe field', (m) => (m.spec.readinessProbe.foo = 1), 'spec.readinessProbe.foo', 'unknown field'],
      [
        'unknown httpGet field',
        (m) => (m.spec.readinessProbe.httpGet.httpHeaders = []),
        'spec.readinessProbe.httpGet.httpHeaders',
        'unknown field',
      ],
      ['unknown env item field', (m) => (m.spec.env[0].valueFrom = {}), 'spec.env[0].valueFrom', 'unknown field'],
      [
        'unknown restartBackoff field',
        (m) => (m.spec.restartBackoff = { jitter: 1 }),
        'spec.restartBackoff.jitter',
        'unknown field',
      ],
      [
        'unknown autoscale field',
        (m) => (m.spec.autoscale = { targetCPU: 50, max: 3, targetMemory: 1 }),
        'spec.autoscale.targetMemory',
        'unknown field',
      ],
      [
        'unknown autoscale.behavior field',
        (m) => (m.spec.autoscale = { targetCPU: 50, max: 3, behavior: { scaleUp: {} } }),
        'spec.autoscale.behavior.scaleUp',
        'unknown field',
      ],
      [
        'unknown scaleDown field',
        (m) => (m.spec.autoscale = { targetCPU: 50, max: 3, behavior: { scaleDown: { policies: [] } } }),
        'spec.autoscale.behavior.scaleDown.policies',
        'unknown field',
      ],
      ['unknown rollout field', (m) => (m.spec.rollout = { canaryService: 'x' }), 'spec.rollout.canaryService', 'unknown field'],
      [
        'unknown analysis field',
        (m) => (m.spec.rollout = { analysis: { metric: 'x' } }),
        'spec.rollout.analysis.metric',
        'unknown field',
      ],
      ['unknown step field', (m) => canary(m, [{ setWeight: 10 }, { analysis: {} }]), 'spec.rollout.steps[1].analysis', 'unknown field'],
      // runtime selection
      ['neither image nor command', (m) => delete m.spec.image, 'spec', 'one of image or command is required'],
      [
        'command with a local image',
        (m) => (m.spec.command = ['node', 'server.js']),
        'spec',
        'use either image local://… (simulated) or command (process runtime)',
      ],
      [
        'command with a docker image',
        (m) => Object.assign(m.spec, { image: 'nginx:1.27', command: ['nginx'] }),
        'spec',
        'use either image (docker) or command (process runtime)',
      ],
      ['local image without version', (m) => (m.spec.image = 'local://demo'), 'spec.image', 'must be local://<name>@<version>'],
      ['local image with empty name', (m) => (m.spec.image = 'local://@v1'), 'spec.image', 'must be local://<name>@<version>'],
      ['docker image with a relative workingDir', (m) => Object.assign(m.spec, { image: 'nginx:1.27', workingDir: 'app' }), 'spec.workingDir', 'must be an absolute path inside the image'],
      ['docker image on a bridge without port', (m) => Object.assign(m.spec, { image: 'nginx:1.27', network: 'bridge' }), 'spec.port', 'is required for a docker image on network: bridge'],
      ['docker image with a space', (m) => (m.spec.image = 'nginx latest'), 'spec.image', 'docker image reference'],
      ['docker image as a URL', (m) => Object.assign(m.spec, { image: 'http://x/y', port: 80 }), 'spec.image', 'docker image reference'],
      ['image not a string', (m) => (m.spec.image = ['x']), 'spec.image', 'must be a string (got array)'],
      [
        'explicit runtime disagreeing',
        (m) => (m.spec.runtime = 'docker'),
        'spec.runtime',
        "'docker' does not match the runtime implied by spec.image (sim)",
      ],
      ['unknown runtime', (m) => (m.spec.runtime = 'vm'), 'spec.runtime', 'must be one of sim, process, docker (got string "vm")'],
      // docker-only fields
      ['unknown network', (m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, network: 'overlay' }), 'spec.network', 'must be one of host, bridge (got string "overlay")'],
      ['unknown imagePullPolicy', (m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, imagePullPolicy: 'IfMissing' }), 'spec.imagePullPolicy', 'must be one of IfNotPresent, Never, Always (got string "IfMissing")'],
      ['resources not a mapping', (m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, resources: 2 }), 'spec.resources', 'must be a mapping'],
      ['resources.cpus zero', (m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, resources: { cpus: 0 } }), 'spec.resources.cpus', 'must be a number greater than 0 and at most 1024'],
      ['resources.cpus too small', (m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, resources: { cpus: 0.001 } }), 'spec.resources.cpus', 'must be at least 0.01 (got 0.001)'],
      ['resources.memory garbage', (m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, resources: { memory: 'lots' } }), 'spec.resources.memory', 'must be bytes or a quantity such as 256Mi, 512M, 1Gi (got string "lots")'],
      ['resources.memory below docker\'s 6Mi', (m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, resources: { memory: '1Mi' } }), 'spec.resources.memory', 'must be 6Mi..1Ti (got 1048576 bytes)'],
      ['resources with Kubernetes limits', (m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, resources: { limits: { cpu: 1 } } }), 'spec.resources.limits', 'Grid takes cpus and memory here directly'],
      ['network on a simulated spec', (m) => (m.spec.network = 'bridge'), 'spec.network', 'applies to docker images only'],
      ['resources on a process spec', (m) => Object.assign(m.spec, { image: undefined, command: ['node'], resources: { cpus: 1 } }), 'spec.resources', 'applies to docker images only'],
      ['imagePullPolicy on a simulated spec', (m) => (m.spec.imagePullPolicy = 'Never'), 'spec.imagePullPolicy', 'applies to docker images only'],
      [
        'command as a string',
        (m) => Object.assign(m.spec, { image: undefined, command: 'node server.js' }),
        'spec.command',
        'must be an array of strings (no shell is used) (got string "node server.js")',
      ],
      ['empty command', (m) => Object.assign(m.spec, { image: undefined, command: [] }), 'spec.command', 'must not be empty'],
      [
        'command with an empty argument',
        (m) => Object.assign(m.spec, { image: undefined, command: ['node', ''] }),
        'spec.command[1]',
        'must be a non-empty string (got string "")',
      ],
      [
        'command of 65 entries',
        (m) => Object.assign(m.spec, { image: undefined, command: Array(65).fill('x') }),
        'spec.command',
        'at most 64 items (got 65)',
      ],
      ['port 70000', (m) => (m.spec.port = 70000), 'spec.port', 'must be an integer 1..65535 (got 70000)'],
      ['workingDir not a string', (m) => (m.spec.workingDir = 5), 'spec.workingDir', 'must be a string (got number 5)'],
      [
        'command argument with NUL',
        (m) => Object.assign(m.spec, { image: undefined, command: ['node', 'a\0b'] }),
        'spec.command[1]',
        'must not contain a NUL byte (got string "a\\u0000b")',
      ],
      [
        'workingDir with NUL',
        (m) => Object.assign(m.spec, { image: undefined, command: ['node'], workingDir: '/srv\0x' }),
        'spec.workingDir',
        'must not contain a NUL byte',
      ],
      // env
      ['env not an array', (m) => (m.spec.env = { VERSION: 'v1' }), 'spec.env', 'must be an array (got mapping)'],
      ['env item not a mapping', (m) => (m.spec.env = ['VERSION=v1']), 'spec.env[0]', 'must be a mapping (got string'],
      ['env name invalid', (m) => (m.spec.env = [{ name: '1ABC', value: 'x' }]), 'spec.env[0].name', 'must match'],
      ['env name missing', (m) => (m.spec.env = [{ value: 'x' }]), 'spec.env[0].name', 'is required'],
      [
        'env value a number',
        (m) => (m.spec.env = [{ name: 'PORT', value: 8080 }]),
        'spec.env[0].value',
        'must be a string; quote it (got number 8080)',
      ],
      [
        'env value a boolean',
        (m) => (m.spec.env = [{ name: 'DEBUG', value: true }]),
        'spec.env[0].value',
        'must be a string; quote it (got boolean true)',
      ],
      [
        'env duplicate names',
        (m) => m.spec.env.push({ name: 'VERSION', value: 'v2' }),
        'spec.env[1].name',
        "duplicate name 'VERSION' (first at spec.env[0])",
      ],
      ['env value with NUL', (m) => (m.spec.env = [{ name: 'A', value: 'x\0y' }]), 'spec.env[0].value', 'must not contain a NUL byte'],
      ['env name with NUL', (m) => (m.spec.env = [{ name: 'A\0B', value: 'x' }]), 'spec.env[0].name', 'must match'],
      [
        'env value of 300 KB',
        (m) => m.spec.env.push({ name: 'A', value: 'x' }, { name: 'BIG', value: 'x'.repeat(300_000) }),
        'spec.env[2].value',
        'as NAME=value must be at most 131072 bytes including the terminating NUL (MAX_ARG_STRLEN) (got 300005)',
      ],
      [
        'env value short in characters but long in UTF-8 bytes',
        (m) => (m.spec.env = [{ name: 'E', value: '\u00e9'.repeat(70_000) }]),
        'spec.env[0].value',
        'as NAME=value must be at most 131072 bytes including the terminating NUL (MAX_ARG_STRLEN) (got 140003)',
      ],
      [
        'env value one byte over MAX_ARG_STRLEN',
        (m) => (m.spec.env = [{ name: 'BIG', value: 'x'.repeat(131_072 - 4) }]),
        'spec.env[0].value',
        '(got 131073)',
      ],
      [
        'env name over MAX_ARG_STRLEN',
        (m) => (m.spec.env = [{ name: 'N'.repeat(131_072), value: '' }]),
        'spec.env[0].name',
        'must be at most 131072 bytes',
      ],
      [
        'command and env together over 1 MiB',
        (m) => (m.spec.env = Array.from({ length: 11 }, (_, i) => ({ name: `V${i}`, value: 'x'.repeat(100_000) }))),
        'spec.env',
        'command and env together must be at most 1048576 bytes (got 1100045)',
      ],
      [
        'VERSION that would split the X-Grid-Version header',
        (m) => (m.spec.env = [{ name: 'VERSION', value: 'v1\r\nSet-Cookie: pwn=1' }]),
        'spec.env[0].value',
        'becomes the X-Grid-Version header, so it must match ^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}$ (got string "v1\\r\\nSet-Cookie: pwn=1")',
      ],
      ['VERSION with a space', (m) => (m.spec.env = [{ name: 'VERSION', value: 'v 1' }]), 'spec.env[0].value', 'X-Grid-Version'],
      ['VERSION of 64 chars', (m) => (m.spec.env = [{ name: 'VERSION', value: 'v'.repeat(64) }]), 'spec.env[0].value', 'X-Grid-Version'],
      ['VERSION starting with .', (m) => (m.spec.env = [{ name: 'VERSION', value: '.v1' }]), 'spec.env[0].value', 'X-Grid-Version'],
      [
        'docker image with an empty tag',
        (m) => Object.assign(m.spec, { image: 'nginx:', port: 80 }),
        'spec.image',
        "tag must match ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ (got '')",
      ],
      [
        'docker image with a tag of 129 chars',
        (m) => Object.assign(m.spec, { image: `nginx:${'1'.repeat(129)}`, port: 80 }),
        'spec.image',
        'tag must match',
      ],
      [
        'env with 257 entries',
        (m) => (m.spec.env = Array.from({ length: 257 }, (_, i) => ({ name: `V${i}`, value: 'x' }))),
        'spec.env',
        'at most 256 items (got 257)',
      ],
      // probes
      [
        'probe with host',
        (m) => (m.spec.readinessProbe.httpGet.host = 'example.com'),
        'spec.readinessProbe.httpGet.host',
        "only path is allowed; Grid probes 127.0.0.1 on the pod's port",
      ],
      [
        'probe with port',
        (m) => (m.spec.livenessProbe = { httpGet: { path: '/l', port: 9000 } }),
        'spec.livenessProbe.httpGet.port',
        'only path is allowed',
      ],
      [
        'probe with scheme',
        (m) => (m.spec.readinessProbe.httpGet.scheme = 'HTTPS'),
        'spec.readinessProbe.httpGet.scheme',
        'only path is allowed',
      ],
      [
        'probe path without leading slash',
        (m) => (m.spec.readinessProbe.httpGet.path = 'health'),
        'spec.readinessProbe.httpGet.path',
        "must start with '/'",
      ],
      [
        'probe path starting with //',
        (m) => (m.spec.readinessProbe.httpGet.path = '//evil.example/x'),
        'spec.readinessProbe.httpGet.path',
        "must not start with '//'",
      ],
      [
        'probe path containing a URL',
        (m) => (m.spec.readinessProbe.httpGet.path = '/x?next=http://evil'),
        'spec.readinessProbe.httpGet.path',
        "contains '://'",
      ],
      [
        'probe path with whitespace',
        (m) => (m.spec.readinessProbe.httpGet.path = '/a b'),
        'spec.readinessProbe.httpGet.path',
        'must not contain whitespace',
      ],
      ['probe without httpGet', (m) => (m.spec.readinessProbe = { periodSeconds: 5 }), 'spec.readinessProbe.httpGet', 'is required'],
      [
        'exec probe',
        (m) => (m.spec.livenessProbe = { exec: { command: ['true'] } }),
        'spec.livenessProbe.exec',
        'unknown field (Grid supports httpGet probes only)',
      ],
      [
        'probe periodSeconds 0',
        (m) => (m.spec.readinessProbe.periodSeconds = 0),
        'spec.readinessProbe.periodSeconds',
        'must be an integer 1..3600 (got 0)',
      ],
      [
        'probe failureThreshold 101',
        (m) => (m.spec.readinessProbe.failureThreshold = 101),
        'spec.readinessProbe.failureThreshold',
        'must be an integer 1..100 (got 101)',
      ],
      [
        'liveness successThreshold 2',
        (m) => (m.spec.livenessProbe = { httpGet: { path: '/l' }, successThreshold: 2 }),
        'spec.livenessProbe.successThreshold',
        'must be 1 for livenessProbe (got 2)',
      ],
      [
        'startup successThreshold 3',
        (m) => (m.spec.startupProbe = { httpGet: { path: '/s' }, successThreshold: 3 }),
        'spec.startupProbe.successThreshold',
        'must be 1 for startupProbe (got 3)',
      ],
      // lifecycle
      [
        'terminationGracePeriodSeconds 3601',
        (m) => (m.spec.terminationGracePeriodSeconds = 3601),
        'spec.terminationGracePeriodSeconds',
        'must be an integer 0..3600 (got 3601)',
      ],
      [
        'restartBackoff initialSeconds 0',
        (m) => (m.spec.restartBackoff = { initialSeconds: 0 }),
        'spec.restartBackoff.initialSeconds',
        'must be a number greater than 0 and at most 3600 (got 0)',
      ],
      [
        'restartBackoff max below initial',
        (m) => (m.spec.restartBackoff = { initialSeconds: 5, maxSeconds: 2 }),
        'spec.restartBackoff.maxSeconds',
        'must be at least initialSeconds (5) (got 2)',
      ],
      // autoscale
      ['autoscale without targetCPU', (m) => (m.spec.autoscale = { max: 3 }), 'spec.autoscale.targetCPU', 'is required'],
      ['autoscale without max', (m) => (m.spec.autoscale = { targetCPU: 50 }), 'spec.autoscale.max', 'is required'],
      [
        'autoscale targetCPU 0',
        (m) => (m.spec.autoscale = { targetCPU: 0, max: 3 }),
        'spec.autoscale.targetCPU',
        'must be an integer 1..100 (got 0)',
      ],
      [
        'autoscale min above max',
        (m) => (m.spec.autoscale = { targetCPU: 50, min: 11, max: 10 }),
        'spec.autoscale.min',
        'must be at most max (10) (got 11)',
      ],
      [
        'stabilization window too long',
        (m) => (m.spec.autoscale = { targetCPU: 50, max: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 3601 } } }),
        'spec.autoscale.behavior.scaleDown.stabilizationWindowSeconds',
        'must be an integer 0..3600 (got 3601)',
      ],
      // rollout
      [
        'unknown strategy',
        (m) => (m.spec.rollout = { strategy: 'Recreate' }),
        'spec.rollout.strategy',
        'must be one of Rolling, BlueGreen, Canary (got string "Recreate")',
      ],
      [
        'maxSurge and maxUnavailable both 0',
        (m) => (m.spec.rollout = { maxSurge: 0, maxUnavailable: '0%' }),
        'spec.rollout',
        'maxSurge and maxUnavailable must not both be 0',
      ],
      [
        'maxSurge 150%',
        (m) => (m.spec.rollout = { maxSurge: '150%' }),
        'spec.rollout.maxSurge',
        'must be an integer 0..1000 or a percentage 0%..100% (got string "150%")',
      ],
      [
        'maxUnavailable -1',
        (m) => (m.spec.rollout = { maxUnavailable: -1 }),
        'spec.rollout.maxUnavailable',
        'or a percentage 0%..100% (got -1)',
      ],
      [
        'steps with BlueGreen',
        (m) => (m.spec.rollout = { strategy: 'BlueGreen', steps: [{ setWeight: 50 }] }),
        'spec.rollout.steps',
        'steps are only used by the Canary strategy',
      ],
      [
        'step with both setWeight and pause',
        (m) => canary(m, [{ setWeight: 25, pause: {} }]),
        'spec.rollout.steps[0]',
        'must have exactly one of setWeight, pause or chaos',
      ],
      ['empty step', (m) => canary(m, [{}]), 'spec.rollout.steps[0]', 'must have exactly one of setWeight, pause or chaos'],
      ['chaos with kill and pause', (m) => canary(m, [{ chaos: { kill: 1, pause: 1, seconds: 5 } }]), 'spec.rollout.steps[0].chaos', 'must have exactly one of kill, pause or faults (got kill and pause)'],
      ['chaos with nothing', (m) => canary(m, [{ chaos: {} }]), 'spec.rollout.steps[0].chaos', 'must have exactly one of kill, pause or faults (got none)'],
      ['chaos: null', (m) => canary(m, [{ chaos: null }]), 'spec.rollout.steps[0].chaos', 'must be a mapping with one of kill, pause or faults'],
      ['chaos kill 0', (m) => canary(m, [{ chaos: { kill: 0 } }]), 'spec.rollout.steps[0].chaos.kill', 'must be an integer 1..1000 (got 0)'],
      ['chaos kill with seconds', (m) => canary(m, [{ chaos: { kill: 1, seconds: 5 } }]), 'spec.rollout.steps[0].chaos.seconds', 'only a pause experiment has seconds'],
      ['chaos pause without seconds', (m) => canary(m, [{ chaos: { pause: 1 } }]), 'spec.rollout.steps[0].chaos.seconds', 'is required with pause'],
      ['chaos pause 2h', (m) => canary(m, [{ chaos: { pause: 1, seconds: '2h' } }]), 'spec.rollout.steps[0].chaos.seconds', 'at most 600s'],
      ['chaos pause 601 s (the chaos service pauses at most 600 s)', (m) => canary(m, [{ chaos: { pause: 1, seconds: 601 } }]), 'spec.rollout.steps[0].chaos.seconds', 'at most 600s'],
      ['chaos pause 1.5 s', (m) => canary(m, [{ chaos: { pause: 1, seconds: '1.5s' } }]), 'spec.rollout.steps[0].chaos.seconds', 'must be whole seconds 1..600'],
      ['chaos pause 500ms', (m) => canary(m, [{ chaos: { pause: 1, seconds: '500ms' } }]), 'spec.rollout.steps[0].chaos.seconds', 'must be whole seconds 1..600'],
      ['chaos faults abortPercent 33.333', (m) => canary(m, [{ chaos: { faults: { abortPercent: 33.333 }, duration: '30s' } }]), 'spec.rollout.steps[0].chaos.faults.abortPercent', 'at most two decimals'],
      ['chaos faults delayPercent 12.345', (m) => canary(m, [{ chaos: { faults: { delayMs: 100, delayPercent: 12.345 }, duration: '30s' } }]), 'spec.rollout.steps[0].chaos.faults.delayPercent', 'at most two decimals'],
      ['chaos faults delayPercent without delayMs', (m) => canary(m, [{ chaos: { faults: { abortPercent: 5, delayPercent: 50 }, duration: '30s' } }]), 'spec.rollout.steps[0].chaos.faults.delayMs', 'is required'],
      ['chaos faults duration 1.5s', (m) => canary(m, [{ chaos: { faults: { abortPercent: 5 }, duration: '1.5s' } }]), 'spec.rollout.steps[0].chaos.duration', 'must be whole seconds 1..3600'],
      ['chaos faults duration 200ms', (m) => canary(m, [{ chaos: { faults: { abortPercent: 5 }, duration: '200ms' } }]), 'spec.rollout.steps[0].chaos.duration', 'must be whole seconds 1..3600'],
      ['chaos recoverWithin 1ms', (m) => canary(m, [{ chaos: { kill: 1, recoverWithin: '1ms' } }]), 'spec.rollout.steps[0].chaos.recoverWithin', 'must be whole seconds 5..3600'],
      ['chaos recoverWithin 4s', (m) => canary(m, [{ chaos: { pause: 1, seconds: 5, recoverWithin: '4s' } }]), 'spec.rollout.steps[0].chaos.recoverWithin', 'must be whole seconds 5..3600'],
      ['chaos recoverWithin 0', (m) => canary(m, [{ chaos: { kill: 1, recoverWithin: 0 } }]), 'spec.rollout.steps[0].chaos.recoverWithin', 'greater than 0'],
      ['chaos faults without duration', (m) => canary(m, [{ chaos: { faults: { abortPercent: 10 } } }]), 'spec.rollout.steps[0].chaos.duration', 'is required with faults'],
      ['chaos faults with recoverWithin', (m) => canary(m, [{ chaos: { faults: { abortPercent: 10 }, duration: '30s', recoverWithin: '10s' } }]), 'spec.rollout.steps[0].chaos.recoverWithin', 'only kill and pause'],
      ['chaos faults that inject nothing', (m) => canary(m, [{ chaos: { faults: { delayMs: 200 }, duration: '30s' } }]), 'spec.rollout.steps[0].chaos.faults', 'injects nothing'],
      ['chaos faults delayPercent 150', (m) => canary(m, [{ chaos: { faults: { delayMs: 200, delayPercent: 150 }, duration: '30s' } }]), 'spec.rollout.steps[0].chaos.faults.delayPercent', 'must be a number 0..100 (got 150)'],
      ['chaos faults abortStatus 200', (m) => canary(m, [{ chaos: { faults: { abortPercent: 5, abortStatus: 200 }, duration: '30s' } }]), 'spec.rollout.steps[0].chaos.faults.abortStatus', 'must be an integer 400..599 (got 200)'],
      ['chaos unknown field', (m) => canary(m, [{ chaos: { kill: 1, signal: 'KILL' } }]), 'spec.rollout.steps[0].chaos.signal', 'unknown field'],
      ['step as a string', (m) => canary(m, ['pause']), 'spec.rollout.steps[0]', 'must be a mapping (got string "pause")'],
      [
        'setWeight 101',
        (m) => canary(m, [{ setWeight: 101 }]),
        'spec.rollout.steps[0].setWeight',
        'must be an integer 0..100 (got 101)',
      ],
      [
        'bad duration unit',
        (m) => canary(m, [{ setWeight: 25 }, { pause: { duration: '10x' } }]),
        'spec.rollout.steps[1].pause.duration',
        'must be a duration such as 30s, 5m, 1h, 500ms or a number of seconds',
      ],
      [
        'negative duration',
        (m) => canary(m, [{ pause: { duration: '-5s' } }]),
        'spec.rollout.steps[0].pause.duration',
        'must be a duration',
      ],
      [
        'duration over a day',
        (m) => canary(m, [{ pause: { duration: '25h' } }]),
        'spec.rollout.steps[0].pause.duration',
        'at most 86400s',
      ],
      [
        '101 steps',
        (m) => canary(m, Array.from({ length: 101 }, () => ({ setWeight: 10 }))),
        'spec.rollout.steps',
        'at most 100 items (got 101)',
      ],
      [
        'autoPromotionEnabled "yes"',
        (m) => (m.spec.rollout = { strategy: 'BlueGreen', autoPromotionEnabled: 'yes' }),
        'spec.rollout.autoPromotionEnabled',
        'must be a boolean (got string "yes")',
      ],
      [
        'progressDeadlineSeconds 0',
        (m) => (m.spec.rollout = { progressDeadlineSeconds: 0 }),
        'spec.rollout.progressDeadlineSeconds',
        'must be an integer 1..86400 (got 0)',
      ],
      [
        'analysis interval 0s',
        (m) => (m.spec.rollout = { analysis: { interval: '0s' } }),
        'spec.rollout.analysis.interval',
        'greater than 0',
      ],
      [
        'analysis interval beyond the gateway window (301s)',
        (m) => (m.spec.rollout = { analysis: { interval: '301s' } }),
        'spec.rollout.analysis.interval',
        '300',
      ],
      [
        'analysis maxErrorRate 1.5',
        (m) => (m.spec.rollout = { analysis: { maxErrorRate: 1.5 } }),
        'spec.rollout.analysis.maxErrorRate',
        'must be a number 0..1 (got 1.5)',
      ],
      [
        'analysis maxP99LatencyMs 0',
        (m) => (m.spec.rollout = { analysis: { maxP99LatencyMs: 0 } }),
        'spec.rollout.analysis.maxP99LatencyMs',
        'must be a number greater than 0',
      ],
      [
        'revisionHistoryLimit 101',
        (m) => (m.spec.revisionHistoryLimit = 101),
        'spec.revisionHistoryLimit',
        'must be an integer 0..100 (got 101)',
      ],
    ];

    it.each(cases)('%s', (_name, patch, path, message) => {
      const m = baseManifest();
      patch(m);

      const errors = errorsOf(stringify(m), 'application/yaml');

      expect(errors).toContainEqual({ path, message: expect.stringContaining(message) });
    });
  });

  describe('rejects a bad body', () => {
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) bomb.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);

    const cases: Array<[string, unknown, string | undefined, string, string]> = [
      ['malformed YAML', 'kind: Service\nmetadata: {name: api\n', 'application/yaml', '(yaml)', 'at line 3, column 1'],
      ['nested compact mapping', 'kind: Service: x\n', undefined, '(yaml)', 'at line 1'],
      ['duplicate keys', 'kind: Service\nkind: Service\n', 'application/yaml', '(yaml)', 'Map keys must be unique at line 2'],
      ['duplicate keys in a nested mapping in a sequence', 'kind: Service\nspec:\n  env:\n    - name: A\n      name: B\n', 'application/yaml', '(yaml)', 'Map keys must be unique at line 5'],
      ['more YAML lines than a spec needs (parsing them would hold the event loop for seconds)', Array.from({ length: 10_001 }, (_, i) => `k${i}: 1`).join('\n'), 'application/yaml', '(yaml)', 'at most 10000 lines (got 10001)'],
      ['a flow sequence of 500,000 items', `[${Array(500_000).fill('1').join(',')}]`, 'application/yaml', '(yaml)', "at most 10000 of ',', '[' and '{'"],
      ['nesting deeper than the YAML parser can recurse', Array.from({ length: 9_000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'), 'application/yaml', '(yaml)', 'nested too deeply'],
      ['alias bomb', bomb.join('\n'), 'application/yaml', '(yaml)', 'Excessive alias count'],
      ['empty YAML', '', 'application/yaml', '(body)', 'is empty'],
      ['YAML with only comments and separators', '# nothing\n---\n', undefined, '(body)', 'is empty'],
      ['no body at all', undefined, 'application/json', '(body)', 'is empty'],
      ['empty JSON array', '[]', 'application/json', '(body)', 'is empty'],
      ['malformed JSON', '{"kind": ', 'application/json', '(json)', 'JSON'],
      ['duplicate JSON keys', '{"kind":"Service","kind":"Service"}', 'application/json', 'kind', 'duplicate key'],
      [
        'duplicate JSON keys in a nested mapping',
        '{"kind":"Service","metadata":{"name":"api"},"spec":{"image":"local://a@v1","env":[{"name":"A","value":"x"},{"name":"B","name":"C"}]}}',
        'application/json',
        'spec.env[1].name',
        'duplicate key',
      ],
      ['duplicate JSON keys spelled with escapes', '{"kind":"Service","\\u006bind":"Service"}', 'application/json', 'kind', 'duplicate key'],
      [
        'duplicate JSON keys after strings holding braces and quotes',
        '{"metadata":{"name":"}{\\"[,:"},"kind":"Service","metadata":{}}',
        'application/json',
        'metadata',
        'duplicate key',
      ],
      ['duplicate JSON keys in the second of several documents', '[{"kind":"Service"},{"kind":"Service","spec":{"replicas":1,"replicas":2}}]', 'application/json', '[1].spec.replicas', 'duplicate key'],
      ['duplicate JSON keys in a one-document array', '[{"kind":"Service","kind":"Service"}]', 'application/json', 'kind', 'duplicate key'],
      ['YAML sequence as the root', '- a\n- b\n', undefined, '(root)', 'must be a mapping (got array)'],
      ['scalar as the root', 'hello', 'text/yaml', '(root)', 'must be a mapping (got string "hello")'],
    ];

    it.each(cases)('%s', (_name, body, contentType, path, message) => {
      expect(errorsOf(body, contentType)).toContainEqual({ path, message: expect.stringContaining(message) });
    });

    it('fails fast on an alias bomb', () => {
      const started = performance.now();

      errorsOf(bomb.join('\n'), 'application/yaml');

      expect(performance.now() - started).toBeLessThan(500);
    });
  });

  it('reports every error, not just the first', () => {
    const m = baseManifest();
    m.metadata.name = 'Bad_Name';
    m.spec.replicas = -1;
    m.spec.replicaz = 3;

    const errors = errorsOf(stringify(m));

    expect(errors.map((e) => e.path).sort()).toEqual(['metadata.name', 'spec.replicas', 'spec.replicaz']);
  });

  describe('multi-document YAML', () => {
    const web = (): Raw => ({ ...baseManifest(), metadata: { name: 'web' } });
    const docs = (...ms: Raw[]): string => ms.map((m) => stringify(m)).join('---\n');

    it('returns one manifest per document', () => {
      const sut = manifestsOf(docs(baseManifest(), web()));

      expect(sut.map((m) => m.metadata.name)).toEqual(['api', 'web']);
    });

    it('prefixes errors with the document index and fails the whole request', () => {
      const bad = web();
      bad.spec.replicas = 1001;

      const errors = errorsOf(docs(baseManifest(), bad));

      expect(errors).toEqual([{ path: '[1].spec.replicas', message: 'must be an integer 0..1000 (got 1001)' }]);
    });

    it('reports a root that is not a mapping by its index alone', () => {
      expect(errorsOf(`${stringify(baseManifest())}---\n- x\n`)).toEqual([
        { path: '[1]', message: 'must be a mapping (got array)' },
      ]);
    });

    it('rejects two documents with the same name', () => {
      const errors = errorsOf(docs(baseManifest(), baseManifest()));

      expect(errors).toEqual([{ path: '[1].metadata.name', message: "duplicate name 'api' in this request" }]);
    });

    it('skips empty documents, so a lone manifest keeps unprefixed paths', () => {
      const bad = baseManifest();
      bad.spec.replicas = -1;

      const errors = errorsOf(`---\n# leading empty document\n---\n${stringify(bad)}---\n`);

      expect(errors).toEqual([{ path: 'spec.replicas', message: 'must be an integer 0..1000 (got -1)' }]);
    });
  });

  describe('JSON', () => {
    it.each([
      ['a JSON object string', JSON.stringify(baseManifest()), 'application/json'],
      ['a JSON string with charset', JSON.stringify(baseManifest()), 'application/json; charset=utf-8'],
      ['a JSON Buffer', Buffer.from(JSON.stringify(baseManifest())), 'application/json'],
      ['an object Fastify already parsed', baseManifest(), 'application/json'],
      ['a YAML Buffer', Buffer.from(stringify(baseManifest())), 'application/yaml'],
    ])('accepts %s', (_name, body, contentType) => {
      const [sut] = manifestsOf(body, contentType);

      expect(sut.metadata.name).toBe('api');
      expect(sut.spec.replicas).toBe(3);
    });

    it('treats a JSON array as several documents', () => {
      const web = { ...baseManifest(), metadata: { name: 'web' }, spec: { ...baseManifest().spec, replicas: -1 } };

      const errors = errorsOf(JSON.stringify([baseManifest(), web]), 'application/json');

      expect(errors).toEqual([{ path: '[1].spec.replicas', message: 'must be an integer 0..1000 (got -1)' }]);
    });

    it('reports a JSON __proto__ key as unknown rather than merging it', () => {
      const body = JSON.stringify(baseManifest()).replace('"spec":{', '"spec":{"__proto__":{"replicas":5},');

      expect(errorsOf(body, 'application/json')).toEqual([{ path: 'spec.__proto__', message: 'unknown field' }]);
    });
  });

  describe('with what only the server knows (runtimes, the work dir)', () => {
    const workDir = '/srv/grid';
    const dirs = new Set(['/srv/grid', '/srv/grid/app', '/opt/app']);
    const options = {
      hasRuntime: (runtime: string) => runtime !== 'docker',
      workingDirs: { base: workDir, isDirectory: (dir: string) => dirs.has(dir) },
    };
    const processSpec = (workingDir?: string): string =>
      stringify({ ...baseManifest(), spec: { command: ['node', 'server.js'], ...(workingDir === undefined ? {} : { workingDir }) } });

    it.each([
      ['no workingDir (the work dir itself)', undefined],
      ['a relative directory under the work dir', 'app'],
      ['an absolute directory', '/opt/app'],
      ['a relative path leaving the work dir', '../../opt/app'],
    ])('accepts %s', (_name, workingDir) => {
      expect(manifestsOf(processSpec(workingDir), 'application/yaml', options)).toHaveLength(1);
    });

    it.each([
      ['a missing relative directory', 'nope', "'nope' is not a directory (resolved to /srv/grid/nope)"],
      ['a missing absolute directory', '/srv/nope', "'/srv/nope' is not a directory (resolved to /srv/nope)"],
    ])('refuses %s', (_name, workingDir, message) => {
      expect(errorsOf(processSpec(workingDir), 'application/yaml', options)).toEqual([{ path: 'spec.workingDir', message: `must be an existing directory: ${message}` }]);
    });

    it('does not look at the disk without workingDirs', () => {
      expect(manifestsOf(processSpec('nope'), 'application/yaml', {})).toHaveLength(1);
    });

    it('refuses a runtime this Grid lacks before, and instead of, that runtime\'s own fields', () => {
      const m = baseManifest();
      m.spec.image = 'nginx:1.25';
      m.spec.replicas = -1;

      const errors = errorsOf(stringify(m), 'application/yaml', options);

      expect(errors).toEqual([
        { path: 'spec.image', message: expect.stringContaining('needs the docker runtime, which this Grid does not have yet') },
        { path: 'spec.replicas', message: 'must be an integer 0..1000 (got -1)' },
      ]);
    });

    it('refuses a docker spec while the runtime is unavailable, naming spec.image, the image and why', () => {
      const m = baseManifest();
      Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080 });
      const why = 'the Docker socket /var/run/docker.sock does not answer (connect ENOENT)';

      const errors = errorsOf(stringify(m), 'application/yaml', { runtimeUnavailable: (r: string) => (r === 'docker' ? why : undefined) });

      expect(errors).toEqual([{ path: 'spec.image', message: `'grid-demo:v1' needs the docker runtime, which is unavailable: ${why}` }]);
    });

    it('names spec.command when the process runtime is missing', () => {
      const errors = errorsOf(processSpec(), 'application/yaml', { hasRuntime: (runtime: string) => runtime === 'sim' });

      expect(errors).toEqual([{ path: 'spec.command', message: expect.stringContaining('needs the process runtime') }]);
    });
  });

  it('refuses more than 1000 documents in one request, before validating any', () => {
    const body = Array.from({ length: 1001 }, (_, i) => ({ kind: 'Service', metadata: { name: `s${i}` }, spec: { image: 'local://demo@v1' } }));
    expect(parseManifests(body, 'application/json')).toEqual({ ok: false, errors: [{ path: '(body)', message: 'holds 1001 documents; at most 1000 in one request' }] });
  });

  describe('annotations', () => {
    it('keeps them as given, and leaves the field out when there are none', () => {
      const withSome = manifestsOf('kind: Service\nmetadata:\n  name: api\n  annotations: { grid.dev/image: "reg.example/api:1", note: "any text: at all" }\nspec: { image: local://demo@v1 }\n');
      expect(withSome[0].metadata).toEqual({ name: 'api', labels: {}, annotations: { 'grid.dev/image': 'reg.example/api:1', note: 'any text: at all' } });
      const empty = manifestsOf('kind: Service\nmetadata: { name: api, annotations: {} }\nspec: { image: local://demo@v1 }\n');
      expect(empty[0].metadata).toEqual({ name: 'api', labels: {} });
    });
  });

  describe('example files', () => {
    it.each(['api-v1.yaml', 'api-v2.yaml', 'api-canary.yaml'])('%s applies unchanged', (file) => {
      const sut = manifestsOf(readExample(file), 'application/yaml');

      expect(sut).toHaveLength(1);
      expect(sut[0].metadata).toEqual({ name: 'api', labels: {} });
    });

    it('fills in every default for api-v1.yaml', () => {
      const [sut] = manifestsOf(readExample('api-v1.yaml'));

      expect(sut).toEqual({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'api', labels: {} },
        spec: {
          replicas: 3,
          runtime: 'sim',
          image: 'local://demo@v1',
          env: [{ name: 'VERSION', value: 'v1' }],
          readinessProbe: { httpGet: { path: '/health/ready' }, ...PROBE_DEFAULTS },
          livenessProbe: { httpGet: { path: '/health/live' }, ...PROBE_DEFAULTS },
          terminationGracePeriodSeconds: 10,
          restartBackoff: { initialSeconds: 1, maxSeconds: 60, resetAfterSeconds: 600 },
          autoscale: { targetCPU: 70, min: 2, max: 10, scaleDownStabilizationSeconds: 300 },
          rollout: {
            strategy: 'Rolling',
            maxSurge: '25%',
            maxUnavailable: '25%',
            minReadySeconds: 0,
            steps: [],
            autoPromotionEnabled: true,
            scaleDownDelaySeconds: 30,
            progressDeadlineSeconds: 600,
            progressDeadlineAbort: true,
          },
          revisionHistoryLimit: 10,
        },
      });
    });

    it('reads api-v2.yaml as a BlueGreen rollout of v2', () => {
      const [sut] = manifestsOf(readExample('api-v2.yaml'));

      expect(sut.spec.image).toBe('local://demo@v2');
      expect(sut.spec.env).toEqual([{ name: 'VERSION', value: 'v2' }]);
      expect(sut.spec.rollout.strategy).toBe('BlueGreen');
    });

    it('reads api-canary.yaml steps with durations in seconds', () => {
      const [sut] = manifestsOf(readExample('api-canary.yaml'));

      expect(sut.spec.rollout.strategy).toBe('Canary');
      expect(sut.spec.rollout.steps).toEqual([
        { setWeight: 25 },
        { pause: { duration: 10 } },
        { setWeight: 50 },
        { pause: { duration: 10 } },
        { setWeight: 100 },
      ]);
    });
  });

  describe('accepted variants', () => {
    it.each([
      ['500ms', 0.5],
      ['30s', 30],
      ['5m', 300],
      ['1h', 3600],
      ['1m30s', 90],
      [15, 15],
      [2.5, 2.5],
    ])('pause duration %p is %p seconds', (duration, seconds) => {
      const sut = specOf((m) => canary(m, [{ pause: { duration } }]));

      expect(sut.rollout.steps).toEqual([{ pause: { duration: seconds } }]);
    });

    it('reads chaos steps with their defaults (recoverWithin 60 s, abortStatus 503)', () => {
      const sut = specOf((m) =>
        canary(m, [{ setWeight: 20 }, { chaos: { kill: 1 } }, { chaos: { pause: 1, seconds: '10s', recoverWithin: '2m' } }, { chaos: { faults: { delayMs: 200, delayPercent: 50 }, duration: '30s' } }]),
      );

      expect(sut.rollout.steps).toEqual([
        { setWeight: 20 },
        { chaos: { kill: 1, recoverWithin: 60 } },
        { chaos: { pause: 1, seconds: 10, recoverWithin: 120 } },
        { chaos: { faults: { delayMs: 200, delayPercent: 50, abortPercent: 0, abortStatus: 503 }, duration: 30 } },
      ]);
    });

    it.each([
      ['pause: {}', {}],
      ['pause: null (a bare `- pause:`)', null],
    ])('%s means wait for promotion', (_name, pause) => {
      const sut = specOf((m) => canary(m, [{ pause }]));

      expect(sut.rollout.steps).toEqual([{ pause: {} }]);
    });

    it('derives the process runtime from command', () => {
      const sut = specOf((m) => Object.assign(m.spec, { image: undefined, command: ['node', 'server.js'], workingDir: '/srv' }));

      expect(sut).toMatchObject({ runtime: 'process', command: ['node', 'server.js'], workingDir: '/srv' });
      expect(sut).not.toHaveProperty('image');
    });

    it('derives the docker runtime from a docker image', () => {
      const sut = specOf((m) => Object.assign(m.spec, { image: 'ghcr.io/acme/api:1.2', port: 8080, runtime: 'docker' }));

      expect(sut).toMatchObject({ runtime: 'docker', image: 'ghcr.io/acme/api:1.2', port: 8080 });
    });

    it('needs no port for a docker image on the host network (Grid hands it PORT, as a process)', () => {
      const sut = specOf((m) => (m.spec.image = 'grid-demo:v1'));

      expect(sut).toMatchObject({ runtime: 'docker', image: 'grid-demo:v1' });
      expect(sut).not.toHaveProperty('port');
    });

    it.each([
      ['nothing docker-specific: the fields stay absent (same template hash as before they existed)', {}, {}],
      ['bridge, Never, cpus and memory in Mi', { network: 'bridge', imagePullPolicy: 'Never', resources: { cpus: 0.5, memory: '256Mi' } }, { network: 'bridge', imagePullPolicy: 'Never', resources: { cpus: 0.5, memory: 268435456 } }],
      ['host, Always, memory in bytes', { network: 'host', imagePullPolicy: 'Always', resources: { memory: 134217728 } }, { network: 'host', imagePullPolicy: 'Always', resources: { memory: 134217728 } }],
      ['memory in G', { resources: { memory: '1G' } }, { resources: { memory: 1e9 } }],
    ])('reads the docker fields: %s', (_name, fields, want) => {
      const sut = specOf((m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080 }, fields));

      for (const key of ['network', 'imagePullPolicy', 'resources'] as const) expect(sut[key]).toEqual((want as Record<string, unknown>)[key]);
    });

    it('runs a command in a docker image when runtime: docker says so', () => {
      const sut = specOf((m) => Object.assign(m.spec, { image: 'grid-demo:v1', port: 8080, runtime: 'docker', command: ['/node', '/app/server.js'] }));

      expect(sut).toMatchObject({ runtime: 'docker', image: 'grid-demo:v1', command: ['/node', '/app/server.js'] });
    });

    it('normalises grid/v1 and RollingUpdate', () => {
      const m = baseManifest();
      m.apiVersion = 'grid/v1';
      m.spec.rollout = { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: '0%' };

      const [sut] = manifestsOf(stringify(m));

      expect(sut.apiVersion).toBe('v1');
      expect(sut.spec.rollout).toMatchObject({ strategy: 'Rolling', maxSurge: 1, maxUnavailable: '0%' });
    });

    it('keeps given probe, backoff and analysis values and defaults the rest', () => {
      const sut = specOf((m) => {
        m.spec.readinessProbe = { httpGet: { path: '/r' }, periodSeconds: 2, successThreshold: 2 };
        m.spec.restartBackoff = { initialSeconds: 0.5 };
        m.spec.rollout = { strategy: 'Canary', analysis: { interval: '30s', maxErrorRate: 0.01 } };
      });

      expect(sut.readinessProbe).toEqual({ ...PROBE_DEFAULTS, httpGet: { path: '/r' }, periodSeconds: 2, successThreshold: 2 });
      expect(sut.restartBackoff).toEqual({ initialSeconds: 0.5, maxSeconds: 60, resetAfterSeconds: 600 });
      expect(sut.rollout.analysis).toEqual({
        intervalSeconds: 30,
        minRequests: 20,
        maxErrorRate: 0.01,
        maxP99LatencyMs: 500,
        failureLimit: 2,
      });
    });

    it('accepts Kubernetes label keys and values, including empty values', () => {
      const labels = { 'app.kubernetes.io/name': 'api', tier: '', 'a_b.c-d': 'x_Y.z-1', [`${'a'.repeat(253)}/${'b'.repeat(63)}`]: 'c'.repeat(63) };
      const m = baseManifest();
      m.metadata.labels = labels;

      expect(manifestsOf(stringify(m))[0].metadata.labels).toEqual(labels);
    });

    it('accepts an env entry of exactly MAX_ARG_STRLEN bytes with its NUL', () => {
      const value = 'x'.repeat(131_072 - 'BIG='.length - 1);

      expect(specOf((m) => (m.spec.env = [{ name: 'BIG', value }])).env).toEqual([{ name: 'BIG', value }]);
    });

    it.each(['v1', '1.2.3+build-4', 'blue_green', 'A'.repeat(63)])('accepts VERSION %s', (version) => {
      expect(specOf((m) => (m.spec.env = [{ name: 'VERSION', value: version }])).env).toEqual([{ name: 'VERSION', value: version }]);
    });

    it('accepts a docker image pinned by digest', () => {
      const image = `nginx:1.25@sha256:${'a'.repeat(64)}`;

      expect(specOf((m) => Object.assign(m.spec, { image, port: 80 })).image).toBe(image);
    });

    it('treats an env entry without value as the empty string', () => {
      expect(specOf((m) => (m.spec.env = [{ name: 'EMPTY' }])).env).toEqual([{ name: 'EMPTY', value: '' }]);
    });

    it('defaults replicas to 1 and env to []', () => {
      const sut = specOf((m) => {
        delete m.spec.replicas;
        delete m.spec.env;
      });

      expect(sut.replicas).toBe(1);
      expect(sut.env).toEqual([]);
    });
  });
});

describe('validateManifest', () => {
  it('validates an already-parsed object', () => {
    const sut = validateManifest(baseManifest());

    expect(sut.ok && sut.manifest.spec.runtime).toBe('sim');
  });

  it('reports a root that is not a mapping', () => {
    expect(validateManifest(null)).toEqual({ ok: false, errors: [{ path: '(root)', message: 'must be a mapping (got null)' }] });
  });
});

describe('specHash / templateHash', () => {
  const spec = (patch: (m: Raw) => void = () => undefined): ServiceManifest['spec'] => specOf(patch);

  it('is 16 hex characters', () => {
    expect(specHash(spec())).toMatch(/^[0-9a-f]{16}$/);
    expect(templateHash(spec())).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is stable across key order', () => {
    const reordered = `spec:\n  readinessProbe: {httpGet: {path: /health/ready}}\n  env: [{value: v1, name: VERSION}]\n  image: local://demo@v1\n  replicas: 3\nmetadata: {name: api}\nkind: Service\napiVersion: v1\n`;

    const [sut] = manifestsOf(reordered);

    expect(specHash(sut.spec)).toBe(specHash(spec()));
    expect(templateHash(sut.spec)).toBe(templateHash(spec()));
  });

  it.each<[string, boolean, boolean, (m: Raw) => void]>([
    ['replicas', true, false, (m) => (m.spec.replicas = 5)],
    ['autoscale', true, false, (m) => (m.spec.autoscale = { targetCPU: 50, max: 4 })],
    ['rollout', true, false, (m) => (m.spec.rollout = { strategy: 'BlueGreen' })],
    ['env', true, true, (m) => (m.spec.env[0].value = 'v2')],
    ['image', true, true, (m) => (m.spec.image = 'local://demo@v2')],
    ['probe', true, true, (m) => (m.spec.readinessProbe.periodSeconds = 3)],
    ['dependsOn', true, false, (m) => (m.spec.dependsOn = [{ service: 'db' }])],
    ['storage (persistent: true)', true, true, (m) => (m.spec.storage = { persistent: true })],
    ['storage (persistent: false)', false, false, (m) => (m.spec.storage = { persistent: false })],
    ['storage ({})', false, false, (m) => (m.spec.storage = {})],
    ['storage (mountPath)', true, true, (m) => ((m.spec.image = 'postgres:16'), (m.spec.storage = { persistent: true, mountPath: '/data' }))],
  ])('a %s change: spec hash changes=%p, template hash changes=%p', (_name, specChanges, templateChanges, patch) => {
    const before = spec();
    const after = spec(patch);

    expect(specHash(after) !== specHash(before)).toBe(specChanges);
    expect(templateHash(after) !== templateHash(before)).toBe(templateChanges);
  });
});

describe('parseManifests: FailoverGroup', () => {
  function group(): Raw {
    return {
      apiVersion: 'v1',
      kind: 'FailoverGroup',
      metadata: { name: 'web' },
      spec: { targets: [{ service: 'v1' }, { service: 'v2' }] },
    };
  }
  const ALLOW: ParseOptions = { failoverUrlAllowlist: ['http://10.0.0.5:8080'] };

  it('fills the defaults', () => {
    const sut = parseManifests(stringify(group()), 'application/yaml');

    expect(sut.ok && sut.groups[0].spec).toEqual({
      targets: [{ service: 'v1' }, { service: 'v2' }],
      healthCheck: { path: '/health', intervalSeconds: 5, timeoutSeconds: 2, expectStatus: [{ min: 200, max: 399 }], failureThreshold: 3, successThreshold: 2 },
      cooldownSeconds: 30,
      failback: 'auto',
    });
  });

  it.each<[string, unknown, Array<{ min: number; max: number }>]>([
    ['a number', 200, [{ min: 200, max: 200 }]],
    ['a range', '200-299', [{ min: 200, max: 299 }]],
    ['a list', [200, '300-302'], [{ min: 200, max: 200 }, { min: 300, max: 302 }]],
  ])('reads expectStatus as %s', (_name, expectStatus, want) => {
    const m = group();
    m.spec.healthCheck = { expectStatus };

    const sut = parseManifests(stringify(m), 'application/yaml');

    expect(sut.ok && sut.groups[0].spec.healthCheck.expectStatus).toEqual(want);
  });

  it('accepts an allowed url target, normalised to its origin, beside a service in the same body', () => {
    const m = group();
    m.spec.targets = [{ service: 'api' }, { url: 'http://10.0.0.5:8080/' }];
    const body = [stringify({ ...group(), kind: 'Service', metadata: { name: 'api' }, spec: { image: 'local://demo@v1' } }), stringify(m)].join('---\n');

    const sut = parseManifests(body, 'application/yaml', ALLOW);

    expect(sut.ok && [sut.manifests.map((s) => s.metadata.name), sut.groups[0].spec.targets]).toEqual([['api'], [{ service: 'api' }, { url: 'http://10.0.0.5:8080' }]]);
  });

  const cases: Array<[string, (m: Raw) => void, string, string]> = [
    ['no targets', (m) => delete m.spec.targets, 'spec.targets', 'is required'],
    ['empty targets', (m) => (m.spec.targets = []), 'spec.targets', 'must have 1..10 targets (got 0)'],
    ['11 targets', (m) => (m.spec.targets = Array.from({ length: 11 }, (_, i) => ({ service: `s${i}` }))), 'spec.targets', 'must have at most 10 items (got 11)'],
    ['a target with both', (m) => (m.spec.targets[0] = { service: 'a', url: 'http://10.0.0.5:8080' }), 'spec.targets[0]', 'must have exactly one of service or url'],
    ['a target with neither', (m) => (m.spec.targets[0] = {}), 'spec.targets[0]', 'must have exactly one of service or url'],
    ['a bad service name', (m) => (m.spec.targets[1] = { service: 'Bad_Name' }), 'spec.targets[1].service', 'must be the name of a Grid service'],
    ['a duplicate target', (m) => (m.spec.targets[1] = { service: 'v1' }), 'spec.targets[1]', "duplicate target 'v1'"],
    ['itself as a target', (m) => (m.spec.targets[1] = { service: 'web' }), 'spec.targets[1].service', "'web' is a failover group"],
    ['an unknown target field', (m) => (m.spec.targets[0].weight = 5), 'spec.targets[0].weight', 'unknown field'],
    ['a url not allowed', (m) => (m.spec.targets[1] = { url: 'http://10.0.0.6:8080' }), 'spec.targets[1].url', 'http://10.0.0.6:8080 is not in GRID_FAILOVER_URL_ALLOWLIST'],
    ['an https url', (m) => (m.spec.targets[1] = { url: 'https://10.0.0.5:8080' }), 'spec.targets[1].url', 'must be an http origin'],
    ['a url with a path', (m) => (m.spec.targets[1] = { url: 'http://10.0.0.5:8080/admin' }), 'spec.targets[1].url', 'must be an http origin'],
    ['a url with credentials', (m) => (m.spec.targets[1] = { url: 'http://u:p@10.0.0.5:8080' }), 'spec.targets[1].url', 'must be an http origin'],
    ['a url that is no url', (m) => (m.spec.targets[1] = { url: 'metadata.internal' }), 'spec.targets[1].url', 'must be an http origin'],
    ['interval 0.05', (m) => (m.spec.healthCheck = { intervalSeconds: 0.05 }), 'spec.healthCheck.intervalSeconds', 'must be a number 0.1..3600 (got 0.05)'],
    ['timeout 0', (m) => (m.spec.healthCheck = { timeoutSeconds: 0 }), 'spec.healthCheck.timeoutSeconds', 'must be a number 0.05..60 (got 0)'],
    ['maxLatencyMs 0', (m) => (m.spec.healthCheck = { maxLatencyMs: 0 }), 'spec.healthCheck.maxLatencyMs', 'must be a number greater than 0'],
    ['maxLatencyMs above the timeout', (m) => (m.spec.healthCheck = { timeoutSeconds: 1, maxLatencyMs: 1000 }), 'spec.healthCheck.maxLatencyMs', 'must be below timeoutSeconds (1000 ms)'],
    ['a relative path', (m) => (m.spec.healthCheck = { path: 'health' }), 'spec.healthCheck.path', "must start with '/'"],
    ['a path that is a URL', (m) => (m.spec.healthCheck = { path: '//evil/x' }), 'spec.healthCheck.path', "must not start with '//'"],
    // Found by the attack review: the check of a service goes to <GRID url>/gateway/<service><path>, and '..' reached /audit/verify.
    ['a path climbing out with ..', (m) => (m.spec.healthCheck = { path: '/../../audit/verify' }), 'spec.healthCheck.path', "must not contain '.' or '..' segments"],
    ['a path climbing out with %2e%2e', (m) => (m.spec.healthCheck = { path: '/%2e%2E/other/health' }), 'spec.healthCheck.path', "must not contain '.' or '..' segments"],
    ['a path with a . segment', (m) => (m.spec.healthCheck = { path: '/a/./b' }), 'spec.healthCheck.path', "must not contain '.' or '..' segments"],
    ['expectStatus 600', (m) => (m.spec.healthCheck = { expectStatus: 600 }), 'spec.healthCheck.expectStatus', 'must be a status code 100..599'],
    ['expectStatus backwards', (m) => (m.spec.healthCheck = { expectStatus: '399-200' }), 'spec.healthCheck.expectStatus', 'must be a status code 100..599'],
    ['expectStatus words', (m) => (m.spec.healthCheck = { expectStatus: 'ok' }), 'spec.healthCheck.expectStatus', 'must be a status code 100..599'],
    ['expectJson a string', (m) => (m.spec.healthCheck = { expectJson: 'healthy' }), 'spec.healthCheck.expectJson', 'must be a non-empty mapping'],
    ['expectJson empty', (m) => (m.spec.healthCheck = { expectJson: {} }), 'spec.healthCheck.expectJson', 'must be a non-empty mapping'],
    ['failureThreshold 0', (m) => (m.spec.healthCheck = { failureThreshold: 0 }), 'spec.healthCheck.failureThreshold', 'must be an integer 1..100 (got 0)'],
    ['successThreshold 1.5', (m) => (m.spec.healthCheck = { successThreshold: 1.5 }), 'spec.healthCheck.successThreshold', 'must be an integer 1..100 (got 1.5)'],
    ['an unknown healthCheck field', (m) => (m.spec.healthCheck = { port: 80 }), 'spec.healthCheck.port', 'unknown field'],
    ['cooldown -1', (m) => (m.spec.cooldownSeconds = -1), 'spec.cooldownSeconds', 'must be a number 0..86400 (got -1)'],
    ['failback sometimes', (m) => (m.spec.failback = 'sometimes'), 'spec.failback', 'must be auto or manual'],
    ['a Service field', (m) => (m.spec.replicas = 3), 'spec.replicas', 'unknown field'],
  ];

  it.each(cases)('rejects %s', (_name, patch, path, message) => {
    const m = group();
    m.spec.targets.push({ url: 'http://10.0.0.5:8080' });
    patch(m);

    const errors = errorsOf(stringify(m), 'application/yaml', ALLOW);

    expect(errors).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it.each<[string, string, ParseOptions, string, string]>([
    ['a group named like a stored service', 'group', { serviceExists: (n) => n === 'web' }, 'metadata.name', "'web' is already a service"],
    ['a service named like a stored group', 'service', { groupExists: (n) => n === 'web' }, 'metadata.name', "'web' is already a failover group"],
    ['a group named like a stored group\'s service target', 'group', { targetedBy: (n) => (n === 'web' ? 'front' : undefined) }, 'metadata.name', "'web' is a service target of failover group 'front'"],
  ])('refuses %s', (_name, kind, options, path, message) => {
    const doc = kind === 'group' ? group() : { kind: 'Service', metadata: { name: 'web' }, spec: { image: 'local://demo@v1' } };

    expect(errorsOf(stringify(doc), 'application/yaml', options)).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('refuses a group and a service of one name in one body, and a group targeting another group of the body', () => {
    const other = { ...group(), metadata: { name: 'dr' }, spec: { targets: [{ service: 'web' }] } };
    const body = [stringify({ kind: 'Service', metadata: { name: 'web' }, spec: { image: 'local://demo@v1' } }), stringify(group()), stringify(other)].join('---\n');

    const errors = errorsOf(body, 'application/yaml');

    expect(errors).toEqual(
      expect.arrayContaining([
        { path: '[1].metadata.name', message: "duplicate name 'web' in this request" },
        { path: '[2].spec.targets[0].service', message: expect.stringContaining("'web' is a failover group") },
      ]),
    );
  });
});

describe('parseManifests: spec.dependsOn', () => {
  function withDeps(name: string, deps: unknown): Raw {
    const m = baseManifest();
    m.metadata.name = name;
    m.spec.dependsOn = deps;
    return m;
  }
  const yaml = (...ms: Raw[]): string => ms.map((m) => stringify(m)).join('---\n');

  it.each<[string, unknown, unknown]>([
    ['condition defaults to Available', [{ service: 'db' }], [{ service: 'db', condition: 'Available' }]],
    ['Started is kept', [{ service: 'db', condition: 'Started' }], [{ service: 'db', condition: 'Started' }]],
    ['several, in order', [{ service: 'db', condition: 'Started' }, { service: 'cache' }], [{ service: 'db', condition: 'Started' }, { service: 'cache', condition: 'Available' }]],
    ['an empty list is left out', [], undefined],
    ['16 dependencies', Array.from({ length: 16 }, (_, i) => ({ service: `s${i}` })), Array.from({ length: 16 }, (_, i) => ({ service: `s${i}`, condition: 'Available' }))],
  ])('%s', (_name, deps, expected) => {
    const sut = manifestsOf(yaml(withDeps('api', deps)));

    expect(sut[0].spec.dependsOn).toEqual(expected);
  });

  it.each<[string, unknown, string, string]>([
    ['not a list', 'db', 'spec.dependsOn', 'must be an array'],
    ['17 dependencies', Array.from({ length: 17 }, (_, i) => ({ service: `s${i}` })), 'spec.dependsOn', 'at most 16 items (got 17)'],
    ['a bare name (Compose)', ['db'], 'spec.dependsOn[0]', 'must be a mapping like {service: db} (got string "db")'],
    ['a mapping by name (Compose)', { db: { condition: 'service_healthy' } }, 'spec.dependsOn', 'must be a list of mappings like [{service: db}] (got a mapping)'],
    ["Compose's service_healthy", [{ service: 'db', condition: 'service_healthy' }], 'spec.dependsOn[0].condition', 'did you mean Available? must be Available'],
    ["Compose's service_started", [{ service: 'db', condition: 'service_started' }], 'spec.dependsOn[0].condition', 'did you mean Started? must be Available'],
    ['a condition named like an Object method', [{ service: 'db', condition: 'constructor' }], 'spec.dependsOn[0].condition', 'must be Available (default'],
    ['no service', [{ condition: 'Started' }], 'spec.dependsOn[0].service', 'must be the name of a Grid service'],
    ['a service that is not a DNS label', [{ service: 'Db_1' }], 'spec.dependsOn[0].service', 'DNS-1123 label'],
    ['a duplicate', [{ service: 'db' }, { service: 'db', condition: 'Started' }], 'spec.dependsOn[1].service', "duplicate dependency 'db'"],
    ['an unknown condition', [{ service: 'db', condition: 'Healthy' }], 'spec.dependsOn[0].condition', 'must be Available'],
    ['an unknown field', [{ service: 'db', timeout: 5 }], 'spec.dependsOn[0].timeout', 'unknown field'],
    ['itself', [{ service: 'cache' }, { service: 'api' }], 'spec.dependsOn[1].service', "'api' cannot depend on itself"],
  ])('rejects %s', (_name, deps, path, message) => {
    const errors = errorsOf(yaml(withDeps('api', deps)));

    expect(errors).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('says a missing service is waited for', () => {
    const errors = errorsOf(yaml(withDeps('api', [{ service: 'db', condition: 'Up' }])));

    expect(errors[0].message).toContain('does not exist yet is waited for');
  });

  it.each<[string, Raw[], ParseOptions, string, string]>([
    ['two services of the request', [withDeps('api', [{ service: 'db' }]), withDeps('db', [{ service: 'api' }])], {}, '[0].spec.dependsOn', 'a cycle: api → db → api'],
    ['through a stored service', [withDeps('api', [{ service: 'db' }])], { dependenciesOf: (n) => (n === 'db' ? ['cache'] : n === 'cache' ? ['api'] : []) }, 'spec.dependsOn', 'a cycle: api → db → cache → api'],
    ['a request service replacing its stored self', [withDeps('db', [{ service: 'api' }])], { dependenciesOf: (n) => (n === 'api' ? ['db'] : n === 'db' ? [] : []) }, 'spec.dependsOn', 'a cycle: db → api → db'],
    ['told from the request service, second in the body', [withDeps('web', []), withDeps('db', [{ service: 'api' }])], { dependenciesOf: (n) => (n === 'api' ? ['db'] : []) }, '[1].spec.dependsOn', 'a cycle: db → api → db'],
  ])('rejects a cycle %s', (_name, ms, options, path, message) => {
    const errors = errorsOf(yaml(...ms), undefined, options);

    expect(errors).toEqual([{ path, message: expect.stringContaining(message) }]);
  });

  it.each<[string, Raw[], ParseOptions]>([
    ['a chain', [withDeps('api', [{ service: 'db' }]), withDeps('db', [{ service: 'disk' }])], {}],
    ['a diamond', [withDeps('api', [{ service: 'db' }, { service: 'cache' }]), withDeps('cache', [{ service: 'db' }])], {}],
    ['a stored cycle-free graph', [withDeps('api', [{ service: 'db' }])], { dependenciesOf: (n) => (n === 'db' ? ['cache'] : []) }],
    ['a stored dependency the request removes', [withDeps('db', [])], { dependenciesOf: (n) => (n === 'api' ? ['db'] : n === 'db' ? ['api'] : []) }],
  ])('accepts %s', (_name, ms, options) => {
    expect(manifestsOf(yaml(...ms), undefined, options)).toHaveLength(ms.length);
  });
});

describe(dependencyCycle.name, () => {
  it('finds no cycle without dependencies', () => {
    const sut = dependencyCycle([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', labels: {} }, spec: {} as ServiceManifest['spec'] }]);

    expect(sut).toBeUndefined();
  });
});

describe('parseManifests: spec.storage', () => {
  it.each<[string, unknown, unknown]>([
    ['persistent: true is kept', { persistent: true }, { persistent: true }],
    ['persistent: false is left out (today\'s pods)', { persistent: false }, undefined],
    ['an empty mapping is left out', {}, undefined],
    ['null is left out', null, undefined],
  ])('%s', (_name, storage, expected) => {
    const sut = specOf((m) => (m.spec.storage = storage));

    expect(sut.storage).toEqual(expected);
  });

  it('with a Rolling strategy given explicitly', () => {
    const sut = specOf((m) => {
      m.spec.storage = { persistent: true };
      m.spec.rollout = { strategy: 'RollingUpdate', maxSurge: 2 };
    });

    expect(sut.storage).toEqual({ persistent: true });
  });

  it.each<[string, (m: Raw) => void, string, string]>([
    ['not a mapping', (m) => (m.spec.storage = true), 'spec.storage', 'must be a mapping'],
    ['persistent not a boolean', (m) => (m.spec.storage = { persistent: 'yes' }), 'spec.storage.persistent', 'must be a boolean'],
    ['an unknown field', (m) => (m.spec.storage = { persistent: true, size: '1Gi' }), 'spec.storage.size', 'unknown field'],
    ['with Canary', (m) => ((m.spec.storage = { persistent: true }), canary(m, [{ setWeight: 50 }])), 'spec.rollout.strategy', 'must be Rolling with spec.storage.persistent'],
    ['with BlueGreen', (m) => ((m.spec.storage = { persistent: true }), (m.spec.rollout = { strategy: 'BlueGreen' })), 'spec.rollout.strategy', 'got BlueGreen'],
  ])('rejects %s', (_name, patch, path, message) => {
    const m = baseManifest();
    patch(m);

    const sut = errorsOf(stringify(m));

    expect(sut).toEqual([expect.objectContaining({ path, message: expect.stringContaining(message) })]);
  });

  const docker = (m: Raw, storage: unknown) => ((m.spec.image = 'postgres:16'), (m.spec.storage = storage));

  it.each<[string, string]>([
    ['a claim-like path', '/var/lib/postgresql/data'],
    ['a trailing slash (as given)', '/data/'],
    ['a dotted name that is not ..', '/srv/..data/x.y'],
  ])('docker: mountPath %s is kept', (_name, mountPath) => {
    const sut = specOf((m) => docker(m, { persistent: true, mountPath }));

    expect(sut.storage).toEqual({ persistent: true, mountPath });
  });

  it.each<[string, (m: Raw) => void, string, string]>([
    ['a relative mountPath', (m) => docker(m, { persistent: true, mountPath: 'data' }), 'spec.storage.mountPath', 'must be an absolute path inside the container (got string \"data\")'],
    ['a mountPath with ..', (m) => docker(m, { persistent: true, mountPath: '/data/../etc' }), 'spec.storage.mountPath', "must not contain '..'"],
    ['a mountPath with NUL', (m) => docker(m, { persistent: true, mountPath: '/da\0ta' }), 'spec.storage.mountPath', 'must not contain a NUL byte'],
    ['a mountPath with :', (m) => docker(m, { persistent: true, mountPath: '/data:ro' }), 'spec.storage.mountPath', "must not contain ':'"],
    ['mountPath /', (m) => docker(m, { persistent: true, mountPath: '/' }), 'spec.storage.mountPath', "must not be '/'"],
    ['mountPath not a string', (m) => docker(m, { persistent: true, mountPath: 5 }), 'spec.storage.mountPath', 'must be a string'],
    ['mountPath without persistent', (m) => docker(m, { mountPath: '/data' }), 'spec.storage.mountPath', 'needs spec.storage.persistent: true'],
    ['mountPath with persistent: false', (m) => docker(m, { persistent: false, mountPath: '/data' }), 'spec.storage.mountPath', 'needs spec.storage.persistent: true'],
    ['mountPath on a process', (m) => ((m.spec.image = undefined), (m.spec.command = ['node', 'x.js']), (m.spec.storage = { persistent: true, mountPath: '/data' })), 'spec.storage.mountPath', 'is for the docker runtime (an image): a process pod'],
    ['mountPath on a sim image', (m) => (m.spec.storage = { persistent: true, mountPath: '/data' }), 'spec.storage.mountPath', 'a sim pod'],
  ])('rejects %s', (_name, patch, path, message) => {
    const m = baseManifest();
    patch(m);

    const sut = errorsOf(stringify(m));

    expect(sut).toEqual([expect.objectContaining({ path, message: expect.stringContaining(message) })]);
  });

  it('accepts Canary when persistent is false', () => {
    const sut = specOf((m) => ((m.spec.storage = { persistent: false }), canary(m, [{ setWeight: 50 }])));

    expect(sut.rollout.strategy).toBe('Canary');
  });
});

// Rows found by the property tests (spec-validator.fuzz.spec.ts, test/e2e/apply-fuzz.e2e.spec.ts).
describe('parseManifests: what the fuzz tests found', () => {
  const svc = (spec: Record<string, unknown>, name = 'api') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { image: 'local://demo@v1', ...spec } });
  const deployment = (container: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'k' },
    spec: { template: { metadata: { labels: { app: 'k' } }, spec: { containers: [{ name: 'c', image: 'local://demo@v1', ...container }] } }, ...extra },
  });
  const compose = (service: Record<string, unknown>) => ({ services: { web: { image: 'local://demo@v1', ...service } } });

  // Grid's stored form (GET /services/:name, /failover) must apply back: it was refused.
  it.each<[string, Record<string, unknown>]>([
    ['a Rolling rollout with steps: [] (every stored spec has it)', svc({ rollout: { strategy: 'Rolling', steps: [] } })],
    ['autoscale.scaleDownStabilizationSeconds', svc({ autoscale: { targetCPU: 50, min: 1, max: 3, scaleDownStabilizationSeconds: 60 } })],
    ['analysis.intervalSeconds', svc({ rollout: { strategy: 'Canary', analysis: { intervalSeconds: 10 } } })],
    ['expectStatus as {min, max}', { apiVersion: 'v1', kind: 'FailoverGroup', metadata: { name: 'g' }, spec: { targets: [{ service: 'api' }], healthCheck: { expectStatus: [{ min: 200, max: 399 }] } } }],
  ])('accepts what Grid itself shows: %s, and reads it back the same', (_name, doc) => {
    const first = parseManifests([doc], undefined);
    if (!first.ok) throw new Error(JSON.stringify(first.errors));
    const again = parseManifests([...first.manifests, ...first.groups], undefined);
    expect(again).toEqual(first);
  });

  it.each<[string, unknown, string, string]>([
    ['both scaleDown windows', svc({ autoscale: { targetCPU: 50, max: 3, scaleDownStabilizationSeconds: 60, behavior: { scaleDown: { stabilizationWindowSeconds: 30 } } } }), 'spec.autoscale.scaleDownStabilizationSeconds', 'not both'],
    ['both analysis intervals', svc({ rollout: { strategy: 'Canary', analysis: { interval: '10s', intervalSeconds: 10 } } }), 'spec.rollout.analysis.intervalSeconds', 'not both'],
    ['steps on a Rolling rollout, still', svc({ rollout: { strategy: 'Rolling', steps: [{ setWeight: 10 }] } }), 'spec.rollout.steps', 'only used by the Canary strategy'],
    // Was path '' (and 'spec.'): an empty key named no field.
    ['an empty key at the root', { ...svc({}), '': 1 }, '[""]', 'unknown field'],
    ['an empty key in spec', svc({ '': 1 }), 'spec[""]', 'unknown field'],
    // Was a 500: String() of a mapping with its own toString key throws.
    ['a Compose environment value {toString: 1}', compose({ environment: { A: { toString: 1 } } }), 'services.web.environment.A', 'must be a string, number or boolean'],
    ['a Compose environment item {toString: 1}', compose({ environment: [{ toString: 1 }] }), 'services.web.environment[0]', 'must be NAME=VALUE'],
    ['a Compose environment value that is a mapping (was the string "[object Object]")', compose({ environment: { A: { b: 1 } } }), 'services.web.environment.A', 'must be a string, number or boolean'],
    ['a Compose label {toString: 1}', compose({ labels: { 'grid.dev/command': { toString: 1 } } }), 'services.web.labels.grid.dev/command', 'JSON array of strings'],
    ['a Kubernetes env value {toString: 1} beside a port', deployment({ image: 'nginx:1', ports: [{ containerPort: 80 }], env: [{ name: 'PORT', value: { toString: 1 } }] }), 'spec.env[0].value', 'must be a string'],
  ])('refuses %s, naming the field', (_name, doc, path, message) => {
    expect(errorsOf([doc])).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  // A 300 KB value came back whole in the message (JSON.stringify in the importers, names in "imported from").
  it.each<[string, unknown]>([
    ['a huge apiVersion on a Deployment', { ...deployment({}), apiVersion: 'x'.repeat(300_000) }],
    ['a huge Compose image with ${VAR}', compose({ image: `\${A}${'x'.repeat(300_000)}` })],
    ['a huge Compose stop_grace_period', compose({ stop_grace_period: 'x'.repeat(300_000) })],
    ['a huge Compose command that is not a string', compose({ image: 'nginx:1', command: { a: 'x'.repeat(300_000) } })],
    ['a huge Deployment name', { ...deployment({}), metadata: { name: 'x'.repeat(300_000) } }],
    ['a huge probe path', svc({ readinessProbe: { httpGet: { path: `/${'x'.repeat(2000)} ` } } })],
    ['a huge unknown key', svc({ ['k'.repeat(300_000)]: 1 })],
    ['a huge kind', { ...svc({}), kind: 'K'.repeat(300_000) }],
  ])('quotes %s cut short', (_name, doc) => {
    const errors = errorsOf([doc]);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e.path.length + e.message.length).toBeLessThan(1000);
  });

  it('imports a simulated image without docker port fields (a containerPort and a Service port were refused as spec.network)', () => {
    const docs = [deployment({ ports: [{ containerPort: 8080 }] }), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'k' }, spec: { selector: { app: 'k' }, ports: [{ port: 80 }] } }, compose({ ports: ['8080:80'] })];
    const sut = parseManifests(docs, undefined);
    if (!sut.ok) throw new Error(JSON.stringify(sut.errors));
    for (const m of sut.manifests) expect(m.spec).not.toHaveProperty('network');
    expect(sut.imported.flatMap((n) => n.ignored)).toEqual(expect.arrayContaining(['spec.template.spec.containers[0].ports[0]', 'spec.ports[0]', 'ports[0]']));
  });
});
