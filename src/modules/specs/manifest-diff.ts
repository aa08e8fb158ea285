// What a new manifest changes against the stored one, field by field, for a dry run's
// preview (kubectl diff). Pure: plain JSON in, a list of paths out.

export interface FieldChange {
  /** Dotted path as the validator names fields: spec.replicas, spec.env.VERSION, spec.command[1]. */
  path: string;
  /** undefined = the field is new (from) or removed (to). */
  from?: unknown;
  to?: unknown;
}

export const MAX_CHANGES = 200;

/** A manifest as `GET /services/:name` shows it (apiVersion, kind, metadata, spec): what a dry run's `live` and `merged` hold. */
export interface ManifestView {
  apiVersion: unknown;
  kind: unknown;
  metadata: unknown;
  spec: unknown;
}

/** Only the four manifest fields, so a diff of `live` against `merged` compares like with like whatever else a record carries. */
export function manifestView(m: ManifestView): ManifestView {
  return { apiVersion: m.apiVersion, kind: m.kind, metadata: m.metadata, spec: m.spec };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? (base ? `${base}.${key}` : key) : `${base}[${JSON.stringify(key)}]`;
}

/** Leaves that differ, in document order; objects and arrays are walked, scalars compared. At most MAX_CHANGES. */
export function manifestChanges(from: unknown, to: unknown, base = ''): FieldChange[] {
  const out: FieldChange[] = [];
  walk(from, to, base, out);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: FieldChange[]): void {
  if (out.length >= MAX_CHANGES) return;
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) walk(a[k], b[k], join(path, k), out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], join(path, i), out);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const change: FieldChange = { path };
  if (a !== undefined) change.from = a;
  if (b !== undefined) change.to = b;
  out.push(change);
}
