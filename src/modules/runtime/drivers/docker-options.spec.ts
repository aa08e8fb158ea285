import type { ServiceSpec } from '../../specs/spec.types.js';
import { containerCreateBody, cpuPercent, demuxLogs, logOptions, volumeOwnership } from './docker-options.js';
import type { PodStartSpec } from './pod-driver.js';

function pod(spec: Partial<ServiceSpec>): PodStartSpec {
  return {
    podId: 'web-abcde',
    service: 'web',
    revision: 3,
    templateHash: 'h1',
    version: 'v1',
    spec: { replicas: 1, runtime: 'docker', image: 'grid-demo:v1', port: 8080, env: [], terminationGracePeriodSeconds: 10, restartBackoff: { initialSeconds: 1, maxSeconds: 60, resetAfterSeconds: 600 }, rollout: {} as ServiceSpec['rollout'], revisionHistoryLimit: 10, ...spec },
    labels: { 'grid.service': 'web', 'grid.revision': '3', 'grid.spec-hash': 'h1', 'grid.version': 'v1' },
    env: { VERSION: 'v1', POD_NAME: 'web-abcde' },
  };
}

const LOGS = { maxBytes: 10 * 1024 * 1024, maxFiles: 2 };

describe(containerCreateBody.name, () => {
  const sut = containerCreateBody;

  it('labels the container as Grid-managed, by pod and by instance, beside the pod labels', () => {
    expect(sut(pod({}), 40000, 'inst1', LOGS).Labels).toEqual({
      'grid.service': 'web',
      'grid.revision': '3',
      'grid.spec-hash': 'h1',
      'grid.version': 'v1',
      'grid.managed': 'true',
      'grid.pod': 'web-abcde',
      'grid.instance': 'inst1',
    });
  });

  it.each([
    ['host networking (default): PORT is the free host port, no published ports', {}, { NetworkMode: 'host', PortBindings: undefined }, 'PORT=40000', 'HOST=127.0.0.1', undefined],
    ['bridge: listens on spec.port, published on 127.0.0.1 only', { network: 'bridge' as const }, { NetworkMode: 'bridge', PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '40000' }] } }, 'PORT=8080', 'HOST=0.0.0.0', { '8080/tcp': {} }],
  ])('%s', (_name, spec, host, port, listen, exposed) => {
    const body = sut(pod(spec), 40000, 'i', LOGS);
    expect(body.HostConfig).toMatchObject({ NetworkMode: host.NetworkMode, RestartPolicy: { Name: 'no' } });
    expect(body.HostConfig.PortBindings).toEqual(host.PortBindings);
    expect(body.ExposedPorts).toEqual(exposed);
    expect(body.Env).toEqual(expect.arrayContaining(['VERSION=v1', 'POD_NAME=web-abcde', port, listen]));
  });

  it.each([
    ['no command: the image entrypoint and CMD stay', undefined, undefined, undefined],
    ['command replaces the entrypoint; its arguments replace CMD', ['/node', 'app.js', '--x'], ['/node'], ['app.js', '--x']],
    ['$(VAR) expands from the pod env, PORT included; $$ escapes', ['/node', '--port=$(PORT)', '$(VERSION)', '$$(PORT)', '$(NOPE)'], ['/node'], ['--port=40000', 'v1', '$(PORT)', '$(NOPE)']],
  ])('%s', (_name, command, entrypoint, cmd) => {
    const body = sut(pod(command ? { command } : {}), 40000, 'i', LOGS);
    expect(body.Entrypoint).toEqual(entrypoint);
    expect(body.Cmd).toEqual(cmd);
  });

  it.each([
    ['none', undefined, undefined, undefined],
    ['cpus to NanoCpus', { cpus: 0.5 }, 500_000_000, undefined],
    ['memory in bytes', { memory: 256 * 1024 ** 2 }, undefined, 268435456],
    ['both', { cpus: 2, memory: 1e9 }, 2_000_000_000, 1e9],
  ])('resources: %s', (_name, resources, nanoCpus, memory) => {
    const body = sut(pod(resources ? { resources } : {}), 1, 'i', LOGS);
    expect(body.HostConfig.NanoCpus).toBe(nanoCpus);
    expect(body.HostConfig.Memory).toBe(memory);
  });

  it.each([
    ['no data directory: no bind mounts', undefined, undefined, undefined, undefined, undefined],
    ['a persistent pod: its directory at the same path inside, and GRID_POD_DATA naming it', '/var/grid/pods/web-2', undefined, ['/var/grid/pods/web-2:/var/grid/pods/web-2'], 'GRID_POD_DATA=/var/grid/pods/web-2', ['/var/grid/pods/web-2']],
    ['mountPath: the directory there, and GRID_POD_DATA (and $(GRID_POD_DATA)) naming the path inside', '/var/grid/pods/db-0', '/var/lib/postgresql/data', ['/var/grid/pods/db-0:/var/lib/postgresql/data'], 'GRID_POD_DATA=/var/lib/postgresql/data', ['/var/lib/postgresql/data']],
  ])('storage: %s', (_name, dataDir, mountPath, binds, env, cmd) => {
    const p = pod({ command: ['/bin/db', '$(GRID_POD_DATA)'], ...(mountPath ? { storage: { persistent: true, mountPath } } : {}) });
    if (dataDir !== undefined) {
      p.dataDir = dataDir;
      p.env.GRID_POD_DATA = dataDir;
    }
    const body = sut(p, 1, 'i', LOGS);
    expect(body.HostConfig.Binds).toEqual(binds);
    if (env) expect(body.Env.filter((e) => e.startsWith('GRID_POD_DATA='))).toEqual([env]);
    else expect(body.Env.some((e) => e.startsWith('GRID_POD_DATA='))).toBe(false);
    if (cmd) expect(body.Cmd).toEqual(cmd);
  });

  it('passes image and workingDir through', () => {
    expect(sut(pod({ workingDir: '/app' }), 1, 'i', LOGS)).toMatchObject({ Image: 'grid-demo:v1', WorkingDir: '/app' });
  });

  it.each([['host'], ['bridge']] as const)('hardens every container (%s network): no raw sockets to sniff loopback, no setuid escalation, bounded pids and logs', (network) => {
    const body = sut(pod(network === 'bridge' ? { network, port: 8080 } : {}), 1, 'i', LOGS);
    expect(body.HostConfig).toMatchObject({ CapDrop: ['NET_RAW'], SecurityOpt: ['no-new-privileges'], PidsLimit: 1024, LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } } });
  });
});

describe(volumeOwnership.name, () => {
  const sut = volumeOwnership;
  const rootOwned = { uid: 0, gid: 0 };

  it.each<[string, string | undefined, { uid: number; gid: number }, ReturnType<typeof volumeOwnership>]>([
    ['no USER: the container runs as root, which writes anything', undefined, rootOwned, { action: 'keep' }],
    ['an empty USER is root too', '', rootOwned, { action: 'keep' }],
    ['USER 0', '0', { uid: 1000, gid: 1000 }, { action: 'keep' }],
    ['USER root (uid 0 in every image)', 'root', { uid: 1000, gid: 1000 }, { action: 'keep' }],
    ['USER root:staff', 'root:staff', rootOwned, { action: 'keep' }],
    ['a numeric uid:gid (the demo images): the directory is given to both', '10001:10001', rootOwned, { action: 'chown', uid: 10001, gid: 10001 }],
    ['a numeric uid alone: the group stays (-1), the owner is what a 0700 directory needs', '10001', rootOwned, { action: 'chown', uid: 10001, gid: -1 }],
    ['uid with a group name: the uid, the group stays', '10001:app', rootOwned, { action: 'chown', uid: 10001, gid: -1 }],
    ['uid with group root', '10001:root', { uid: 5, gid: 5 }, { action: 'chown', uid: 10001, gid: 0 }],
    ['already the user\'s (a restart, or Grid runs as that uid)', '10001:10001', { uid: 10001, gid: 10001 }, { action: 'keep' }],
    ['already the uid\'s, no group asked', '10001', { uid: 10001, gid: 0 }, { action: 'keep' }],
    ['the uid\'s but another group: the group is set', '10001:10001', { uid: 10001, gid: 0 }, { action: 'chown', uid: 10001, gid: 10001 }],
    ['found owned by the previous image\'s user', '999', { uid: 10001, gid: 10001 }, { action: 'chown', uid: 999, gid: -1 }],
    ['a user name: unresolved without the image\'s /etc/passwd', 'postgres', rootOwned, { action: 'unresolved', user: 'postgres' }],
    ['name:gid is still a name', 'app:10001', rootOwned, { action: 'unresolved', user: 'app:10001' }],
    ['a uid beyond 32 bits is no id', '4294967296', rootOwned, { action: 'unresolved', user: '4294967296' }],
    ['(uid_t)-1 is no id', '4294967295', rootOwned, { action: 'unresolved', user: '4294967295' }],
    ['the largest uid', '4294967294', rootOwned, { action: 'chown', uid: 4294967294, gid: -1 }],
  ])('%s (%p)', (_name, user, current, expected) => {
    expect(sut(user, current)).toEqual(expected);
  });
});

describe(logOptions.name, () => {
  it.each([
    { limits: { maxBytes: 10 * 1024 * 1024, maxFiles: 2 }, size: '10m', files: '2' },
    { limits: { maxBytes: 512 * 1024, maxFiles: 5 }, size: '512k', files: '5' },
    { limits: { maxBytes: 1536 * 1024, maxFiles: 1 }, size: '1536k', files: '1' },
    { limits: { maxBytes: 1000, maxFiles: 3 }, size: '1000', files: '3' },
    { limits: { maxBytes: 2 * 1024 * 1024 * 1024, maxFiles: 2 }, size: '2048m', files: '2' },
  ])('GRID_POD_LOG_MAX_BYTES=$limits.maxBytes, GRID_POD_LOG_MAX_FILES=$limits.maxFiles: json-file max-size $size, max-file $files', ({ limits, size, files }) => {
    expect(logOptions(limits)).toEqual({ Type: 'json-file', Config: { 'max-size': size, 'max-file': files } });
  });
});

describe(demuxLogs.name, () => {
  const frame = (type: number, text: string) => {
    const payload = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = type;
    head.writeUInt32BE(payload.length, 4);
    return Buffer.concat([head, payload]);
  };

  it.each([
    ['stdout and stderr frames, in order', Buffer.concat([frame(1, 'a\n'), frame(2, 'err\n'), frame(1, 'b\n')]), 'a\nerr\nb\n'],
    ['a torn last frame is kept as far as it goes', Buffer.concat([frame(1, 'a\n'), frame(1, 'bcdef').subarray(0, 10)]), 'a\nbc'],
    ['nothing', Buffer.alloc(0), ''],
    ['a TTY log (not multiplexed) as it is', Buffer.from('plain text log\n'), 'plain text log\n'],
  ])('%s', (_name, input, want) => {
    expect(demuxLogs(input)).toBe(want);
  });
});

describe(cpuPercent.name, () => {
  it.each([
    [0, 1e9, 1000, 100],
    [0, 5e8, 1000, 50],
    [0, 3e9, 2000, 150],
    [100, 50, 1000, 0],
    [0, 1e9, 0, 0],
  ])('%d ns -> %d ns over %d ms is %d%%', (prev, now, wall, want) => {
    expect(cpuPercent(prev, now, wall)).toBe(want);
  });
});

