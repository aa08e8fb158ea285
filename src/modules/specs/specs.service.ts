import * as fs from 'node:fs';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { EventsService } from '../events/events.service.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { ServiceEntity } from './service.entity.js';
import { SpecRevisionEntity } from './spec-revision.entity.js';
import { parseManifests, specHash, templateHash } from './spec-validator.js';
import type { ServiceManifest, ServiceSpec } from './spec.types.js';

export interface ServiceRecord {
  name: string;
  generation: number;
  revision: number;
  specHash: string;
  templateHash: string;
  manifest: ServiceManifest;
  version: string;
  /** Differs between a deleted service and a new one of the same name (events are kept apart by it). */
  uid: string;
  createdAt: number;
  updatedAt: number;
}

export interface RevisionTemplate {
  revision: number;
  templateHash: string;
  version: string;
  manifest: ServiceManifest;
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  service: string;
  result: ApplyOutcome;
  generation: number;
  revision: number;
  version: string;
}

/** The fields that make up the pod template: changing one starts a rollout; undo restores them. */
export const TEMPLATE_FIELDS = ['runtime', 'image', 'command', 'workingDir', 'port', 'env', 'readinessProbe', 'livenessProbe', 'startupProbe', 'terminationGracePeriodSeconds', 'restartBackoff'] as const;

/** What the pods of a revision report as their version: the image tag, the VERSION env, or r<revision>. */
export function versionOf(spec: ServiceSpec, revision: number): string {
  if (spec.image?.startsWith('local://')) return spec.image.slice(spec.image.lastIndexOf('@') + 1);
  const env = spec.env.find((e) => e.name === 'VERSION');
  if (env?.value) return env.value;
  if (spec.image) {
    const at = spec.image.lastIndexOf(':');
    if (at > spec.image.lastIndexOf('/')) return spec.image.slice(at + 1);
  }
  return `r${revision}`;
}

/**
 * Desired state: validated manifests and their revisions. Kept in memory for the
 * reconciler's hot path and written through to SQLite in one transaction per request,
 * so a request either applies every document or none.
 */
@Injectable()
export class SpecsService implements OnModuleInit {
  private readonly services = new Map<string, ServiceRecord>();
  /** Template revisions per service (newest generation of each), for rollouts and undo without a DB read. */
  private readonly revisions = new Map<string, Map<number, RevisionTemplate>>();
  /** Revisions a controller stands on (a rollout's stable and canary): never pruned. */
  private readonly pins = new Map<string, ReadonlySet<number>>();
  /** Applies run one at a time so two requests never both build on the same previous generation. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly events: EventsService,
    private readonly runtime: RuntimeService,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const rows = await this.ds.getRepository(ServiceEntity).find();
    for (const r of rows) {
      const manifest = JSON.parse(r.manifest) as ServiceManifest;
      this.services.set(r.name, {
        name: r.name,
        generation: r.generation,
        revision: r.revision,
        specHash: r.specHash,
        templateHash: r.templateHash,
        manifest,
        version: versionOf(manifest.spec, r.revision),
        uid: r.uid,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
      });
    }
    for (const rec of this.services.values()) this.events.bindService(rec.name, rec.uid);
    const revs = await this.ds.getRepository(SpecRevisionEntity).find({ order: { generation: 'ASC' } });
    // Not pruned yet: which revisions a rollout stands on is the reconciler's to say (pinRevisions, at its bootstrap).
    for (const r of revs) this.rememberRevision(r.service, r.revision, r.templateHash, JSON.parse(r.manifest) as ServiceManifest, false);
    // Versions depend on the revisions before them (see versionFor), so they are known only now.
    for (const rec of this.services.values()) rec.version = this.revision(rec.name, rec.revision)?.version ?? rec.version;
  }

  /**
   * The version label of a template revision. Traffic weights and canary analysis are
   * keyed by it, so two different templates of one service must never share it: a new
   * template that would repeat a kept revision's label (say only FAIL_RATE changed and
   * VERSION stayed v2) gets "-r<revision>" appended. The same template keeps its label.
   */
  private versionFor(service: string, revision: number, templateHash: string, spec: ServiceSpec): string {
    const kept = [...(this.revisions.get(service)?.values() ?? [])];
    const same = kept.find((r) => r.templateHash === templateHash);
    if (same) return same.version;
    const base = versionOf(spec, revision);
    return kept.some((r) => r.version === base) ? `${base}-r${revision}` : base;
  }

  private rememberRevision(service: string, revision: number, templateHash: string, manifest: ServiceManifest, prune = true): void {
    let m = this.revisions.get(service);
    if (!m) this.revisions.set(service, (m = new Map()));
    m.set(revision, { revision, templateHash, version: this.versionFor(service, revision, templateHash, manifest.spec), manifest });
    if (prune) this.prune(service, revision);
  }

  /** Keeps revisionHistoryLimit old revisions besides the current one, and always the pinned ones. */
  private prune(service: string, current: number): void {
    const m = this.revisions.get(service);
    const limit = this.services.get(service)?.manifest.spec.revisionHistoryLimit ?? m?.get(current)?.manifest.spec.revisionHistoryLimit;
    if (!m || limit === undefined) return;
    const pinned = this.pins.get(service);
    const prunable = [...m.keys()].filter((k) => k !== current && !pinned?.has(k)).sort((a, b) => a - b);
    while (m.size > limit + 1 && prunable.length > 0) m.delete(prunable.shift()!);
  }

  /**
   * The revisions a controller stands on (a rollout's stable and canary) are kept whatever
   * revisionHistoryLimit says. Replaces the service's earlier pins and prunes with the new ones.
   */
  pinRevisions(service: string, revisions: number[]): void {
    this.pins.set(service, new Set(revisions));
    const s = this.services.get(service);
    if (s) this.prune(service, s.revision);
  }

  revision(service: string, revision: number): RevisionTemplate | undefined {
    return this.revisions.get(service)?.get(revision);
  }

  revisionsOf(service: string): RevisionTemplate[] {
    return [...(this.revisions.get(service)?.values() ?? [])].sort((a, b) => b.revision - a.revision);
  }

  get(name: string): ServiceRecord | undefined {
    return this.services.get(name);
  }

  require(name: string): ServiceRecord {
    const s = this.services.get(name);
    if (!s) throw GridException.notFound('service', name);
    return s;
  }

  list(): ServiceRecord[] {
    return [...this.services.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  names(): string[] {
    return [...this.services.keys()];
  }

  /** Parses, validates and applies a request body. Nothing is stored unless every document is valid. */
  async applyBody(body: unknown, contentType: string | undefined, source: string): Promise<ApplyResult[]> {
    const parsed = parseManifests(body as string, contentType, {
      hasRuntime: (r) => this.runtime.has(r),
      workingDirs: { base: this.config.workDir, isDirectory: (dir) => fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true },
    });
    if (!parsed.ok) {
      const first = parsed.errors[0];
      const more = parsed.errors.length > 1 ? ` (and ${parsed.errors.length - 1} more)` : '';
      throw new GridException(GridErrorCode.Validation, `${first.path}: ${first.message}${more}`, parsed.errors);
    }
    return this.apply(parsed.manifests, source);
  }

  apply(manifests: ServiceManifest[], source: string): Promise<ApplyResult[]> {
    return this.serial(() => this.applyNow(manifests, source));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(manifests: ServiceManifest[], source: string): Promise<ApplyResult[]> {
    const now = this.clock.now();
    const plans = manifests.map((m) => this.planApply(m, now));
    const changed = plans.filter((p) => p.result !== 'unchanged');
    if (changed.length > 0) {
      await this.ds.transaction(async (em) => {
        const svcRows = changed.map((p) => this.toEntity(p.record));
        const revRows = changed.map((p) => this.toRevision(p.record, source));
        for (let i = 0; i < svcRows.length; i += 500) await em.getRepository(ServiceEntity).save(svcRows.slice(i, i + 500), { reload: false });
        for (let i = 0; i < revRows.length; i += 500) await em.getRepository(SpecRevisionEntity).insert(revRows.slice(i, i + 500));
      });
    }
    for (const p of plans) {
      if (p.result === 'unchanged') continue;
      this.services.set(p.record.name, p.record);
      const r = p.record;
      this.events.bindService(r.name, r.uid);
      this.rememberRevision(r.name, r.revision, r.templateHash, r.manifest);
      this.events.record({
        type: 'spec.applied',
        service: r.name,
        reason: p.result === 'created' ? 'Created' : p.templateChanged ? 'TemplateChanged' : 'Configured',
        message: `${p.result} service ${r.name}: generation ${r.generation}, revision ${r.revision} (${r.version}), ${r.manifest.spec.replicas} replicas via ${source}`,
        explain:
          p.result === 'created'
            ? `Service ${r.name} was created with ${r.manifest.spec.replicas} desired replicas of ${r.version}; the reconciler will start them`
            : p.templateChanged
              ? `The pod template of ${r.name} changed, so revision ${r.revision} (${r.version}) replaces the running pods using the ${r.manifest.spec.rollout.strategy} strategy`
              : `Service ${r.name} changed without touching the pod template (now ${r.manifest.spec.replicas} replicas), so pods are only added or removed`,
      });
      this.bus.emit('spec.applied', { service: r.name, uid: r.uid, generation: r.generation, revision: r.revision, templateChanged: p.templateChanged });
    }
    return plans.map((p) => ({ service: p.record.name, result: p.result, generation: p.record.generation, revision: p.record.revision, version: p.record.version }));
  }

  /** kubectl scale: a new generation with only replicas changed. */
  scale(name: string, delta: number): Promise<ApplyResult> {
    return this.serial(async () => {
      const s = this.require(name);
      const replicas = s.manifest.spec.replicas + delta;
      if (replicas < 0 || replicas > 1000) {
        throw GridException.invalid('delta', `would make replicas ${replicas}; replicas must stay within 0..1000 (now ${s.manifest.spec.replicas})`);
      }
      const manifest: ServiceManifest = { ...s.manifest, spec: { ...s.manifest.spec, replicas } };
      const [result] = await this.applyNow([manifest], `scale ${delta >= 0 ? '+' : ''}${delta}`);
      return result;
    });
  }

  /** kubectl rollout undo: a new generation whose pod template is that of an earlier revision (default: the one before the current). */
  undo(name: string, toRevision?: number): Promise<ApplyResult> {
    return this.serial(async () => {
      const s = this.require(name);
      const revs = this.revisionsOf(name).filter((r) => r.revision !== s.revision);
      const target = toRevision === undefined ? revs[0] : this.revision(name, toRevision);
      if (!target) {
        const known = this.revisionsOf(name).map((r) => r.revision).join(', ');
        throw GridException.invalid('toRevision', toRevision === undefined ? `${name} has no earlier revision to go back to` : `revision ${toRevision} of ${name} is not kept (kept: ${known})`);
      }
      if (target.revision === s.revision) throw GridException.invalid('toRevision', `revision ${toRevision} is already the current one`);
      const old = target.manifest.spec;
      const spec: ServiceSpec = { ...s.manifest.spec };
      for (const k of TEMPLATE_FIELDS) {
        if (old[k] === undefined) delete spec[k];
        else (spec as unknown as Record<string, unknown>)[k] = old[k];
      }
      const [result] = await this.applyNow([{ ...s.manifest, spec }], `undo to revision ${target.revision}`);
      return result;
    });
  }

  delete(name: string): Promise<void> {
    return this.serial(() => this.deleteNow(name));
  }

  private async deleteNow(name: string): Promise<void> {
    this.require(name);
    await this.ds.transaction(async (em) => {
      await em.getRepository(ServiceEntity).delete({ name });
      await em.getRepository(SpecRevisionEntity).delete({ service: name });
    });
    const uid = this.services.get(name)!.uid;
    this.services.delete(name);
    this.revisions.delete(name);
    this.pins.delete(name);
    this.events.record({ type: 'spec.deleted', service: name, reason: 'Deleted', message: `deleted service ${name}`, explain: `Service ${name} was deleted, so all of its pods are being stopped` });
    this.bus.emit('spec.deleted', { service: name, uid });
  }

  async history(name: string): Promise<{ generation: number; revision: number; version: string; specHash: string; source: string; createdAt: string; replicas: number }[]> {
    this.require(name);
    const rows = await this.ds.getRepository(SpecRevisionEntity).find({ where: { service: name }, order: { generation: 'DESC' }, take: 100 });
    return rows.map((r) => {
      const m = JSON.parse(r.manifest) as ServiceManifest;
      return { generation: r.generation, revision: r.revision, version: this.revision(name, r.revision)?.version ?? versionOf(m.spec, r.revision), specHash: r.specHash, source: r.source, createdAt: new Date(r.createdAt).toISOString(), replicas: m.spec.replicas };
    });
  }


  private planApply(m: ServiceManifest, now: number): { record: ServiceRecord; result: ApplyOutcome; templateChanged: boolean } {
    const prev = this.services.get(m.metadata.name);
    const sh = specHash(m.spec);
    const th = templateHash(m.spec);
    if (prev && prev.specHash === sh && JSON.stringify(prev.manifest.metadata) === JSON.stringify(m.metadata)) {
      return { record: prev, result: 'unchanged', templateChanged: false };
    }
    const templateChanged = !!prev && prev.templateHash !== th;
    const revision = !prev ? 1 : templateChanged ? prev.revision + 1 : prev.revision;
    const record: ServiceRecord = {
      name: m.metadata.name,
      generation: (prev?.generation ?? 0) + 1,
      revision,
      specHash: sh,
      templateHash: th,
      manifest: m,
      version: this.versionFor(m.metadata.name, revision, th, m.spec),
      uid: prev?.uid ?? randomBytes(8).toString('hex'),
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
    };
    return { record, result: prev ? 'configured' : 'created', templateChanged };
  }

  private toEntity(r: ServiceRecord): ServiceEntity {
    return Object.assign(new ServiceEntity(), {
      name: r.name,
      generation: r.generation,
      revision: r.revision,
      specHash: r.specHash,
      templateHash: r.templateHash,
      manifest: JSON.stringify(r.manifest),
      uid: r.uid,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    });
  }

  private toRevision(r: ServiceRecord, source: string): Partial<SpecRevisionEntity> {
    return { service: r.name, generation: r.generation, revision: r.revision, specHash: r.specHash, templateHash: r.templateHash, manifest: JSON.stringify(r.manifest), source, createdAt: r.updatedAt };
  }
}
