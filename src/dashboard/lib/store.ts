// The dashboard's one store. State comes from /state (every 5 s), per-service details (after
// that service's events, at most once a second), running chaos experiments (after chaos events,
// at most once a second; every 5 s while any runs) and the event stream. Nothing polls faster
// than every 5 s; events only make the next refresh come sooner.
import { useEffect, useState } from 'preact/hooks';
import { get, ApiError } from './api.js';
import { openStream, type StreamHandle } from './sse.js';
import type { ExperimentView } from './chaos-model.js';
import type { GridEvent, ServiceDetail, StateSnapshot, WhoAmI } from '../../common/api/types.js';

export interface DashState {
  me: WhoAmI | null;
  /** Set when Grid answered 401: the shell shows the login form. */
  needLogin: boolean;
  loginError: string | null;
  state: StateSnapshot | null;
  services: ReadonlyMap<string, ServiceDetail>;
  events: readonly GridEvent[];
  connected: 'live' | 'reconnecting';
  /** Bumped on every event so views that read other routes (failover, alerts, audit) know to refresh. */
  eventSeq: number;
  /** GET /chaos/experiments and when it answered (performance.now()), which the countdowns run from; null until read or on a Grid without it. */
  experiments: { list: readonly ExperimentView[]; at: number } | null;
}

export const EVENTS_KEPT = 500;
const POLL_MS = 5000;
const SERVICE_REFRESH_MS = 1000;

let current: DashState = {
  me: null,
  needLogin: false,
  loginError: null,
  state: null,
  services: new Map(),
  events: [],
  connected: 'reconnecting',
  eventSeq: 0,
  experiments: null,
};
const listeners = new Set<() => void>();
let notifyQueued = false;

export function getState(): DashState {
  return current;
}

export function setState(patch: Partial<DashState>): void {
  current = { ...current, ...patch };
  // One render per microtask however many updates a burst of events brings.
  if (notifyQueued) return;
  notifyQueued = true;
  queueMicrotask(() => {
    notifyQueued = false;
    for (const fn of listeners) fn();
  });
}

export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Re-renders the component when the selected value changes (compared with Object.is). */
export function useStore<T>(sel: (s: DashState) => T): T {
  const [value, setValue] = useState(() => sel(current));
  useEffect(() => {
    const check = () => setValue(() => sel(current));
    check();
    return subscribe(check);
  }, []);
  return value;
}

const serviceTimers = new Map<string, ReturnType<typeof setTimeout>>();
const serviceLast = new Map<string, number>();

export async function refreshService(name: string): Promise<void> {
  serviceLast.set(name, performance.now());
  try {
    const d = await get<ServiceDetail>(`/services/${encodeURIComponent(name)}`);
    const services = new Map(current.services);
    services.set(name, d);
    setState({ services });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      const services = new Map(current.services);
      services.delete(name);
      setState({ services });
    }
  }
}

/** At most one refresh of a service per second, however many of its events arrive. */
export function scheduleServiceRefresh(name: string): void {
  // An event may name a failover group, or a service deleted since: only /state says which names are services.
  if (!current.services.has(name) && !current.state?.services.some((s) => s.name === name)) return scheduleStateRefresh();
  if (serviceTimers.has(name)) return;
  const wait = Math.max(0, SERVICE_REFRESH_MS - (performance.now() - (serviceLast.get(name) ?? 0)));
  serviceTimers.set(
    name,
    setTimeout(() => {
      serviceTimers.delete(name);
      void refreshService(name);
      scheduleStateRefresh();
    }, wait),
  );
}

let stateTimer: ReturnType<typeof setTimeout> | null = null;
let stateLast = 0;
function scheduleStateRefresh(): void {
  if (stateTimer) return;
  stateTimer = setTimeout(() => {
    stateTimer = null;
    void refreshState();
  }, Math.max(0, SERVICE_REFRESH_MS - (performance.now() - stateLast)));
}

export async function refreshState(): Promise<void> {
  stateLast = performance.now();
  try {
    const state = await get<StateSnapshot>('/state');
    const names = new Set(state.services.map((s) => s.name));
    let services = current.services;
    if ([...services.keys()].some((n) => !names.has(n))) services = new Map([...services].filter(([n]) => names.has(n)));
    setState({ state, services });
    for (const s of state.services) if (!current.services.has(s.name)) void refreshService(s.name);
  } catch {
    // The connection badge and the next poll tell the user; a 401 brings the login form.
  }
}

// A Grid without GET /chaos/experiments (404) is not asked again.
let experimentsMissing = false;
let experimentsTimer: ReturnType<typeof setTimeout> | null = null;
let experimentsLast = 0;

export async function refreshExperiments(): Promise<void> {
  if (experimentsMissing) return;
  experimentsLast = performance.now();
  try {
    const r = await get<{ experiments: ExperimentView[] }>('/chaos/experiments');
    setState({ experiments: { list: r.experiments, at: performance.now() } });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) experimentsMissing = true;
  }
}

/** At most one read a second however many chaos events arrive. */
function scheduleExperimentsRefresh(): void {
  if (experimentsTimer || experimentsMissing) return;
  experimentsTimer = setTimeout(() => {
    experimentsTimer = null;
    void refreshExperiments();
  }, Math.max(0, SERVICE_REFRESH_MS - (performance.now() - experimentsLast)));
}

/** An experiment starts or ends with one of these; a rollout's chaos step with rollout.chaos. */
function isChaosEvent(type: string): boolean {
  return type.startsWith('chaos.') || type === 'rollout.chaos';
}

/** /state, then the details of every service: new ones are read by refreshState, the rest here. */
export async function refreshAll(): Promise<void> {
  const known = [...current.services.keys()];
  void refreshExperiments();
  await refreshState();
  await Promise.all(known.filter((n) => current.services.has(n)).map((n) => refreshService(n)));
}

export async function loadMe(): Promise<boolean> {
  try {
    const me = await get<WhoAmI>('/auth/whoami');
    setState({ me, needLogin: false, loginError: null });
    return true;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 429)) setState({ needLogin: true, me: null, loginError: current.me || e.status === 429 ? e.message : current.loginError });
    else setState({ loginError: (e as Error).message, needLogin: true });
    return false;
  }
}

let stream: StreamHandle | null = null;
let poll: ReturnType<typeof setInterval> | null = null;

function onEvent(e: GridEvent): void {
  const events = current.events.length >= EVENTS_KEPT ? [...current.events.slice(current.events.length - EVENTS_KEPT + 1), e] : [...current.events, e];
  setState({ events, eventSeq: current.eventSeq + 1 });
  if (isChaosEvent(e.type)) scheduleExperimentsRefresh();
  if (e.type === 'spec.deleted' && e.service) {
    // Gone: reading it again would only be a 404.
    forget(e.service);
    scheduleStateRefresh();
  } else if (e.service) scheduleServiceRefresh(e.service);
  else scheduleStateRefresh();
}

function forget(name: string): void {
  const t = serviceTimers.get(name);
  if (t) clearTimeout(t);
  serviceTimers.delete(name);
  const services = new Map(current.services);
  services.delete(name);
  const state = current.state && { ...current.state, services: current.state.services.filter((s) => s.name !== name), pods: current.state.pods.filter((p) => p.service !== name) };
  setState({ services, state });
}

export function start(): void {
  stop();
  let wasLive = false;
  void refreshAll();
  poll = setInterval(() => {
    void refreshState();
    // While one runs: its end has an event too, this only keeps the time left honest if one was missed.
    if (current.experiments?.list.length) void refreshExperiments();
  }, POLL_MS);
  stream = openStream('/events/stream?replay=200', {
    onMessage: (m) => {
      if (m.event !== 'grid') return;
      try {
        onEvent(JSON.parse(m.data) as GridEvent);
      } catch {
        // A message we cannot read is skipped, not fatal.
      }
    },
    onState: (connected) => {
      const reconnected = connected === 'live' && wasLive;
      if (connected === 'live') wasLive = true;
      setState({ connected });
      // Back after a gap: the events resume by Last-Event-ID, the state is read afresh.
      if (reconnected) void refreshAll();
    },
  });
}

export function stop(): void {
  stream?.close();
  stream = null;
  if (poll) clearInterval(poll);
  poll = null;
  if (experimentsTimer) clearTimeout(experimentsTimer);
  experimentsTimer = null;
}
