import { manifestChanges, manifestView, type FieldChange, type ManifestView } from './manifest-diff.js';
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
import { FailoverGroupEntity } from './failover-group.entity.js';
import { ServiceEntity } from './service.entity.js';
import { SpecRevisionEntity } from './spec-revision.entity.js';
import { dependencyCycle, namespaceClash, parseManifests, specHash, templateHash } from './spec-validator.js';
import type { ImportNote } from './kubernetes/import.js';
import type { FailoverGroupManifest, FailoverTarget, Manifest, ServiceManifest, ServiceSpec } from './spec.types.js';
import { versionOf } from './version-of.js';

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

/** A stored FailoverGroup spec. */
export interface GroupRecord {
  name: string;
  generation: number;
  specHash: string;
  manifest: FailoverGroupManifest;
  /** Differs between a deleted group and a new one of the same name. */
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

/** What POST /scale asks for: a relative change or an absolute count. */
export type ScaleChange = { delta: number } | { replicas: number };

export interface ApplyResult {
  service: string;
  result: ApplyOutcome;
  generation: number;
  revision: number;
  version: string;
}

/** What a dry run reports changed between the stored manifest and the new one: metadata and spec, field by field. */
function changesOf(stored: { metadata: unknown; spec: unknown }, next: { metadata: unknown; spec: unknown }): FieldChange[] {
  return manifestChanges({ metadata: stored.metadata, spec: stored.spec }, { metadata: next.metadata, spec: next.spec });
}

export interface DryRunResult {
  service?: string;
  failoverGroup?: string;
  result: ApplyOutcome;
  generation?: number;
  revision?: number;
  version?: string;
  templateChanged?: boolean;
  changes: FieldChange[];
  /** The stored manifest, null when the apply would create it. */
  live: ManifestView | null;
  /** The manifest the apply would store, defaults filled (the stored one when unchanged): `gridctl diff` diffs it against `live`. */
  merged: ManifestView;
}

export interface GroupApplyResult {
  failoverGroup: string;
  result: ApplyOutcome;
  generation: number;
}

/** How a target reads in messages: the service name or the url. */
export function targetName(t: FailoverTarget): string {
  return 'service' in t ? t.service : t.url;
}

/** The fields that make up the pod template: changing one starts a rollout; undo restores them. */
export const TEMPLATE_FIELDS = ['runtime', 'image', 'command', 'workingDir', 'port', 'network', 'imagePullPolicy', 'resources', 'env', 'readinessProbe', 'livenessProbe', 'startupProbe', 'terminationGracePeriodSeconds', 'restartBackoff'] as const;

export { versionOf } from './version-of.js';

/**
 * Desired state: validated manifests and their revisions. Kept in memory for the
 * reconciler's hot path and written through to SQLite in one transaction per request,
 * so a request either applies every document or none.
 */
/** DELETE /services/:name: which service went (null: only data it left behind) and its data directories, as `pods/<name>-<ordinal>`. */
export interface DeleteResult {
  deleted: string | null;
  purge: boolean;
  volumes: string[];
}

@Injectable()
export class SpecsService implements OnModuleInit {
  private readonly services = new Map<string, ServiceRecord>();
  /** FailoverGroup specs: desired state like services, in the same namespace. */
  private readonly groupRecords = new Map<string, GroupRecord>();
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
    for (const r of await this.ds.getRepository(FailoverGroupEntity).find()) {
      this.groupRecords.set(r.name, { name: r.name, generation: r.generation, specHash: r.specHash, manifest: JSON.parse(r.manifest) as FailoverGroupManifest, uid: r.uid, createdAt: r.createdAt, updatedAt: r.updatedAt });
      this.events.bindService(r.name, r.uid);
    }
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

  group(name: string): GroupRecord | undefined {
    return this.groupRecords.get(name);
  }

  groups(): GroupRecord[] {
    return [...this.groupRecords.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** applyDocuments' answer for the services of the body (what callers that apply only services read). */
  async applyBody(body: unknown, contentType: string | undefined, source: string): Promise<ApplyResult[]> {
    return (await this.applyDocuments(body, contentType, source)).applied.filter((r): r is ApplyResult => 'service' in r);
  }

  /**
   * Parses, imports (Kubernetes objects and Compose files become Grid specs), validates and applies a body
   * of services and failover groups; answers for each, services first, and what each imported object became.
   * Nothing is stored unless every document is valid.
   */
  async applyDocuments(body: unknown, contentType: string | undefined, source: string): Promise<{ applied: Array<ApplyResult | GroupApplyResult>; imported: ImportNote[] }> {
    const parsed = this.parse(body, contentType);
    const applied = await this.serial(() => this.applyNow(parsed.manifests, source, parsed.groups));
    return { applied: [...applied.services, ...applied.groups], imported: parsed.imported };
  }

  /**
   * kubectl apply --dry-run=server: the same validation and namespace checks as apply, and what
   * each document would do, field by field; nothing is stored and no event is recorded.
   */
  async dryRunDocuments(body: unknown, contentType: string | undefined): Promise<{ applied: DryRunResult[]; imported: ImportNote[] }> {
    const parsed = this.parse(body, contentType);
    const applied = await this.serial(async () => {
      this.checkNamespace([...parsed.manifests, ...parsed.groups]);
      const now = this.clock.now();
      const services = parsed.manifests.map((m): DryRunResult => {
        const prev = this.services.get(m.metadata.name);
        const p = this.planApply(m, now);
        return {
          service: m.metadata.name,
          result: p.result,
          ...(p.result === 'unchanged' ? {} : { generation: p.record.generation, revision: p.record.revision, version: p.record.version, templateChanged: p.templateChanged }),
          changes: prev && p.result === 'configured' ? changesOf(prev.manifest, m) : [],
          live: prev ? manifestView(prev.manifest) : null,
          merged: manifestView(p.record.manifest),
        };
      });
      const groups = parsed.groups.map((m): DryRunResult => {
        const prev = this.groupRecords.get(m.metadata.name);
        const p = this.planGroup(m, now);
        return {
          failoverGroup: m.metadata.name,
          result: p.result,
          changes: prev && p.result === 'configured' ? changesOf(prev.manifest, m) : [],
          live: prev ? manifestView(prev.manifest) : null,
          merged: manifestView(p.record.manifest),
        };
      });
      return [...services, ...groups];
    });
    return { applied, imported: parsed.imported };
  }

  /**
   * Validates a body as /apply does, but only the documents themselves (POST /export: they go to
   * another cluster, so what is stored here and which runtimes or directories this machine has do not matter).
   */
  validate(body: unknown, contentType: string | undefined): { manifests: ServiceManifest[]; groups: FailoverGroupManifest[] } {
    const parsed = parseManifests(body as string, contentType, { failoverUrlAllowlist: this.config.failoverUrlAllowlist });
    if (!parsed.ok) throw new GridException(GridErrorCode.Validation, `${parsed.errors[0].path}: ${parsed.errors[0].message}${parsed.errors.length > 1 ? ` (and ${parsed.errors.length - 1} more)` : ''}`, parsed.errors);
    return parsed;
  }

  private parse(body: unknown, contentType: string | undefined) {
    const parsed = parseManifests(body as string, contentType, {
      hasRuntime: (r) => this.runtime.has(r),
      runtimeUnavailable: (r) => this.runtime.unavailableReason(r),
      workingDirs: { base: this.config.workDir, isDirectory: (dir) => fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true },
      failoverUrlAllowlist: this.config.failoverUrlAllowlist,
      serviceExists: (name) => this.services.has(name),
      groupExists: (name) => this.groupRecords.has(name),
      targetedBy: (name) => this.targetedBy(name),
      dependenciesOf: (name) => this.dependenciesOf(name),
    });
    if (!parsed.ok) {
      const first = parsed.errors[0];
      const more = parsed.errors.length > 1 ? ` (and ${parsed.errors.length - 1} more)` : '';
      throw new GridException(GridErrorCode.Validation, `${first.path}: ${first.message}${more}`, parsed.errors);
    }
    return parsed;
  }

  async apply(manifests: ServiceManifest[], source: string): Promise<ApplyResult[]> {
    return (await this.serial(() => this.applyNow(manifests, source))).services;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(manifests: ServiceManifest[], source: string, groups: FailoverGroupManifest[] = []): Promise<{ services: ApplyResult[]; groups: GroupApplyResult[] }> {
    this.checkNamespace([...manifests, ...groups]);
    const now = this.clock.now();
    const plans = manifests.map((m) => this.planApply(m, now));
    const changed = plans.filter((p) => p.result !== 'unchanged');
    const groupPlans = groups.map((m) => this.planGroup(m, now));
    const changedGroups = groupPlans.filter((p) => p.result !== 'unchanged');
    if (changed.length > 0 || changedGroups.length > 0) {
      await this.ds.transaction(async (em) => {
        const svcRows = changed.map((p) => this.toEntity(p.record));
        const revRows = changed.map((p) => this.toRevision(p.record, source));
        for (let i = 0; i < svcRows.length; i += 500) await em.getRepository(ServiceEntity).save(svcRows.slice(i, i + 500), { reload: false });
        for (let i = 0; i < revRows.length; i += 500) await em.getRepository(SpecRevisionEntity).insert(revRows.slice(i, i + 500));
        if (changedGroups.length > 0) await em.getRepository(FailoverGroupEntity).save(changedGroups.map((p) => this.toGroupEntity(p.record)), { reload: false });
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
    for (const p of groupPlans) {
      if (p.result === 'unchanged') continue;
      const r = p.record;
      this.groupRecords.set(r.name, r);
      this.events.bindService(r.name, r.uid);
      const spec = r.manifest.spec;
      const targets = spec.targets.map(targetName).join(' > ');
      this.events.record({
        type: 'group.applied',
        service: r.name,
        reason: p.result === 'created' ? 'Created' : 'Configured',
        message: `${p.result} failover group ${r.name}: generation ${r.generation}, targets ${targets} via ${source}`,
        explain: `Failover group ${r.name} sends /gateway/${r.name}/ traffic to the first healthy of ${targets}, checking ${spec.healthCheck.path} every ${spec.healthCheck.intervalSeconds}s; it switches after ${spec.healthCheck.failureThreshold} failures in a row, at most once per ${spec.cooldownSeconds}s, and fails back ${spec.failback === 'auto' ? 'automatically' : 'only when told to'}`,
      });
      this.bus.emit('group.applied', { group: r.name, uid: r.uid, generation: r.generation });
    }
    return {
      services: plans.map((p) => ({ service: p.record.name, result: p.result, generation: p.record.generation, revision: p.record.revision, version: p.record.version })),
      groups: groupPlans.map((p) => ({ failoverGroup: p.record.name, result: p.result, generation: p.record.generation })),
    };
  }

  /** The stored group that names `name` as a service target. */
  private targetedBy(name: string): string | undefined {
    for (const g of this.groupRecords.values()) if (g.manifest.spec.targets.some((t) => 'service' in t && t.service === name)) return g.name;
    return undefined;
  }

  private dependenciesOf(name: string): string[] {
    return this.services.get(name)?.manifest.spec.dependsOn?.map((d) => d.service) ?? [];
  }

  /** Checked again inside the queue: the parse-time check cannot see an apply that ran between it and this one. */
  private checkNamespace(manifests: Manifest[]): void {
    const cycle = dependencyCycle(manifests.filter((m): m is ServiceManifest => m.kind === 'Service'), (n) => this.dependenciesOf(n));
    if (cycle) throw GridException.invalid('spec.dependsOn', `a cycle: ${cycle.join(' → ')}; a service cannot wait for itself, even through others`);
    const exists = { serviceExists: (n: string) => this.services.has(n), groupExists: (n: string) => this.groupRecords.has(n), targetedBy: (n: string) => this.targetedBy(n) };
    for (const m of manifests) {
      const clash = namespaceClash(m, exists);
      if (clash) throw GridException.invalid('metadata.name', clash);
    }
  }

  private planGroup(m: FailoverGroupManifest, now: number): { record: GroupRecord; result: ApplyOutcome } {
    const prev = this.groupRecords.get(m.metadata.name);
    const sh = specHash(m.spec);
    if (prev && prev.specHash === sh && JSON.stringify(prev.manifest.metadata) === JSON.stringify(m.metadata)) return { record: prev, result: 'unchanged' };
    const record: GroupRecord = {
      name: m.metadata.name,
      generation: (prev?.generation ?? 0) + 1,
      specHash: sh,
      manifest: m,
      uid: prev?.uid ?? randomBytes(8).toString('hex'),
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
    };
    return { record, result: prev ? 'configured' : 'created' };
  }

  deleteGroup(name: string): Promise<void> {
    return this.serial(async () => {
      const g = this.groupRecords.get(name);
      if (!g) throw GridException.notFound('failover group', name);
      await this.ds.getRepository(FailoverGroupEntity).delete({ name });
      this.groupRecords.delete(name);
      this.events.record({ type: 'group.deleted', service: name, reason: 'Deleted', message: `deleted failover group ${name}`, explain: `Failover group ${name} was deleted, so /gateway/${name}/ no longer routes anywhere and its health checks stopped` });
      this.bus.emit('group.deleted', { group: name, uid: g.uid });
    });
  }

  /** kubectl scale: a new generation with only replicas changed. */
  scale(name: string, change: ScaleChange): Promise<ApplyResult> {
    return this.serial(async () => {
      const s = this.require(name);
      const replicas = 'delta' in change ? s.manifest.spec.replicas + change.delta : change.replicas;
      if ('delta' in change && (replicas < 0 || replicas > 1000)) {
        throw GridException.invalid('delta', `would make replicas ${replicas}; replicas must stay within 0..1000 (now ${s.manifest.spec.replicas})`);
      }
      const manifest: ServiceManifest = { ...s.manifest, spec: { ...s.manifest.spec, replicas } };
      const how = 'delta' in change ? `scale ${change.delta >= 0 ? '+' : ''}${change.delta}` : `scale to ${replicas}`;
      const {
        services: [result],
      } = await this.applyNow([manifest], how);
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
      const {
        services: [result],
      } = await this.applyNow([{ ...s.manifest, spec }], `undo to revision ${target.revision}`);
      return result;
    });
  }

  /**
   * purge: remove its persistent data directories once its pods are gone (else they are kept, as PVCs are).
   * A purge of a service no longer applied removes the data it left behind (`deleted: null`); a name
   * with neither service nor data is not found. `volumes` names the directories kept or to be removed.
   */
  delete(name: string, purge = false): Promise<DeleteResult> {
    return this.serial(async () => {
      const volumes = await this.runtime.volumePaths(name);
      if (this.services.has(name)) {
        await this.deleteNow(name, purge);
        return { deleted: name, purge, volumes };
      }
      const kept = volumes.length > 0 ? `; its data directories ${volumes.join(', ')} are kept (delete with purge=true removes them)` : '';
      if (!purge || volumes.length === 0) throw new GridException(GridErrorCode.NotFound, `service '${name}' not found${purge ? ', and it left no data directories' : kept}`);
      this.events.record({ type: 'volumes.purgeRequested', service: name, reason: 'PurgeRequested', message: `removing the data directories ${volumes.join(', ')} left by ${name}`, explain: `Service ${name} is no longer applied and a purge was asked for, so the data it left behind is removed once none of its pods is left` });
      this.bus.emit('volumes.purgeRequested', { service: name });
      return { deleted: null, purge, volumes };
    });
  }

  private async deleteNow(name: string, purge: boolean): Promise<void> {
    this.require(name);
    await this.ds.transaction(async (em) => {
      await em.getRepository(ServiceEntity).delete({ name });
      await em.getRepository(SpecRevisionEntity).delete({ service: name });
    });
    const rec = this.services.get(name)!;
    const uid = rec.uid;
    this.services.delete(name);
    this.revisions.delete(name);
    this.pins.delete(name);
    const persistent = rec.manifest.spec.storage?.persistent === true;
    const data = purge ? '; its data directories are removed once they are gone' : persistent ? `; its data directories (pods/${name}-<ordinal>) are kept, and applying ${name} again finds them` : '';
    this.events.record({ type: 'spec.deleted', service: name, reason: 'Deleted', message: `deleted service ${name}${purge ? ' (purge)' : ''}`, explain: `Service ${name} was deleted, so all of its pods are being stopped${data}` });
    this.bus.emit('spec.deleted', { service: name, uid, purge });
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

  private toGroupEntity(r: GroupRecord): FailoverGroupEntity {
    return Object.assign(new FailoverGroupEntity(), { name: r.name, uid: r.uid, generation: r.generation, specHash: r.specHash, manifest: JSON.stringify(r.manifest), createdAt: r.createdAt, updatedAt: r.updatedAt });
  }

  private toRevision(r: ServiceRecord, source: string): Partial<SpecRevisionEntity> {
    return { service: r.name, generation: r.generation, revision: r.revision, specHash: r.specHash, templateHash: r.templateHash, manifest: JSON.stringify(r.manifest), source, createdAt: r.updatedAt };
  }
}
