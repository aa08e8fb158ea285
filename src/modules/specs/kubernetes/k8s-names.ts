// The names both directions of the Kubernetes interop agree on (issue 14): export writes
// them, import reads them, so an exported object imports back as the Grid spec it came from.

/** Recommended Kubernetes labels (kubernetes.io/docs/concepts/overview/working-with-objects/common-labels). */
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_VERSION = 'app.kubernetes.io/version';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_GRID = 'grid';

/** The container image of a process service (Grid runs its command; Kubernetes runs this image). */
export const ANNOTATION_IMAGE = 'grid.dev/image';
/** JSON array of strings: the command a process service runs. On import: run it as a process here. */
export const ANNOTATION_COMMAND = 'grid.dev/command';

/** The container port when the spec names none: Grid gives every pod PORT, the container gets PORT=<this>. */
export const DEFAULT_CONTAINER_PORT = 8080;
/** The env var Grid gives every pod; exported explicitly unless the spec sets it itself. */
export const PORT_ENV = 'PORT';

/** The v1 Service in front of a workload: port 80 → the container port, named http. */
export const SERVICE_PORT = 80;
export const SERVICE_PORT_NAME = 'http';

/** A BlueGreen Rollout's preview Service is `<name>-preview`; a Canary's AnalysisTemplate `<name>-analysis`. */
export const PREVIEW_SUFFIX = '-preview';
/** A persistent service's StatefulSet is governed by a headless Service `<name>-headless` (its pods' DNS names), beside the ClusterIP `<name>`. */
export const HEADLESS_SUFFIX = '-headless';
export const ANALYSIS_SUFFIX = '-analysis';

/**
 * A persistent service's data in a cluster: the StatefulSet's claim template `data`, mounted here,
 * and GRID_POD_DATA names the mount, so a program that reads GRID_POD_DATA finds its data in both.
 */
export const DATA_VOLUME = 'data';
export const DATA_MOUNT_PATH = '/data';
export const POD_DATA_ENV = 'GRID_POD_DATA';
/** Grid has no size for a pod's data directory; the claim asks for this, and export says so in a warning. */
export const DEFAULT_STORAGE_REQUEST = '1Gi';

/** The labels of every exported object of a service. */
export function labelsOf(service: string, version: string): Record<string, string> {
  return { [LABEL_NAME]: service, [LABEL_VERSION]: version, [LABEL_MANAGED_BY]: MANAGED_BY_GRID };
}

/** Selects a service's pods across versions (the version label changes on every rollout). */
export function selectorOf(service: string): Record<string, string> {
  return { [LABEL_NAME]: service };
}
