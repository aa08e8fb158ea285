// Gateway → versions → pods for every service: line thickness is the version's share of traffic,
// each version shows its rps, 5xx rate and p99 over the last 60 s, and an ejected pod is struck
// out in red. Re-read on that service's events and every 5 s, never more often.
import { memo } from 'preact/compat';
import { useStore } from '../lib/store.js';
import { formatMs, formatPct, formatRps, lastEventIds, phaseGlyph, phaseVar, trafficModel, type RolloutStatus, type TrafficResponse, type TrafficVersion } from '../lib/service-model.js';
import { useThrottledGet } from './hooks.js';

const ROW = 76;
const EDGE_W = 90;

export function TrafficView() {
  const names = useStore((s) => s.state?.services.map((x) => x.name).join('\n') ?? null);
  if (names === null) return <p class="muted">Loading…</p>;
  const list = names ? names.split('\n') : [];
  return (
    <section class="traffic-view" aria-label="Traffic">
      <p class="muted traffic-intro">
        Requests enter at the gateway (<code>/gateway/&lt;service&gt;/</code>) and split across versions by weight; each version spreads its share over its Ready pods. Thicker line = more traffic. Numbers cover the last 60 s.
      </p>
      {list.length === 0 && <p class="muted">No services yet.</p>}
      {list.map((n) => (
        <TrafficService key={n} name={n} />
      ))}
    </section>
  );
}

const TrafficService = memo(function TrafficService({ name }: { name: string }) {
  const lastEvent = useStore((s) => lastEventIds(s.events).get(name) ?? 0);
  const pods = useStore((s) => s.services.get(name)?.pods);
  const t = useThrottledGet<TrafficResponse>(`/traffic?service=${encodeURIComponent(name)}&window=60`, lastEvent, { minMs: 5000, everyMs: 5000 });
  const ro = useThrottledGet<RolloutStatus>(`/services/${encodeURIComponent(name)}/rollout`, lastEvent, { minMs: 5000 });
  const versions = trafficModel(t.data, pods ?? []);
  const stable = ro.data?.stable?.version;
  const canary = ro.data?.canary?.version;
  const roleOf = (v: string) => (v === canary && canary !== stable ? 'canary' : v === stable ? 'stable' : 'other');
  const h = Math.max(1, versions.length) * ROW;
  const ejected = t.data?.ejected ?? [];
  const totalRps = versions.reduce((n, v) => n + v.rps, 0);
  return (
    <article class="panel traffic-service" data-testid="traffic-service" data-service={name} aria-labelledby={`tr-${name}`}>
      <header class="row">
        <h2 id={`tr-${name}`}>{name}</h2>
        {ro.data && ro.data.phase !== 'Completed' && (
          <span class="badge act">
            {ro.data.strategy} {ro.data.phase}
            {ro.data.step ? ` · step ${ro.data.step.number}/${ro.data.step.of}` : ''}
          </span>
        )}
        {ejected.length > 0 && (
          <span class="badge ejected-badge" role="status">
            ⊘ {ejected.length} ejected
          </span>
        )}
      </header>
      <div class="flow" style={{ minHeight: `${h}px` }}>
        <div class="gw-node" style={{ height: `${h}px` }}>
          <span class="gw-box">
            gateway
            <span class="num">{formatRps(totalRps)}</span>
          </span>
        </div>
        <svg class="edges" width={EDGE_W} height={h} viewBox={`0 0 ${EDGE_W} ${h}`} preserveAspectRatio="none" aria-hidden="true">
          {versions.map((v, i) => {
            const y = i * ROW + ROW / 2;
            return <path key={v.version} class={`edge e-${roleOf(v.version)}${v.share === 0 ? ' idle' : ''}`} d={`M0,${h / 2} C${EDGE_W / 2},${h / 2} ${EDGE_W / 2},${y} ${EDGE_W},${y}`} style={{ strokeWidth: v.stroke }} />;
          })}
        </svg>
        <ol class="versions">
          {versions.length === 0 && <li class="muted">no version takes traffic</li>}
          {versions.map((v) => (
            <VersionRow key={v.version} v={v} role={roleOf(v.version)} />
          ))}
        </ol>
      </div>
      {ejected.length > 0 && (
        <p class="error ejected-list">
          Ejected by the gateway (too many errors; back after a cool-off):{' '}
          {ejected.map((e) => (
            <code key={e.podId}>
              {e.podId} ×{e.timesEjected}
            </code>
          ))}
        </p>
      )}
      {t.error && !t.data && <p class="error">{t.error}</p>}
    </article>
  );
});

const MAX_DOTS = 60;

function VersionRow({ v, role }: { v: TrafficVersion; role: string }) {
  const shown = v.pods.slice(0, MAX_DOTS);
  return (
    <li class={`version-node v-${role}`} data-testid="traffic-version" data-version={v.version} data-share={v.share} style={{ height: `${ROW - 8}px` }}>
      <div class="v-head num">
        <strong>{v.version}</strong>
        {role !== 'other' && <span class="muted"> {role}</span>}
        <span class="v-share">{v.share}%</span>
        <span>{formatRps(v.rps)}</span>
        <span class={v.errorRate > 0.01 ? 'error' : ''}>5xx {formatPct(v.errorRate)}</span>
        <span>p99 {formatMs(v.p99Ms || null)}</span>
      </div>
      <div class="v-pods" aria-label={`${v.pods.length} pods`}>
        {shown.map((p) => (
          <span
            key={p.id}
            class={`tdot${p.ejected ? ' ejected' : ''}${p.inRotation ? '' : ' out'}`}
            style={{ '--pc': phaseVar(p.phase) }}
            data-pod={p.id}
            data-ejected={p.ejected ? 'true' : undefined}
            title={`${p.id} · ${p.phase}${p.ejected ? ' · EJECTED' : p.inRotation ? ' · in rotation' : ' · not in rotation'}`}
          >
            {p.ejected ? '⊘' : phaseGlyph(p.phase)}
          </span>
        ))}
        {v.pods.length > MAX_DOTS && <span class="muted">+{v.pods.length - MAX_DOTS}</span>}
      </div>
    </li>
  );
}
