// Load-balancing decisions, kept pure (no I/O, no timers) so they can be
// table-tested and so the proxy's hot path allocates nothing in steady state.
import type { GatewayEndpoint, GatewayRoute, VersionBackend } from './gateway.types.js';

export type LbMode = 'round-robin' | 'least-request';

/** True when the pod may receive traffic (not ejected). */
export type PodPredicate = (podId: string) => boolean;

function hasEndpoint(endpoints: readonly GatewayEndpoint[], isAvailable: PodPredicate | undefined): boolean {
  if (isAvailable === undefined) return endpoints.length > 0;
  for (let i = 0; i < endpoints.length; i++) {
    if (isAvailable(endpoints[i].podId)) return true;
  }
  return false;
}

interface SwrrState {
  versions: string[];
  weights: number[];
  current: number[];
  /** Reused per pick so that picking allocates nothing. */
  candidates: VersionBackend[];
}

/**
 * Smooth weighted round robin (nginx's SWRR) over the versions of a route.
 *
 * SWRR's sequence is periodic with period = sum of weights, and each period holds
 * exactly `weight` picks of every version; so any window of that many consecutive
 * picks is a rotation of one period and the split is exact, even with one pod per
 * version and weights like 1/99 (replica-count approximations cannot do that).
 *
 * Candidates are versions with weight > 0 and an available endpoint. When none
 * qualifies but some version with weight 0 still has available pods, those share
 * the traffic equally: serving from a version that was weighted out beats a 503
 * (the same call as Envoy's panic mode), e.g. right after a blue/green switch
 * whose new pods all failed.
 */
export class WeightedVersionPicker {
  private readonly state = new Map<string, SwrrState>();

  pick(route: GatewayRoute, isAvailable?: PodPredicate): VersionBackend | undefined {
    let st = this.state.get(route.service);
    if (st === undefined) {
      st = { versions: [], weights: [], current: [], candidates: [] };
      this.state.set(route.service, st);
    }
    const cand = st.candidates;
    cand.length = 0;
    const versions = route.versions;
    for (let i = 0; i < versions.length; i++) {
      const v = versions[i];
      if (v.weight > 0 && hasEndpoint(v.endpoints, isAvailable)) cand.push(v);
    }
    let weighted = true;
    if (cand.length === 0) {
      weighted = false;
      for (let i = 0; i < versions.length; i++) {
        if (hasEndpoint(versions[i].endpoints, isAvailable)) cand.push(versions[i]);
      }
      if (cand.length === 0) return undefined;
    }
    this.sync(st, cand, weighted);
    if (cand.length === 1) return cand[0];

    const { weights, current } = st;
    let total = 0;
    let best = 0;
    for (let i = 0; i < cand.length; i++) {
      current[i] += weights[i];
      total += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    return cand[best];
  }

  forget(service: string): void {
    this.state.delete(service);
  }

  /** Resets the SWRR state whenever the candidate set or any weight changed. */
  private sync(st: SwrrState, cand: readonly VersionBackend[], weighted: boolean): void {
    let same = st.versions.length === cand.length;
    for (let i = 0; same && i < cand.length; i++) {
      same = st.versions[i] === cand[i].version && st.weights[i] === (weighted ? cand[i].weight : 1);
    }
    if (same) return;
    st.versions = cand.map((v) => v.version);
    st.weights = cand.map((v) => (weighted ? v.weight : 1));
    st.current = cand.map(() => 0);
  }
}

interface Cursor {
  next: number;
}

/**
 * Picks a pod within one version. The cursor continues after the last pod picked
 * (rather than counting picks) so that a skipped pod's share is spread over the
 * others instead of all landing on its neighbour; taken modulo the current length
 * it survives the endpoint list changing between calls.
 */
export class EndpointPicker {
  private readonly cursors = new Map<string, Map<string, Cursor>>();

  constructor(
    readonly mode: LbMode = 'round-robin',
    /** In-flight requests per pod, for least-request. */
    private readonly load: (podId: string) => number = () => 0,
  ) {}

  pick(
    service: string,
    version: string,
    endpoints: readonly GatewayEndpoint[],
    isAvailable?: PodPredicate,
    exclude?: string,
  ): GatewayEndpoint | undefined {
    const n = endpoints.length;
    if (n === 0) return undefined;
    const cursor = this.cursor(service, version);
    const start = cursor.next % n;
    let chosen = -1;
    if (this.mode === 'round-robin') {
      for (let k = 0; k < n; k++) {
        const i = (start + k) % n;
        const podId = endpoints[i].podId;
        if (podId !== exclude && (isAvailable === undefined || isAvailable(podId))) {
          chosen = i;
          break;
        }
      }
    } else {
      // Strictly-less comparison from a rotating start: ties go round robin.
      let bestLoad = Infinity;
      for (let k = 0; k < n; k++) {
        const i = (start + k) % n;
        const podId = endpoints[i].podId;
        if (podId === exclude || (isAvailable !== undefined && !isAvailable(podId))) continue;
        const l = this.load(podId);
        if (l < bestLoad) {
          bestLoad = l;
          chosen = i;
        }
      }
    }
    if (chosen < 0) return undefined;
    // A retry (the only caller of exclude) leaves the cursor alone, so a failing
    // pod keeps its fair share of first attempts instead of getting all of them.
    if (exclude === undefined) cursor.next = chosen + 1;
    return endpoints[chosen];
  }

  forget(service: string): void {
    this.cursors.delete(service);
  }

  private cursor(service: string, version: string): Cursor {
    let byVersion = this.cursors.get(service);
    if (byVersion === undefined) {
      byVersion = new Map();
      this.cursors.set(service, byVersion);
    }
    let c = byVersion.get(version);
    if (c === undefined) {
      c = { next: 0 };
      byVersion.set(version, c);
    }
    return c;
  }
}
