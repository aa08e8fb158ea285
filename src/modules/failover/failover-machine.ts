// A failover group's decisions: which target is active, when a target counts as
// healthy or unhealthy, when to switch and when to fail back. Pure: no I/O, no
// timers; time comes in as `now`, so the tests drive it with a fake clock.
//
// Hysteresis both ways: a target turns unhealthy after failureThreshold failed
// checks in a row and healthy again only after successThreshold passes in a row
// (Uptime Kuma flips on one check). A switch is never followed by another
// automatic one within cooldownMs, and failback waits until the preferred
// target has been healthy for cooldownMs, so a flapping target cannot pull
// traffic back and forth.

export type Health = 'unknown' | 'healthy' | 'unhealthy';

export interface MachineConfig {
  /** Target ids in priority order (the first is preferred). */
  targets: readonly string[];
  failureThreshold: number;
  successThreshold: number;
  cooldownMs: number;
  failback: 'auto' | 'manual';
}

/** What one health check found. `problem` says why it failed (HTTP 503, timeout after 2000 ms, latency 80 ms above 50 ms, ...). */
export interface Observation {
  ok: boolean;
  status?: number;
  latencyMs?: number;
  problem?: string;
}

export interface TargetState {
  id: string;
  health: Health;
  /** Consecutive failed checks. */
  failures: number;
  /** Consecutive passed checks. */
  successes: number;
  /** When health last changed (or the target appeared). */
  since: number;
  last?: Observation;
}

export interface MachineState {
  active: string;
  /** When the active target last changed; null before the first switch. */
  lastSwitchAt: number | null;
  /** An operator chose the active target: no automatic failback undoes that (a failure of it still fails over). */
  pinned?: boolean;
  targets: TargetState[];
}

export type SwitchReason = 'ActiveFailed' | 'Failback' | 'Manual';

/** A switch with the reason and the numbers behind it. */
export interface SwitchDecision {
  from: string;
  to: string;
  automatic: boolean;
  reason: SwitchReason;
  message: string;
  numbers: Record<string, number | string | boolean | null>;
}

export type ManualResult = { ok: true; decision: SwitchDecision } | { ok: false; problem: string };

export function initialState(config: MachineConfig, now: number): MachineState {
  return { active: config.targets[0], lastSwitchAt: null, targets: config.targets.map((id) => fresh(id, now)) };
}

function fresh(id: string, now: number): TargetState {
  return { id, health: 'unknown', failures: 0, successes: 0, since: now };
}

/** What survives a restart of Grid: which target is active and why (health is checked afresh). */
export interface SavedChoice {
  active: string;
  lastSwitchAt: number | null;
  pinned: boolean;
}

/**
 * The state a group starts in when Grid restarts: the target that was active stays active
 * (an acknowledged switch is not undone by a crash), pinned as it was, its cooldown counted
 * from the switch; every target's health is unknown until checked. A saved target the spec
 * no longer lists is forgotten, as reconfigure does.
 */
export function restoredState(config: MachineConfig, saved: SavedChoice | undefined, now: number): MachineState {
  const s = initialState(config, now);
  if (!saved || !config.targets.includes(saved.active)) return s;
  return { ...s, active: saved.active, lastSwitchAt: saved.lastSwitchAt, ...(saved.pinned ? { pinned: true } : {}) };
}

/** The state under a changed spec: targets that stay keep their health; the active one stays active if it is still a target. */
export function reconfigure(state: MachineState, config: MachineConfig, now: number): MachineState {
  const old = new Map(state.targets.map((t) => [t.id, t]));
  const targets = config.targets.map((id) => old.get(id) ?? fresh(id, now));
  const active = config.targets.includes(state.active) ? state.active : config.targets[0];
  return { active, lastSwitchAt: state.lastSwitchAt, targets };
}

/** Counts one check of target `id`; health changes only when a threshold of checks in a row is reached. */
export function observe(state: MachineState, config: MachineConfig, id: string, obs: Observation, now: number): MachineState {
  const targets = state.targets.map((t) => {
    if (t.id !== id) return t;
    const failures = obs.ok ? 0 : t.failures + 1;
    const successes = obs.ok ? t.successes + 1 : 0;
    let health = t.health;
    if (!obs.ok && failures >= config.failureThreshold) health = 'unhealthy';
    if (obs.ok && successes >= config.successThreshold) health = 'healthy';
    return { id, health, failures, successes, since: health === t.health ? t.since : now, last: obs };
  });
  return { ...state, targets };
}

function target(state: MachineState, id: string): TargetState {
  return state.targets.find((t) => t.id === id)!;
}

/** Until when no automatic switch may happen (the cooldown after the last switch); 0 when none is pending. */
export function cooldownUntil(state: MachineState, config: MachineConfig): number {
  return state.lastSwitchAt === null ? 0 : state.lastSwitchAt + config.cooldownMs;
}

export function describeLast(obs: Observation | undefined): string {
  if (!obs) return 'no check yet';
  const latency = obs.latencyMs === undefined ? '' : ` in ${Math.round(obs.latencyMs)} ms`;
  if (obs.problem) return `${obs.problem}${obs.problem.startsWith('latency') ? '' : latency}`;
  return `HTTP ${obs.status}${latency}`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The automatic switch due now, if any: away from a failed active target, or back to a preferred one (failback auto). */
export function decide(state: MachineState, config: MachineConfig, now: number): SwitchDecision | undefined {
  if (now < cooldownUntil(state, config)) return undefined;
  const active = target(state, state.active);
  const order = config.targets;
  // Failing now, not merely still marked unhealthy: an active target that passes again is recovering
  // (a switch then would be to a peer that recovered a check sooner, at boot, or one the cooldown held back).
  if (active.health === 'unhealthy' && active.failures >= config.failureThreshold) {
    const to = order.map((id) => target(state, id)).find((t) => t.id !== active.id && t.health === 'healthy');
    if (!to) return undefined;
    return {
      from: active.id,
      to: to.id,
      automatic: true,
      reason: 'ActiveFailed',
      message: `${active.id} failed ${active.failures} health checks in a row (threshold ${config.failureThreshold}; last: ${describeLast(active.last)}): switched to ${to.id}, the first healthy target in priority order`,
      numbers: {
        failuresInRow: active.failures,
        failureThreshold: config.failureThreshold,
        lastStatus: active.last?.status ?? null,
        lastLatencyMs: active.last?.latencyMs === undefined ? null : Math.round(active.last.latencyMs * 10) / 10,
        lastProblem: active.last?.problem ?? null,
        toPriority: order.indexOf(to.id) + 1,
      },
    };
  }
  if (config.failback !== 'auto' || state.pinned) return undefined;
  const preferred = order.slice(0, order.indexOf(active.id)).map((id) => target(state, id)).find((t) => t.health === 'healthy');
  if (!preferred) return undefined;
  const healthyForMs = now - preferred.since;
  if (healthyForMs < config.cooldownMs) return undefined;
  return {
    from: active.id,
    to: preferred.id,
    automatic: true,
    reason: 'Failback',
    message: `${preferred.id} (priority ${order.indexOf(preferred.id) + 1}) has been healthy for ${seconds(healthyForMs)} (at least the cooldown of ${seconds(config.cooldownMs)}, after ${config.successThreshold} passes in a row): failed back from ${active.id}`,
    numbers: {
      healthyForMs,
      cooldownMs: config.cooldownMs,
      successThreshold: config.successThreshold,
      successesInRow: preferred.successes,
      toPriority: order.indexOf(preferred.id) + 1,
    },
  };
}

/**
 * An operator's switch: to `to`, or without it to the next healthy target after the
 * active one in priority order (wrapping). A named target is taken even when it is
 * unhealthy (the operator may know better); the message says so.
 */
export function manualSwitch(state: MachineState, config: MachineConfig, to: string | undefined, now: number): ManualResult {
  const order = config.targets;
  let dest: TargetState | undefined;
  if (to !== undefined) {
    if (!order.includes(to)) return { ok: false, problem: `'${to}' is not a target of this group (targets: ${order.join(', ')})` };
    if (to === state.active) return { ok: false, problem: `'${to}' is already the active target` };
    dest = target(state, to);
  } else {
    const start = order.indexOf(state.active);
    for (let i = 1; i < order.length && !dest; i++) {
      const t = target(state, order[(start + i) % order.length]);
      if (t.health === 'healthy') dest = t;
    }
    if (!dest) return { ok: false, problem: `no other target is healthy (${order.filter((id) => id !== state.active).map((id) => `${id}: ${target(state, id).health}`).join(', ') || 'there is no other target'}); name one with ?to=` };
  }
  const warning = dest.health === 'healthy' ? '' : ` (${dest.id} is ${dest.health}: ${dest.failures} failed checks in a row; last: ${describeLast(dest.last)})`;
  return {
    ok: true,
    decision: {
      from: state.active,
      to: dest.id,
      automatic: false,
      reason: 'Manual',
      message: `switched by request from ${state.active} to ${dest.id}${warning}`,
      numbers: { toPriority: order.indexOf(dest.id) + 1, toHealth: dest.health, toFailuresInRow: dest.failures, sinceLastSwitchMs: state.lastSwitchAt === null ? null : now - state.lastSwitchAt },
    },
  };
}

export function applySwitch(state: MachineState, decision: SwitchDecision, now: number): MachineState {
  return { ...state, active: decision.to, lastSwitchAt: now, pinned: !decision.automatic };
}

/** The target that takes what the active one cannot (no Ready pod, a refused connection): the first healthy one after it in priority order, else before it. */
export function standby(state: MachineState, config: MachineConfig): string | undefined {
  const order = config.targets;
  const i = order.indexOf(state.active);
  const rest = [...order.slice(i + 1), ...order.slice(0, i)];
  return rest.find((id) => target(state, id).health === 'healthy');
}
