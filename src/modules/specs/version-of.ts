// Pure, so the Kubernetes export can label objects with it without loading the service's Nest and TypeORM imports.
import type { ServiceSpec } from './spec.types.js';

/** What the pods of a revision report as their version: the image tag, the VERSION env, or r<revision>. */
export function versionOf(spec: ServiceSpec, revision: number): string {
  if (spec.image?.startsWith('local://')) return spec.image.slice(spec.image.lastIndexOf('@') + 1);
  const env = spec.env.find((e) => e.name === 'VERSION');
  if (env?.value) return env.value;
  if (spec.image) {
    const at = spec.image.lastIndexOf(':');
    if (at > spec.image.lastIndexOf('/')) return spec.image.slice(at + 1);
  }
  return `r${revision}`;
}
