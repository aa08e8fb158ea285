// Which requests a new fault experiment may claim. Pure: the chaos service passes the running
// experiments and the versions the service has.
//
// One rule decides each request (FaultTable.decide), so a second rule on requests the first already
// covers would be listed as running while it injects nothing, or silently replace the first. Rather
// than compose two rules' shares, the second is refused: two rules conflict when they name the same
// version, or when either covers the whole service.

export interface RunningFault {
  id: string;
  version?: string;
}

/** The running experiment a new one on `version` (the whole service when undefined) would overlap; undefined when none. */
export function faultConflict(running: readonly RunningFault[], version: string | undefined): RunningFault | undefined {
  return running.find((r) => r.version === undefined || version === undefined || r.version === version);
}

/** The 409 message for a conflict with `other`. */
export function conflictMessage(service: string, other: RunningFault): string {
  const scope = other.version === undefined ? `${service} (every version)` : `${service} ${other.version}`;
  return `${other.id} already injects faults into ${scope}; stop it first (DELETE /chaos/experiments/${other.id})`;
}

/** The 404 message when `version` is none of the service's versions (its pods' and its revisions'); undefined when it is one. */
export function unknownVersion(service: string, version: string, known: Iterable<string>): string | undefined {
  const versions = [...new Set(known)].sort();
  if (versions.includes(version)) return undefined;
  return `version '${version}' of service '${service}' not found: it has ${versions.length === 0 ? 'no version yet' : `${versions.join(', ')}`} (a version is known once a revision or a pod of it exists)`;
}
