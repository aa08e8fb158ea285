// What an apply would change, as POST /apply?dryRun=All answers it: {path, from, to} per field.

export interface Change {
  path: string;
  /** Absent: the field is new (from) or removed (to). */
  from?: unknown;
  to?: unknown;
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  const s = JSON.stringify(v);
  return s.length > 120 ? s.slice(0, 117) + '…' : s;
}
