// POST /scale's parameters, read once: a relative delta or an absolute replicas count.
import { GridException } from '../../common/errors/grid.exception.js';
import { intParam } from '../../common/validation/query.js';
import type { ScaleChange } from '../specs/specs.service.js';

/** `delta` (relative) or `replicas` (absolute), exactly one: a request with both would be ambiguous about which wins. */
export function scaleChange(delta: unknown, replicas: unknown): ScaleChange {
  // An empty value was given (`delta=`): it is checked as a number, and refused, not ignored.
  const given = (v: unknown) => v !== undefined;
  if (given(delta) && given(replicas)) throw GridException.invalid('replicas', 'give either delta or replicas, not both');
  if (given(replicas)) return { replicas: intParam(replicas, 'replicas', { min: 0, max: 1000 }) };
  if (!given(delta)) throw GridException.invalid('delta', 'is required (or replicas for an absolute count)');
  return { delta: intParam(delta, 'delta', { min: -1000, max: 1000 }) };
}
