// What an apply would change, as {path, from, to}: the shape POST /apply?dryRun=All answers with.
// Also computed here, field by field, for a Grid without dry run: only the fields the YAML sets
// are compared, since the stored spec carries defaults the YAML leaves out.

export interface Change {
  path: string;
  from: unknown;
  to: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Leaves of `to` that differ from `from`; arrays compare whole (env lists, steps). */
export function changedFields(from: unknown, to: unknown, path = ''): Change[] {
  if (isObject(to) && isObject(from)) {
    return Object.keys(to).flatMap((k) => changedFields(from[k], to[k], path ? `${path}.${k}` : k));
  }
  return same(from, to) ? [] : [{ path, from: from === undefined ? null : from, to }];
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  const s = JSON.stringify(v);
  return s.length > 120 ? s.slice(0, 117) + '…' : s;
}
