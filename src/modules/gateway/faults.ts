// Fault injection at the gateway, as Envoy's fault filter does it: a rule aborts
// a share of a service's requests with a status of its own, and delays a share
// before they are proxied. Pure: no I/O, no clock; the paths (wire-client.ts,
// node-path.ts, the simulated answers) ask `decide` after the pod pick, so a
// version-scoped rule sees only the requests that version's pods would serve.
//
// Envoy draws each share at random; here they are exact: the n-th request a rule
// sees is in a share of p % iff floor(n·p/100) > floor((n−1)·p/100), so any N
// consecutive requests hold floor(N·p/100) or one more of them, spread evenly,
// and a test can count them exactly. Abort and delay are decided independently
// (a request can be delayed and then aborted, as in Envoy).
import { faultAnswer, type FaultAnswer } from './http-semantics.js';

/** A share of requests, in basis points (1/100 of a percent): integer arithmetic keeps the shares exact. */
const BP_PER_PERCENT = 100;
const BP_ALL = 100 * BP_PER_PERCENT;

export const FAULT_ABORT = 1;
export const FAULT_DELAY = 2;

export { MAX_FAULT_DELAY_MS, MAX_FAULT_SECONDS, DEFAULT_FAULT_SECONDS, DEFAULT_ABORT_STATUS, checkFaultSettings, type FaultSettings, type CheckedFaultSettings } from '../../common/chaos-limits.js';

/** One running fault experiment as the gateway applies it. */
export interface FaultRule {
  /** The experiment's id (it names the experiment in the aborted answers). */
  id: string;
  service: string;
  /** Only requests picked to this version's pods; all of the service's when absent. */
  version?: string;
  abortPercent: number;
  abortStatus: number;
  delayMs: number;
  delayPercent: number;
}

export interface FaultCounts {
  /** Requests the rule decided on. */
  seen: number;
  aborted: number;
  delayed: number;
}

/** Whether the n-th request (n ≥ 1) falls in an exact share of `bp` basis points. */
export function inShare(n: number, bp: number): boolean {
  return Math.floor((n * bp) / BP_ALL) > Math.floor(((n - 1) * bp) / BP_ALL);
}

/** A rule being applied: its shares in basis points and its counter. */
export class ActiveFault {
  readonly abortBp: number;
  readonly delayBp: number;
  readonly counts: FaultCounts = { seen: 0, aborted: 0, delayed: 0 };
  /** The aborted requests' answer, built once. */
  readonly answer: FaultAnswer;

  constructor(readonly rule: FaultRule) {
    this.abortBp = Math.round(rule.abortPercent * BP_PER_PERCENT);
    this.delayBp = Math.round(rule.delayPercent * BP_PER_PERCENT);
    this.answer = faultAnswer(rule.abortStatus, abortMessage(rule.id));
  }
}

/** What `decide` answers for a faulted request: the rule, and FAULT_ABORT and/or FAULT_DELAY. */
export interface FaultHit {
  fault: ActiveFault;
  kind: number;
}

/**
 * The gateway's running fault rules by service. `size` is what the hot path reads: with no rule
 * running a request costs one field read. The chaos service never starts two rules that cover the
 * same requests (chaos/fault-scope.ts); should the table hold such rules anyway, the one scoped to
 * the version wins over a service-wide one, and among those the latest added: one rule decides,
 * and only its counter moves.
 */
export class FaultTable {
  size = 0;
  private readonly byService = new Map<string, ActiveFault[]>();
  /** The same rules by id: counts and remove find a rule without walking every rule (GET /chaos/faults asks once per experiment). */
  private readonly byId = new Map<string, ActiveFault>();

  add(rule: FaultRule): void {
    this.remove(rule.id);
    let list = this.byService.get(rule.service);
    if (list === undefined) this.byService.set(rule.service, (list = []));
    const f = new ActiveFault(rule);
    list.push(f);
    this.byId.set(rule.id, f);
    this.size++;
  }

  /** Lifts one rule; its final counts, or undefined when it was not there. */
  remove(id: string): FaultCounts | undefined {
    const gone = this.byId.get(id);
    if (gone === undefined) return undefined;
    this.byId.delete(id);
    const service = gone.rule.service;
    const list = this.byService.get(service) ?? [];
    list.splice(list.indexOf(gone), 1);
    if (list.length === 0) this.byService.delete(service);
    this.size--;
    return gone.counts;
  }

  counts(id: string): FaultCounts | undefined {
    const f = this.byId.get(id);
    return f === undefined ? undefined : { ...f.counts };
  }

  /** The fault for a request of `service` picked to a pod of `version`, counted; undefined when none applies. */
  decide(service: string, version: string): FaultHit | undefined {
    const list = this.byService.get(service);
    if (list === undefined) return undefined;
    let chosen: ActiveFault | undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const f = list[i];
      const v = f.rule.version;
      if (v === version) {
        chosen = f;
        break;
      }
      if (v === undefined && chosen === undefined) chosen = f;
    }
    if (chosen === undefined) return undefined;
    const c = chosen.counts;
    const n = ++c.seen;
    let kind = 0;
    if (chosen.abortBp > 0 && inShare(n, chosen.abortBp)) {
      kind |= FAULT_ABORT;
      c.aborted++;
    }
    if (chosen.delayBp > 0 && inShare(n, chosen.delayBp)) {
      kind |= FAULT_DELAY;
      c.delayed++;
    }
    return kind === 0 ? undefined : { fault: chosen, kind };
  }
}

/** The message of an injected abort: says it was Grid's doing, and which experiment. */
export function abortMessage(id: string): string {
  return `fault injected by Grid (experiment ${id})`;
}

/** The X-Grid-Fault value of a faulted response. */
export function faultHeader(kind: number): string {
  return kind === FAULT_ABORT ? 'abort' : kind === FAULT_DELAY ? 'delay' : 'delay, abort';
}
