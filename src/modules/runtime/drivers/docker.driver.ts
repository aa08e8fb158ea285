import { Logger } from '@nestjs/common';
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Clock } from '../../../common/clock/clock.js';
import type { RuntimeName } from '../../specs/spec.types.js';
import type { PodLogLimits } from '../../../common/config/config.js';
import { containerCreateBody, cpuPercent, demuxLogs, LABEL_INSTANCE, LABEL_MANAGED, LABEL_POD, volumeOwnership } from './docker-options.js';
import type { AdoptCandidate, DriverNote, DriverSink, PodDriver, PodStartSpec, RuntimeAvailability, StartedPod } from './pod-driver.js';
import { freePort } from './process.driver.js';

const PING_TIMEOUT_MS = 3000;
/** Bounds every pull: with no registry reachable a pull must fail the pod, not hang its start. */
const PULL_TIMEOUT_MS = 60_000;
const CPU_SAMPLE_MS = 2000;
const EVENTS_RECONNECT_MS = 1000;
/** Stopping a container that outlives its grace period: docker's own kill follows, plus this much for the API call. */
const STOP_SLACK_MS = 10_000;

interface Box {
  podId: string;
  containerId: string;
  /** Set once Grid asked it to stop: its exit is then expected and not reported as a crash. */
  stopping: boolean;
  /** Frozen by pause() (the cgroup freezer): a stop thaws it first, so the container sees its SIGTERM and has its grace period. */
  paused?: boolean;
  cpu: number;
  lastNs?: number;
  lastAt?: number;
  sampling?: boolean;
}

class TimeoutError extends Error {}

function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number }).statusCode;
}

/** Docker's error bodies are JSON ({"message": ...}); dockerode puts them in json or reason. */
function messageOf(e: unknown): string {
  const err = e as { json?: { message?: string }; message?: string };
  return err.json?.message ?? err.message ?? String(e);
}

function shortId(id: string): string {
  return id.slice(0, 12);
}

/**
 * Containers on the Docker Engine through its socket (dockerode). Each pod is one container
 * labelled grid.managed/grid.pod/grid.instance plus the pod's own grid.* labels; exits come from
 * the engine's event stream. dockerode's types stay in this file.
 */
/** A log tail keeps at most this much (the newest), as the process runtime reads at most 4 MiB of its file. */
const LOG_TAIL_MAX_BYTES = 4 * 1024 * 1024;
const LOG_TAIL_DEADLINE_MS = 5000;
/** A followed line longer than this is passed on in pieces. */
const FOLLOW_LINE_MAX = 64 * 1024;
/** How much of a container's last output an exit event quotes. */
const EXIT_OUTPUT_MAX = 500;

export class DockerDriver implements PodDriver {
  readonly name: RuntimeName = 'docker';
  readonly probesOverHttp = true;
  private sink!: DriverSink;
  private readonly docker: Docker;
  private readonly logger = new Logger('DockerDriver');
  private state: RuntimeAvailability;
  private readonly boxes = new Map<string, Box>();
  private readonly byContainer = new Map<string, Box>();
  /** The last exited container of a pod, kept until it restarts or goes, so its logs can still be read. */
  private readonly dead = new Map<string, string>();
  private readonly starting = new Map<string, { cancelled: boolean }>();
  /** The last volume note of each pod: a crash loop restarts it every few seconds, and one note says it. */
  private readonly volumeNotes = new Map<string, string>();
  private events?: NodeJS.ReadableStream;
  private sampler?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    readonly socketPath: string,
    private readonly instance: string,
    private readonly logLimits: PodLogLimits,
  ) {
    this.docker = new Docker({ socketPath });
    this.state = { available: false, detail: `the Docker socket ${socketPath} was not checked yet` };
  }

  attach(sink: DriverSink): void {
    this.sink = sink;
  }

  availability(): RuntimeAvailability {
    return this.state;
  }

  /** At boot: ping the engine; when it answers, watch its events and sample CPU. Never throws: Grid runs without docker. */
  async connect(): Promise<void> {
    try {
      await within(PING_TIMEOUT_MS, this.docker.ping(), `ping of ${this.socketPath}`);
      const v = await within(PING_TIMEOUT_MS, this.docker.version(), `version of ${this.socketPath}`);
      this.state = { available: true, detail: `Docker Engine ${v.Version} on ${this.socketPath}` };
    } catch (e) {
      this.state = { available: false, detail: `the Docker socket ${this.socketPath} does not answer (${messageOf(e)})` };
      this.logger.warn(`docker runtime unavailable: ${this.state.detail}`);
      return;
    }
    await this.watchEvents();
    this.sampler = setInterval(() => this.sample(), CPU_SAMPLE_MS);
    this.sampler.unref();
  }

  private async watchEvents(): Promise<void> {
    if (this.closed) return;
    const filters = JSON.stringify({ type: ['container'], event: ['die'], label: [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${this.instance}`] });
    try {
      const stream = await this.docker.getEvents({ filters } as unknown as Docker.GetEventsOptions);
      this.events = stream;
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) this.onEvent(line);
      });
      const again = () => {
        if (this.events !== stream) return;
        this.events = undefined;
        if (!this.closed) setTimeout(() => void this.resync(), EVENTS_RECONNECT_MS).unref();
      };
      stream.on('end', again);
      stream.on('error', again);
      stream.on('close', again);
    } catch (e) {
      this.logger.warn(`docker events: ${messageOf(e)}; retrying`);
      if (!this.closed) setTimeout(() => void this.resync(), EVENTS_RECONNECT_MS).unref();
    }
  }

  /** After the event stream broke: listen again, then look for exits it may have missed. */
  private async resync(): Promise<void> {
    await this.watchEvents();
    for (const box of [...this.boxes.values()]) {
      try {
        const info = await this.docker.getContainer(box.containerId).inspect();
        if (!info.State.Running) void this.onDie(box.containerId, info.State.ExitCode);
      } catch (e) {
        if (statusOf(e) === 404) void this.onDie(box.containerId, null);
      }
    }
  }

  private onEvent(line: string): void {
    let ev: { status?: string; Action?: string; id?: string; Actor?: { Attributes?: Record<string, string> } };
    try {
      ev = JSON.parse(line);
    } catch {
      return;
    }
    if ((ev.Action ?? ev.status) !== 'die' || !ev.id) return;
    const code = ev.Actor?.Attributes?.exitCode;
    void this.onDie(ev.id, code === undefined ? null : Number(code));
  }

  private async onDie(containerId: string, code: number | null): Promise<void> {
    const box = this.byContainer.get(containerId);
    if (!box) return;
    this.byContainer.delete(containerId);
    if (this.boxes.get(box.podId) === box) this.boxes.delete(box.podId);
    if (box.stopping) return;
    this.dead.set(box.podId, containerId);
    const last = (await this.tailOf(containerId, 3)).trim();
    this.sink.exited(box.podId, {
      code,
      signal: null,
      reason: code === 0 ? 'Completed' : 'Error',
      message: `container ${shortId(containerId)} exited${code !== null ? ` with code ${code}` : ''}${last ? `; last output: ${last.split('\n').join(' | ').slice(-EXIT_OUTPUT_MAX)}` : ''}`,
    });
  }

  async start(p: PodStartSpec): Promise<StartedPod> {
    if (!this.state.available) throw new Error(`the docker runtime is unavailable: ${this.state.detail}`);
    const ticket = { cancelled: false };
    this.starting.set(p.podId, ticket);
    try {
      return await this.run(p, ticket);
    } finally {
      if (this.starting.get(p.podId) === ticket) this.starting.delete(p.podId);
    }
  }

  private async run(p: PodStartSpec, ticket: { cancelled: boolean }): Promise<StartedPod> {
    await this.removeDead(p.podId);
    const image = p.spec.image!;
    await this.ensureImage(image, p.spec.imagePullPolicy ?? 'IfNotPresent');
    if (ticket.cancelled) throw new Error('stopped before it started');
    if (p.dataDir !== undefined) await this.ownVolume(p, p.dataDir);
    const hostPort = await freePort();
    const body = containerCreateBody(p, hostPort, this.instance, this.logLimits);
    const container = await this.docker.createContainer({ ...body, name: `grid-${p.podId}-${randomBytes(3).toString('hex')}` } as Docker.ContainerCreateOptions);
    const box: Box = { podId: p.podId, containerId: container.id, stopping: false, cpu: 0 };
    this.boxes.set(p.podId, box);
    this.byContainer.set(container.id, box);
    try {
      await container.start();
    } catch (e) {
      this.forget(box);
      await container.remove({ force: true }).catch(() => undefined);
      throw new Error(`cannot start a container of ${image}: ${messageOf(e)}`);
    }
    if (ticket.cancelled) {
      box.stopping = true;
      this.forget(box);
      await container.remove({ force: true }).catch(() => undefined);
      throw new Error('stopped before it started');
    }
    return { port: hostPort, containerId: container.id };
  }

  private async ensureImage(image: string, policy: 'IfNotPresent' | 'Never' | 'Always'): Promise<void> {
    if (policy !== 'Always') {
      try {
        await this.docker.getImage(image).inspect();
        return;
      } catch (e) {
        if (statusOf(e) !== 404) throw new Error(`cannot inspect image ${image}: ${messageOf(e)}`);
      }
      if (policy === 'Never') throw new Error(`image ${image} not present and imagePullPolicy Never`);
    }
    try {
      await this.pull(image);
    } catch (e) {
      throw new Error(`${policy === 'Always' ? `pulling image ${image} (imagePullPolicy Always)` : `image ${image} not present and pulling it`} failed: ${messageOf(e)}`);
    }
  }

  /**
   * A volume in Kubernetes is writable by the pod's user; Grid makes the pod's directory 0700 as
   * its own user (root, usually), so it gives it to the user the image runs as (Config.User).
   * What it cannot do it says in an event, and the container starts anyway: an image that starts as
   * root and drops privileges itself needs nothing.
   */
  private async ownVolume(p: PodStartSpec, dir: string): Promise<void> {
    const image = p.spec.image!;
    let user: string | undefined;
    try {
      user = (await this.docker.getImage(image).inspect()).Config?.User;
    } catch (e) {
      throw new Error(`cannot inspect image ${image}: ${messageOf(e)}`);
    }
    const st = await fs.stat(dir);
    const decision = volumeOwnership(user, { uid: st.uid, gid: st.gid });
    if (decision.action === 'keep') return;
    if (decision.action === 'unresolved') {
      return this.noteVolume(p.podId, {
        type: 'pod.volumeNotOwned',
        reason: 'VolumeOwnerUnknown',
        message: `data directory ${dir} left to uid ${st.uid}: image ${image} runs as user '${decision.user}', a name`,
        explain: `Image ${image} names its user '${decision.user}' rather than a number, and its uid is in the image's /etc/passwd, which Grid does not read, so ${dir} (mode 0700) stays uid ${st.uid}'s; if the container cannot write it, build the image with a numeric USER (uid[:gid]) or chown the directory yourself`,
      });
    }
    const to = decision.gid === -1 ? `uid ${decision.uid}` : `uid ${decision.uid}, gid ${decision.gid}`;
    try {
      await fs.chown(dir, decision.uid, decision.gid);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      return this.noteVolume(p.podId, {
        type: 'pod.volumeNotOwned',
        reason: 'VolumeChownFailed',
        message: `cannot give data directory ${dir} to ${to} (image ${image}'s user): ${code}`,
        explain: `Image ${image} runs as ${user}, but ${dir} (mode 0700) belongs to uid ${st.uid} and Grid${typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : ''} could not change that (${code}; only root may give a file away), so the container will likely fail to write its data; run Grid as root, or build the image to run as uid ${st.uid}`,
      });
    }
    this.noteVolume(p.podId, {
      type: 'pod.volumeOwned',
      reason: 'VolumeOwned',
      message: `data directory ${dir} given to ${to}, the user image ${image} runs as`,
      explain: `Image ${image} runs as ${user}, and ${dir} is mode 0700, so Grid made it that user's (it was uid ${st.uid}'s), as a Kubernetes volume is writable by its pod`,
    });
  }

  private noteVolume(podId: string, note: DriverNote): void {
    if (this.volumeNotes.get(podId) === note.message) return;
    this.volumeNotes.set(podId, note.message);
    this.sink.noted(podId, note);
  }

  private async pull(image: string): Promise<void> {
    const stream = await within(PULL_TIMEOUT_MS, this.docker.pull(image) as Promise<NodeJS.ReadableStream>, `pull of ${image}`);
    try {
      await within(
        PULL_TIMEOUT_MS,
        new Promise<void>((resolve, reject) => this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()))),
        `pull of ${image}`,
      );
    } catch (e) {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      throw e;
    }
  }

  async stop(podId: string, graceMs: number): Promise<void> {
    this.cancelStart(podId);
    const box = this.boxes.get(podId);
    if (box) {
      box.stopping = true;
      const c = this.docker.getContainer(box.containerId);
      if (box.paused) await this.unpause(box).catch((e: Error) => this.logger.warn(e.message));
      try {
        await within(graceMs + STOP_SLACK_MS, c.stop({ t: Math.ceil(graceMs / 1000) }), `docker stop of ${shortId(box.containerId)}`);
      } catch (e) {
        // 304: already stopped; 404: already gone. A timeout falls through to the forced removal.
        if (statusOf(e) !== 304 && statusOf(e) !== 404 && !(e instanceof TimeoutError)) throw e;
      }
      await this.removeContainer(box.containerId);
      this.forget(box);
    }
    await this.removeDead(podId);
  }

  async kill(podId: string): Promise<void> {
    this.cancelStart(podId);
    const box = this.boxes.get(podId);
    if (box) {
      box.stopping = true;
      await this.removeContainer(box.containerId);
      this.forget(box);
    }
    await this.removeDead(podId);
  }

  async pause(podId: string): Promise<void> {
    const box = this.running(podId);
    try {
      await this.docker.getContainer(box.containerId).pause();
    } catch (e) {
      // 409: already paused (by hand, or a pause whose answer was lost) — what was asked for.
      if (statusOf(e) !== 409) throw new Error(`pausing container ${shortId(box.containerId)}: ${messageOf(e)}`);
    }
    box.paused = true;
  }

  async resume(podId: string): Promise<void> {
    await this.unpause(this.running(podId));
  }

  async isPaused(podId: string): Promise<boolean> {
    const box = this.boxes.get(podId);
    if (!box) return false;
    const info = await this.docker.getContainer(box.containerId).inspect();
    return info.State.Paused === true;
  }

  private async unpause(box: Box): Promise<void> {
    try {
      await this.docker.getContainer(box.containerId).unpause();
    } catch (e) {
      // 409: not paused (any more); 404: gone. Either way nothing is frozen.
      if (statusOf(e) !== 409 && statusOf(e) !== 404) throw new Error(`unpausing container ${shortId(box.containerId)}: ${messageOf(e)}`);
    }
    box.paused = false;
  }

  private running(podId: string): Box {
    const box = this.boxes.get(podId);
    if (!box || box.stopping) throw new Error(`pod ${podId} has no running container`);
    return box;
  }

  release(podId: string): void {
    this.volumeNotes.delete(podId);
    void this.removeDead(podId);
  }

  private cancelStart(podId: string): void {
    const t = this.starting.get(podId);
    if (t) t.cancelled = true;
  }

  private forget(box: Box): void {
    if (this.boxes.get(box.podId) === box) this.boxes.delete(box.podId);
    this.byContainer.delete(box.containerId);
  }

  private async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (e) {
      // 409: removal already in progress (a concurrent stop); 404: gone.
      if (statusOf(e) !== 404 && statusOf(e) !== 409) throw new Error(`removing container ${shortId(id)}: ${messageOf(e)}`);
    }
  }

  private async removeDead(podId: string): Promise<void> {
    const id = this.dead.get(podId);
    if (!id) return;
    this.dead.delete(podId);
    await this.removeContainer(id).catch((e: Error) => this.logger.warn(e.message));
  }

  cpu(podId: string): number | undefined {
    return this.boxes.get(podId)?.cpu;
  }

  private sample(): void {
    for (const box of this.boxes.values()) {
      if (box.sampling) continue;
      box.sampling = true;
      this.docker
        .getContainer(box.containerId)
        .stats({ stream: false, 'one-shot': true })
        .then((s) => {
          const ns = s.cpu_stats?.cpu_usage?.total_usage;
          const now = this.clock.now();
          if (typeof ns !== 'number') return;
          if (box.lastNs !== undefined && box.lastAt !== undefined) box.cpu = cpuPercent(box.lastNs, ns, now - box.lastAt);
          box.lastNs = ns;
          box.lastAt = now;
        })
        .catch(() => undefined)
        .finally(() => (box.sampling = false));
    }
  }

  /** The last `tail` lines the pod's container (or its last exited one) wrote; undefined when it has none. */
  async logs(podId: string, tail: number): Promise<string | undefined> {
    const id = this.boxes.get(podId)?.containerId ?? this.dead.get(podId);
    if (!id) return undefined;
    return this.tailOf(id, tail);
  }

  /**
   * The last `tail` lines, as the process runtime gives them: at most LOG_TAIL_MAX_BYTES kept (the newest) and
   * LOG_TAIL_DEADLINE_MS spent, however much a chatty container wrote (a 10,000-line tail was 164 MB once).
   */
  private tailOf(containerId: string, tail: number): Promise<string> {
    return new Promise((resolve) => {
      const kept: Buffer[] = [];
      let size = 0;
      let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
      let done = false;
      const out = new PassThrough();
      out.on('data', (c: Buffer) => {
        kept.push(c);
        size += c.length;
        while (kept.length > 1 && size - kept[0].length >= LOG_TAIL_MAX_BYTES) size -= kept.shift()!.length;
      });
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stream?.destroy?.();
        const all = Buffer.concat(kept);
        resolve(all.subarray(Math.max(0, all.length - LOG_TAIL_MAX_BYTES)).toString('utf8'));
      };
      const timer = setTimeout(finish, LOG_TAIL_DEADLINE_MS);
      // follow until now: a stream (read as it comes, bounded above) rather than one buffer of everything.
      this.docker
        .getContainer(containerId)
        .logs({ stdout: true, stderr: true, tail, follow: true, until: Math.floor(this.clock.now() / 1000) + 1 })
        .then((st) => {
          stream = st as typeof stream;
          if (done) return stream!.destroy?.();
          this.docker.modem.demuxStream(stream!, out, out);
          stream!.on('end', finish);
          stream!.on('error', finish);
        })
        .catch(finish);
    });
  }

  /** Streams new log lines of the pod's current container to onLine; returns a function that stops it. */
  followLogs(podId: string, onLine: (line: string) => void): () => void {
    const id = this.boxes.get(podId)?.containerId;
    if (!id) return () => undefined;
    let stream: NodeJS.ReadableStream | undefined;
    let stopped = false;
    const out = new PassThrough();
    let partial = '';
    out.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
      // Output without newlines is passed on in pieces: holding it whole made every chunk re-split megabytes.
      if (partial.length > FOLLOW_LINE_MAX) {
        onLine(partial);
        partial = '';
      }
    });
    this.docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, follow: true, tail: 0 })
      .then((s) => {
        stream = s as NodeJS.ReadableStream;
        if (stopped) return (stream as unknown as { destroy: () => void }).destroy();
        this.docker.modem.demuxStream(stream, out, out);
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
      (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
      out.destroy();
    };
  }

  async adopt(c: AdoptCandidate): Promise<boolean> {
    if (!this.state.available) throw new Error(`the docker runtime is unavailable: ${this.state.detail}`);
    if (!c.containerId) return false;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(c.containerId).inspect();
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw e;
    }
    const labels = info.Config.Labels ?? {};
    if (labels[LABEL_MANAGED] !== 'true' || labels[LABEL_POD] !== c.podId || labels[LABEL_INSTANCE] !== this.instance) return false;
    if (!info.State.Running) {
      await this.removeContainer(info.Id);
      return false;
    }
    const box: Box = { podId: c.podId, containerId: info.Id, stopping: false, cpu: 0 };
    this.boxes.set(c.podId, box);
    this.byContainer.set(info.Id, box);
    return true;
  }

  /** Containers of this Grid that no adopted pod accounts for are stale (Grid died between create and record): remove them. */
  async adoptionFinished(): Promise<void> {
    if (!this.state.available) return;
    const filters = JSON.stringify({ label: [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${this.instance}`] });
    const list = await this.docker.listContainers({ all: true, filters } as unknown as Docker.ContainerListOptions);
    for (const c of list) {
      if (this.byContainer.has(c.Id)) continue;
      this.logger.log(`removing stale container ${shortId(c.Id)} of pod ${c.Labels?.[LABEL_POD] ?? '?'}`);
      await this.removeContainer(c.Id).catch((e: Error) => this.logger.warn(e.message));
    }
  }

  async shutdown(keep: boolean): Promise<void> {
    this.closed = true;
    clearInterval(this.sampler);
    const events = this.events;
    this.events = undefined;
    (events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    if (keep) return;
    for (const id of this.starting.keys()) this.cancelStart(id);
    // The runtime has already drained and stopped its pods with their own grace periods; this catches any left.
    await Promise.all([...this.boxes.keys()].map((id) => this.stop(id, 5000).catch((e: Error) => this.logger.warn(e.message))));
    await Promise.all([...this.dead.keys()].map((id) => this.removeDead(id)));
  }
}
