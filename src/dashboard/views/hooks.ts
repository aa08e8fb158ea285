// Hooks of the services views. useThrottledGet: a GET that the services, traffic and chart views
// re-read when their trigger changes (a new event for that service) or their interval passes,
// never more often than `minMs`. A 404 stops it: the route is not on this Grid (yet), and
// retrying would only fill the console with errors.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, ApiError } from '../lib/api.js';
import { useStore } from '../lib/store.js';

export interface Fetched<T> {
  data: T | null;
  /** 404: this Grid has no such route or object. */
  missing: boolean;
  error: string | null;
}

export function useThrottledGet<T>(path: string | null, trigger: unknown, opts: { minMs: number; everyMs?: number; enabled?: boolean }): Fetched<T> {
  const [out, setOut] = useState<Fetched<T>>({ data: null, missing: false, error: null });
  const last = useRef(-Infinity);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const inFlight = useRef(false);
  const stopped = useRef(false);
  const enabled = opts.enabled !== false && path !== null;

  const run = useRef<() => void>(() => {});
  run.current = () => {
    if (!path || stopped.current) return;
    if (inFlight.current) return;
    const wait = opts.minMs - (performance.now() - last.current);
    if (wait > 0) {
      if (!timer.current) timer.current = setTimeout(() => ((timer.current = null), run.current()), wait);
      return;
    }
    last.current = performance.now();
    inFlight.current = true;
    get<T>(path)
      .then((data) => setOut({ data, missing: false, error: null }))
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) {
          stopped.current = true;
          setOut((o) => ({ data: o.data, missing: true, error: e.message }));
        } else if ((e as Error).name !== 'AbortError') setOut((o) => ({ ...o, error: (e as Error).message }));
      })
      .finally(() => (inFlight.current = false));
  };

  useEffect(() => {
    stopped.current = false;
    last.current = -Infinity;
  }, [path]);

  useEffect(() => {
    if (enabled) run.current();
  }, [enabled, path, trigger]);

  useEffect(() => {
    if (!enabled || !opts.everyMs) return;
    const every = Math.max(opts.everyMs, opts.minMs);
    const tick = () => {
      if (document.visibilityState === 'visible') run.current();
    };
    let id: ReturnType<typeof setInterval> | undefined;
    // Each view starts its period at a random point, so 20 cards mounted together do not all re-read (and redraw) in one task.
    const start = setTimeout(() => (id = setInterval(tick, every)), Math.random() * every);
    return () => {
      clearTimeout(start);
      if (id) clearInterval(id);
    };
  }, [enabled, path, opts.everyMs]);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return out;
}

/** Whether the signed-in caller may act, and the tooltip for buttons that are disabled when not. */
export function useCanAct(): { canAct: boolean; why: string | undefined } {
  const me = useStore((s) => s.me);
  const canAct = !!me?.canAct;
  return { canAct, why: canAct ? undefined : `Read-only: ${me?.name ?? 'you'} ${me?.role === 'viewer' ? 'is a viewer' : 'cannot change state'}; sign in as an operator to act.` };
}

/** performance.now(), re-read every `everyMs` while `enabled` (a countdown that ticks on this page, between reads of the server). */
export function useNow(enabled: boolean, everyMs = 1000): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!enabled) return;
    setNow(performance.now());
    const id = setInterval(() => setNow(performance.now()), everyMs);
    return () => clearInterval(id);
  }, [enabled, everyMs]);
  return now;
}
