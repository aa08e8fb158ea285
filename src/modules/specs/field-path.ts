// How a field error names its field: `spec.rollout.steps[2].pause`. One writer for the validator
// and the importers, so an imported object's errors read exactly as a spec's do.

export function join(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  // An empty key would vanish into `spec.` (or '' at the root), naming no field at all.
  if (key === '') return `${base}[""]`;
  return base ? `${base}.${key}` : key;
}
