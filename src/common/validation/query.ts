import { GridException } from '../errors/grid.exception.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A query parameter given twice arrives as an array; say so rather than "is required". */
function single(value: unknown, param: string): unknown {
  if (Array.isArray(value)) throw GridException.invalid(param, `must be given once (got ${value.length} values)`);
  return value;
}

export function requiredName(value: unknown, param: string): string {
  value = single(value, param);
  if (typeof value !== 'string' || value === '') throw GridException.invalid(param, 'is required');
  if (value.length > 63 || !DNS_LABEL.test(value)) throw GridException.invalid(param, `must be a DNS label such as "api" (got "${value}")`);
  return value;
}

export function optionalName(value: unknown, param: string): string | undefined {
  return value === undefined || value === '' ? undefined : requiredName(value, param);
}

export function intParam(value: unknown, param: string, opts: { min: number; max: number; def?: number }): number {
  value = single(value, param);
  if (value === undefined || value === '') {
    if (opts.def === undefined) throw GridException.invalid(param, 'is required');
    return opts.def;
  }
  const s = String(value);
  if (!/^[-+]?\d+$/.test(s)) throw GridException.invalid(param, `must be an integer ${opts.min}..${opts.max} (got "${s}")`);
  const n = Number(s);
  if (n < opts.min || n > opts.max) throw GridException.invalid(param, `must be an integer ${opts.min}..${opts.max} (got ${n})`);
  return n;
}

export function numberParam(value: unknown, param: string, opts: { min: number; max: number; def?: number }): number {
  value = single(value, param);
  if (value === undefined || value === '') {
    if (opts.def === undefined) throw GridException.invalid(param, 'is required');
    return opts.def;
  }
  const s = String(value);
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) throw GridException.invalid(param, `must be a number ${opts.min}..${opts.max} (got "${s}")`);
  if (n < opts.min || n > opts.max) throw GridException.invalid(param, `must be a number ${opts.min}..${opts.max} (got ${n})`);
  return n;
}

/**
 * Exactly true or false, as the README and ?full= spell them; absent is `def`. Anything else is a 400:
 * a mistyped flag must not quietly mean false, and `1` meaning true while `TRUE` is refused read as arbitrary.
 */
export function boolParam(value: unknown, param: string, def: boolean): boolean {
  value = single(value, param);
  if (value === undefined) return def;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw GridException.invalid(param, `must be true or false (got "${String(value).slice(0, 40)}")`);
}

/** An ISO-8601 time or epoch milliseconds. */
export function timeParam(value: unknown, param: string): number | undefined {
  value = single(value, param);
  if (value === undefined || value === '') return undefined;
  const s = String(value);
  const n = /^\d+$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  if (!Number.isFinite(n)) throw GridException.invalid(param, `must be an ISO-8601 time or epoch milliseconds (got "${s}")`);
  return n;
}
