// Play Demo: a script in the browser that drives Grid's API through a release, a canary, a bad
// canary the analysis rolls back, a chaos kill, self-healing and a failover, and says what
// happens in plain words. It uses its own demo-* names, waits on the store (never polls faster
// than it) and Stop removes everything it created.
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import { request, ApiError } from '../lib/api.js';
import { getState, subscribe, useStore, type DashState } from '../lib/store.js';
import { apiManifest, demoReducer, demoRouteFor, failoverManifest, initialDemo, DEMO_GROUP, DEMO_SERVICE, DEMO_STEPS, DEMO_TARGETS, type DemoAction } from '../lib/demo-script.js';
import type { GridEvent } from '../../common/api/types.js';

class Stopped extends Error {}

const READ_PAUSE_MS = 2500;

/** Resolves with the first truthy value `check` finds in the store, re-checked on each store change. */
function waitFor<T>(check: (s: DashState) => T | null | undefined | false, ms: number, signal: AbortSignal, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let off = () => {};
    const timer = setTimeout(() => done(() => reject(new Error(`gave up after ${ms / 1000} s waiting for ${what}`))), ms);
    const onAbort = () => done(() => reject(new Stopped()));
    const done = (fn: () => void) => {
      clearTimeout(timer);
      off();
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const test = () => {
      const v = check(getState());
      if (v) done(() => resolve(v));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    off = subscribe(test);
    test();
  });
}

const lastEventId = () => getState().events.at(-1)?.id ?? 0;
const eventAfter = (mark: number, pred: (e: GridEvent) => boolean) => (s: DashState) => s.events.find((e) => e.id > mark && pred(e));
const readyOf = (s: DashState, name: string) => {
  const d = s.services.get(name);
  return d ? { ready: d.ready, desired: d.desired } : null;
};

class DemoRun {
  private readonly ctrl = new AbortController();
  private trafficService: string | null = null;

  constructor(private readonly dispatch: (a: DemoAction) => void) {}

  private say(text: string) {
    this.dispatch({ type: 'say', text });
  }

  private async apply(yaml: string): Promise<number | null> {
    return (await request('POST', '/apply', { body: yaml, contentType: 'application/yaml', signal: this.ctrl.signal })).auditId;
  }

  /** Requests through the gateway, so the canary analysis has numbers to judge. */
  /**
   * Steady requests through the gateway, sent by Grid itself (POST /chaos/traffic), so the canary
   * analysis has numbers to judge; from the page, every 500 of the bad canary was a console error.
   */
  private async startTraffic(service: string, rps: number): Promise<void> {
    await request('POST', '/chaos/traffic', { query: { service, rps, seconds: 180 }, signal: this.ctrl.signal });
    this.trafficService = service;
  }

  /** Answers so far, by status class, of the running generator. */
  private async trafficAnswers(): Promise<{ ok: number; failed: number }> {
    const list = (await request<{ generators: { service: string; answers: Record<string, number> }[] }>('GET', '/chaos/traffic')).data.generators;
    const a = list.find((g) => g.service === this.trafficService)?.answers ?? {};
    return { ok: a['2xx'] ?? 0, failed: Object.entries(a).filter(([k]) => k !== '2xx').reduce((n, [, v]) => n + v, 0) };
  }

  private async stopTraffic(): Promise<void> {
    const service = this.trafficService;
    this.trafficService = null;
    if (!service) return;
    // Only if it still runs (deleting the service ends it too): a 404 would be a console error.
    const list = (await request<{ generators: { service: string }[] }>('GET', '/chaos/traffic')).data.generators;
    if (list.some((g) => g.service === service)) await request('DELETE', '/chaos/traffic', { query: { service } });
  }

  /** Narrates the demo service's rollout events as they come, until the returned function is called. */
  private narrateRollout(mark: number): () => void {
    let seen = mark;
    return subscribe(() => {
      for (const e of getState().events) {
        if (e.id <= seen) continue;
        seen = e.id;
        if (e.service === DEMO_SERVICE && /^rollout\.(weightSet|paused|promoted)$/.test(e.type)) this.say(e.explain || e.message);
      }
    });
  }

  /** A pause after each step, so a person can read what happened before the next one starts. */
  private linger(): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(resolve, READ_PAUSE_MS);
      this.ctrl.signal.addEventListener('abort', () => (clearTimeout(t), reject(new Stopped())), { once: true });
    });
  }

  stop() {
    this.ctrl.abort();
  }

  async run(): Promise<void> {
    const signal = this.ctrl.signal;
    const next = async (last = false) => {
      if (!last) await this.linger();
      this.dispatch({ type: 'next', at: Date.now() });
    };
    this.dispatch({ type: 'start', at: Date.now() });
    try {
      await this.removeAll(); // leftovers of an earlier run that was closed mid-way

      // 1. v1
      let audit = await this.apply(apiManifest('v1'));
      this.say(`Applied${audit ? ` (audit #${audit})` : ''}. The reconciler sees 0 of 3 pods and starts 3; each turns Ready once /health/ready answers.`);
      await waitFor((s) => (readyOf(s, DEMO_SERVICE)?.ready ?? 0) >= 3, 40_000, signal, '3 ready pods of v1');
      this.say('3 of 3 ready: what runs matches what we asked for.');
      await next();

      // 2. good canary
      await this.startTraffic(DEMO_SERVICE, 15);
      let mark = lastEventId();
      let unnarrate = this.narrateRollout(mark);
      audit = await this.apply(apiManifest('v2'));
      this.say(`Applied v2${audit ? ` (audit #${audit})` : ''}: the rollout starts.`);
      await waitFor(eventAfter(mark, (e) => e.service === DEMO_SERVICE && (e.type === 'rollout.completed' || e.type === 'rollout.aborted')), 70_000, signal, 'the v2 rollout to finish').then((e) => {
        if (e.type === 'rollout.aborted') throw new Error(`v2 was aborted unexpectedly: ${e.message}`);
      });
      unnarrate();
      const traffic = await this.trafficAnswers();
      this.say(`Rollout completed: the analysis found v2 healthy (${traffic.ok} requests answered so far, ${traffic.failed} failed), so v2 now takes all traffic and is the stable version.`);
      await next();

      // 3. bad canary
      mark = lastEventId();
      unnarrate = this.narrateRollout(mark);
      audit = await this.apply(apiManifest('v3-bad', 0.5));
      this.say(`Applied v3-bad${audit ? ` (audit #${audit})` : ''}; it answers about half its requests with HTTP 500.`);
      const aborted = await waitFor(eventAfter(mark, (e) => e.service === DEMO_SERVICE && (e.type === 'rollout.aborted' || e.type === 'rollout.completed')), 70_000, signal, 'the analysis to judge v3-bad');
      unnarrate();
      if (aborted.type !== 'rollout.aborted') throw new Error('v3-bad was not rolled back');
      this.say(`Rolled back: ${aborted.message}. All traffic is on v2 again, and nobody had to be paged.`);
      await this.stopTraffic();
      await next();

      // 4. chaos kill
      await waitFor((s) => (readyOf(s, DEMO_SERVICE)?.ready ?? 0) >= 3, 30_000, signal, 'the v2 pods to be ready');
      mark = lastEventId();
      await request('POST', '/chaos/kill', { query: { service: DEMO_SERVICE, count: 1 }, signal });
      const killed = await waitFor(eventAfter(mark, (e) => e.service === DEMO_SERVICE && (e.type === 'pod.killed' || e.type === 'pod.stopped' || e.type === 'pod.deleted')), 15_000, signal, 'the pod to be killed');
      this.say(`Killed pod ${killed.pod ?? ''}. Now 2 of 3 are running: reality no longer matches the spec.`);
      await next();

      // 5. self-heal
      await waitFor(eventAfter(mark, (e) => e.service === DEMO_SERVICE && e.type === 'pod.created'), 20_000, signal, 'a replacement pod').then((e) => this.say(`The reconciler started ${e.pod ?? 'a new pod'} to close the gap.`));
      await waitFor((s) => eventAfter(mark, (e) => e.service === DEMO_SERVICE && e.type === 'pod.ready')(s) && (readyOf(s, DEMO_SERVICE)?.ready ?? 0) >= 3, 40_000, signal, '3 ready pods again');
      this.say('3 of 3 ready again. No one restarted anything by hand: that is self-healing.');
      await next();

      // 6. failover
      mark = lastEventId();
      audit = await this.apply(failoverManifest());
      this.say(`Applied ${DEMO_TARGETS.join(', ')} and the group ${DEMO_GROUP}${audit ? ` (audit #${audit})` : ''}; waiting until both targets pass their health checks.`);
      await waitFor(
        (s) => DEMO_TARGETS.every((t) => s.events.some((e) => e.id > mark && e.service === DEMO_GROUP && e.type === 'failover.health' && e.reason === 'TargetHealthy' && e.message.includes(`${t} is healthy`))),
        40_000,
        signal,
        'both failover targets to be healthy',
      );
      const group = (await request<{ active: string | null }>('GET', `/failover/${DEMO_GROUP}`, { signal })).data;
      const active = group.active ?? DEMO_TARGETS[0];
      this.say(`Both healthy; ${active} is active. Now we break it: its /health starts answering 503.`);
      mark = lastEventId();
      await request('POST', `/gateway/${active}/chaos/corrupt`, { signal });
      const switched = await waitFor(eventAfter(mark, (e) => e.service === DEMO_GROUP && e.type === 'failover.switched'), 30_000, signal, 'the group to fail over');
      this.say(`${switched.message}. Traffic for ${DEMO_GROUP} now goes to the healthy target.`);
      await next(true);
    } catch (e) {
      await this.stopTraffic().catch(() => undefined);
      if (e instanceof Stopped || signal.aborted || (e as Error).name === 'AbortError') return;
      this.dispatch({ type: 'fail', text: `The demo stopped: ${e instanceof ApiError ? `${e.status} ${e.message}` : (e as Error).message}. Stop removes what it created.`, at: Date.now() });
    }
  }

  /** Removes the demo's group and services: only those that exist, so nothing answers 404. */
  async removeAll(): Promise<void> {
    await this.stopTraffic();
    const groups = (await request<{ groups: { name: string }[] }>('GET', '/failover')).data.groups;
    if (groups.some((g) => g.name === DEMO_GROUP)) await request('DELETE', `/failovergroups/${DEMO_GROUP}`);
    const services = new Set((await request<{ services: { name: string }[] }>('GET', '/services')).data.services.map((s) => s.name));
    await Promise.all([DEMO_SERVICE, ...DEMO_TARGETS].filter((n) => services.has(n)).map((n) => request('DELETE', `/services/${n}`)));
  }
}

export function DemoButton() {
  const me = useStore((s) => s.me);
  const [state, dispatch] = useReducer(demoReducer, undefined, initialDemo);
  const [open, setOpen] = useState(false);
  const [cleaning, setCleaning] = useState(false);
  const [now, setNow] = useState(Date.now());
  const run = useRef<DemoRun | null>(null);
  const log = useRef<HTMLOListElement>(null);
  const panel = useRef<HTMLElement>(null);
  const lastShown = useRef<string | null>(null);
  /** Phones: the sheet shows one line of narration until expanded. */
  const [expanded, setExpanded] = useState(false);
  const canAct = Boolean(me?.canAct);
  const running = state.status === 'running';

  // Each step brings the user to the view that shows it, unless they went elsewhere meanwhile.
  useEffect(() => {
    if (!running || state.current < 0) return;
    const to = demoRouteFor(state.current, location.hash, lastShown.current);
    if (to === null) return;
    lastShown.current = to;
    if (location.hash !== to) location.hash = to;
  }, [running, state.current]);

  // The page is padded by the docked panel's size (styles.css), so the panel covers nothing.
  useLayoutEffect(() => {
    const el = panel.current;
    if (!open || !el) return;
    const set = () => document.body.style.setProperty('--demo-h', `${el.offsetHeight}px`);
    const ro = new ResizeObserver(set);
    ro.observe(el);
    set();
    return () => {
      ro.disconnect();
      document.body.style.removeProperty('--demo-h');
    };
  }, [open]);

  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);
  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }, [state.lines.length, expanded]);

  const play = () => {
    lastShown.current = null;
    setOpen(true);
    const r = new DemoRun(dispatch);
    run.current = r;
    void r.run();
  };
  const stop = async () => {
    const r = run.current ?? new DemoRun(dispatch);
    r.stop();
    setCleaning(true);
    try {
      await r.removeAll();
    } catch {
      // A service that could not be removed is still listed on the Services page.
    } finally {
      setCleaning(false);
      dispatch({ type: 'stop', at: Date.now() });
    }
  };
  const elapsed = state.startedAt ? Math.round(((state.endedAt ?? now) - state.startedAt) / 1000) : 0;
  const leftovers = state.status === 'done' || state.status === 'failed';

  return (
    <>
      <button
        type="button"
        data-testid="demo-play"
        class="primary"
        onClick={play}
        disabled={!canAct || running || cleaning}
        aria-describedby={!canAct ? 'demo-why' : undefined}
        title={!canAct ? 'Play Demo creates services: it needs an operator' : 'Watch a release, a failed canary, a crash and a failover in under two minutes'}
      >
        ▶ Play Demo
      </button>
      {!canAct && (
        <span id="demo-why" class="sr-only">
          Play Demo needs an operator: viewers cannot create services.
        </span>
      )}
      {open && (
        <aside ref={panel} class={`demo-panel panel${expanded ? '' : ' collapsed'}`} aria-labelledby="demo-h">
          <div class="row">
            <h2 id="demo-h">Play Demo</h2>
            <span class="num muted">{elapsed} s</span>
            <span class="push" />
            <button type="button" class="demo-expand" aria-expanded={expanded} aria-controls="demo-more" onClick={() => setExpanded(!expanded)}>
              {expanded ? '▾ Less' : '▴ More'}
            </button>
            {(running || leftovers) && (
              <button type="button" class="danger" data-testid="demo-stop" onClick={stop} disabled={cleaning}>
                {cleaning ? 'Cleaning up…' : running ? '■ Stop' : '■ Stop and remove demo services'}
              </button>
            )}
            {!running && (
              <button type="button" onClick={() => setOpen(false)} aria-label="Hide the demo panel">
                Hide
              </button>
            )}
          </div>
          <ol class="demo-steps" id="demo-more">
            {state.steps.map((s, i) => (
              <li key={s.id} data-testid="demo-step" data-step={s.id} data-state={s.state} class={s.state}>
                <span aria-hidden="true">{s.state === 'done' ? '✓' : s.state === 'running' ? '▶' : s.state === 'failed' ? '✗' : '·'}</span> {DEMO_STEPS[i].title}
                <span class="sr-only"> ({s.state})</span>
              </li>
            ))}
          </ol>
          <ol class="demo-narration" data-testid="demo-narration" ref={log} aria-live="polite">
            {state.lines.map((l, i) => (
              <li key={i} class={l.step ? undefined : 'summary'}>
                {l.text}
              </li>
            ))}
          </ol>
          {state.status === 'done' && (
            <p class="ok" data-testid="demo-done">
              ✓ Demo complete in {elapsed} s.
            </p>
          )}
        </aside>
      )}
    </>
  );
}
