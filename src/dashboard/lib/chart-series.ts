// Shapes GET /services/:name/history into uPlot's column data, one small chart per metric.

export interface HistoryPoint {
  t: number | string;
  desired: number;
  ready: number;
  restarts: number;
  rps: number;
  errorRate: number;
  p99Ms: number;
}

export interface History {
  stepSeconds: number;
  points: HistoryPoint[];
}

export type ChartMetric = 'ready' | 'restarts' | 'rps' | 'errors' | 'p99';

export const CHART_METRICS: readonly { id: ChartMetric; label: string; unit: string }[] = [
  { id: 'ready', label: 'ready pods', unit: '' },
  { id: 'restarts', label: 'restarts', unit: '' },
  { id: 'rps', label: 'req/s', unit: '/s' },
  { id: 'errors', label: '5xx rate', unit: '%' },
  { id: 'p99', label: 'p99 latency', unit: ' ms' },
];

/** How far back the charts look. */
export const CHART_WINDOW_S = 15 * 60;

/** Seconds since the epoch, whether the server sends epoch ms, epoch s or an ISO string. */
export function toUnixSeconds(t: number | string): number {
  if (typeof t === 'string') return Date.parse(t) / 1000;
  return t > 1e11 ? t / 1000 : t;
}

/**
 * [times, values] for one metric over the last 15 minutes before `nowS` (the newest point when
 * not given). `ready` also carries `desired` as a second series so a gap between them shows.
 */
export function seriesOf(h: History | null, metric: ChartMetric, nowS?: number): number[][] {
  const pts = (h?.points ?? []).map((p) => ({ ...p, s: toUnixSeconds(p.t) })).filter((p) => Number.isFinite(p.s));
  pts.sort((a, b) => a.s - b.s);
  const end = nowS ?? (pts.length ? pts[pts.length - 1].s : 0);
  const kept = pts.filter((p) => p.s > end - CHART_WINDOW_S);
  const xs = kept.map((p) => p.s);
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  switch (metric) {
    case 'ready':
      return [xs, kept.map((p) => num(p.ready)), kept.map((p) => num(p.desired))];
    case 'restarts':
      return [xs, kept.map((p) => num(p.restarts))];
    case 'rps':
      return [xs, kept.map((p) => num(p.rps))];
    case 'errors':
      return [xs, kept.map((p) => Math.round(num(p.errorRate) * 10000) / 100)];
    case 'p99':
      return [xs, kept.map((p) => num(p.p99Ms))];
  }
}

/** The newest value of a metric as text for the chart's caption (charts need a text alternative). */
export function latestText(series: number[][], unit: string): string {
  const ys = series[1] ?? [];
  if (ys.length === 0) return 'no history yet';
  const v = ys[ys.length - 1];
  const r = Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10;
  return `now ${r}${unit}`;
}
