// A latency sparkline as SVG polyline points: oldest left, newest right, scaled to the box.

/** Missing values (a failed check) break nothing: they are drawn at the top, as the worst. */
export function sparkPoints(values: readonly (number | null)[], width: number, height: number, pad = 2): string {
  if (values.length === 0) return '';
  const known = values.filter((v): v is number => v !== null);
  const max = Math.max(1, ...known);
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const y = v === null ? pad : height - pad - (v / max) * (height - 2 * pad);
      return `${(pad + i * step).toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}
