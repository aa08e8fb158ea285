// Mini-charts of one service over the last 15 minutes (GET /services/:name/history). Each uPlot
// is created once and fed with setData; the history is re-read at most every 5 s, and only
// while the charts are open and the tab is visible.
import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { CHART_METRICS, latestText, seriesOf, type ChartMetric, type History } from '../lib/chart-series.js';
import { get, ApiError } from '../lib/api.js';
import { useThrottledGet } from './hooks.js';

// Whether this Grid keeps history at all, asked once for every card: a Grid without the route
// would otherwise answer each of 20 cards with a 404, and each 404 is a console error.
let historyProbe: Promise<boolean> | null = null;
function historyKept(service: string): Promise<boolean> {
  historyProbe ??= get(`/services/${encodeURIComponent(service)}/history`).then(
    () => true,
    (e: unknown) => {
      if (e instanceof ApiError && e.status === 404 && /no route/i.test(e.message)) return false;
      historyProbe = null;
      return true;
    },
  );
  return historyProbe;
}

const HEIGHT = 64;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function MiniChart(p: { metric: ChartMetric; label: string; unit: string; data: number[][] }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current!;
    const muted = cssVar('--muted', '#9fb3c8');
    const line = p.metric === 'errors' ? cssVar('--red', '#ff5c6c') : p.metric === 'p99' ? cssVar('--amber', '#ffc857') : cssVar('--cyan', '#00e5ff');
    const series: uPlot.Series[] = [{}, { label: p.label, stroke: line, width: 1.5, fill: line + '22', points: { show: false } }];
    if (p.metric === 'ready') series.push({ label: 'desired', stroke: cssVar('--magenta', '#ff4fd8'), width: 1, dash: [4, 3], points: { show: false } });
    plot.current = new uPlot(
      {
        width: Math.max(120, el.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        padding: [6, 4, 0, 0],
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(max, p.metric === 'errors' ? 1 : 1)] } },
        axes: [
          { show: false },
          { stroke: muted, size: 34, font: '10px ui-monospace, monospace', ticks: { show: false }, grid: { stroke: 'rgba(0,229,255,0.08)', width: 1 }, splits: (_u, _i, min, max) => [min, max] },
        ],
        series,
      },
      p.data as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => {
      const w = el.clientWidth;
      if (plot.current && w > 0 && Math.abs(w - plot.current.width) > 2) plot.current.setSize({ width: w, height: HEIGHT });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(p.data as uPlot.AlignedData);
  }, [p.data]);

  const caption = latestText(p.data, p.unit);
  return (
    <figure class="mini-chart" data-testid={`chart-${p.metric}`}>
      <figcaption>
        <span>{p.label}</span> <span class="num muted">{caption}</span>
      </figcaption>
      <div ref={host} class="mini-chart-plot" role="img" aria-label={`${p.label} over the last 15 minutes, ${caption}`} />
    </figure>
  );
}

function ChartsBody({ service }: { service: string }) {
  const [kept, setKept] = useState<boolean | null>(null);
  useEffect(() => void historyKept(service).then(setKept), [service]);
  const h = useThrottledGet<History>(kept ? `/services/${encodeURIComponent(service)}/history` : null, null, { minMs: 5000, everyMs: 5000 });
  const empty = !h.data || h.data.points.length === 0;
  return (
    <div class="mini-charts">
      {empty && <p class="muted no-history">{kept === false || h.missing ? 'no history yet (this Grid does not keep it)' : 'no history yet'}</p>}
      {CHART_METRICS.map((m) => (
        <MiniChartFor key={m.id} metric={m.id} label={m.label} unit={m.unit} history={h.data} />
      ))}
    </div>
  );
}

function MiniChartFor(p: { metric: ChartMetric; label: string; unit: string; history: History | null }) {
  const [data, setData] = useState(() => seriesOf(p.history, p.metric));
  useEffect(() => setData(seriesOf(p.history, p.metric)), [p.history]);
  return <MiniChart metric={p.metric} label={p.label} unit={p.unit} data={data} />;
}

const wide = () => typeof matchMedia === 'function' && matchMedia('(min-width: 701px)').matches;

/**
 * Open by default on wide screens, collapsed on phones. The charts exist only while open and
 * once scrolled near the screen: 20 cards would otherwise build 100 canvases at first paint.
 */
export const ServiceCharts = memo(function ServiceCharts({ service }: { service: string }) {
  const [open, setOpen] = useState(wide);
  const [seen, setSeen] = useState(false);
  const ref = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    if (seen || !ref.current) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true), { rootMargin: '300px' });
    io.observe(ref.current);
    return () => io.disconnect();
  }, [seen]);
  return (
    <details ref={ref} class="svc-charts" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Last 15 minutes</summary>
      {open && seen && <ChartsBody service={service} />}
    </details>
  );
});
